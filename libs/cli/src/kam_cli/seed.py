"""Demo data for a running federation, through the services' own seed functions.

Each service may provide `kam_<svc>.seed.seed(database_url, node_code, topology, **options)` (sync or
async; `database_url` in `postgresql+asyncpg://` form). They are imported lazily: a service without a
seed module is skipped with a warning. Nodes are seeded root first, org before customer (account
managers are staff).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from kam_cli.runtime import Federation, call_blocking

SEEDERS: dict[str, str] = {
    "org": "kam_org.seed",
    "customer": "kam_customer.seed",
}


def _load(module_name: str) -> Callable[..., Any] | None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None
        raise
    fn = getattr(module, "seed", None)
    return fn if callable(fn) else None


def _invoke(fn: Callable[..., Any], fed: Federation, code: str, kwargs: dict[str, Any]) -> None:
    result = fn(fed.database_url(code), code, fed.topology, **kwargs)
    if inspect.isawaitable(result):

        async def wait() -> None:
            await result

        asyncio.run(wait())


def seed_federation(fed: Federation, *, customers: int = 50, warn: Callable[[str], None] = print) -> list[str]:
    """Seed every node; returns the seeders that ran (e.g. `["org", "customer"]`)."""
    ran: list[str] = []
    for service, module_name in SEEDERS.items():
        if service not in fed.services:
            continue
        fn = _load(module_name)
        if fn is None:
            warn(f"warning: {module_name}.seed is not available; {service} data not seeded")
            continue
        accepts_customers = "customers" in inspect.signature(fn).parameters
        for node in fed.topology.ordered():
            # front-line local networks hold most key accounts; provinces and the group a few of their own
            per_node = customers if not fed.topology.children(node.code) else max(customers // 10, 1)
            kwargs: dict[str, Any] = {"customers": per_node} if accepts_customers else {}
            call_blocking(functools.partial(_invoke, fn, fed, node.code, kwargs))
        ran.append(service)
    return ran
