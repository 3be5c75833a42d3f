"""Demo data for a running federation, through the services' own seeders (`ServiceSpec.seed`).

A seeder is `seed(database_url, node_code, topology, **options)` (sync or async; `database_url` in
`postgresql+asyncpg://` form). Seeders run in start order (the identity service first: account
managers are staff), and a node is seeded root first. Options a seeder accepts come from the caller
(`customers`) and from the services seeded before it at that node (`ServiceSpec.seed_provides`, e.g.
the identity service's `account_managers`); an option a seeder does not accept is not passed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from kam_cli.runtime import Federation, call_blocking, run_to_completion
from kam_platform.service import ServiceSpec, load_object
from kam_platform.topology import Topology


def _accepted(fn: Callable[..., Any], options: Mapping[str, Any]) -> dict[str, Any]:
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(options)
    return {k: v for k, v in options.items() if k in params}


def seed_service(spec: ServiceSpec, database_url: str, node: str, topology: Topology, options: dict[str, Any]) -> bool:
    """Run one service's seeder at one node, then add what it provides to `options` for the seeders
    that follow. False when the service has no seeder."""
    if spec.seed is None:
        return False
    fn: Callable[..., Any] = load_object(spec.seed)
    run_to_completion(fn, database_url, node, topology, **_accepted(fn, options))
    for option, ref in spec.seed_provides.items():
        options[option] = run_to_completion(load_object(ref), database_url, node)
    return True


def seed_node(
    specs: Mapping[str, ServiceSpec], database_url: str, node: str, topology: Topology, **options: Any
) -> list[str]:
    """Seed one node with every service's seeder in start order; returns the seeders that ran."""
    provided = dict(options)
    return [name for name, spec in specs.items() if seed_service(spec, database_url, node, topology, provided)]


def seed_federation(fed: Federation, *, customers: int = 50, warn: Callable[[str], None] = print) -> list[str]:
    """Seed every node, root first; returns the services whose seeders ran (in start order)."""
    ran = [name for name, spec in fed.specs.items() if spec.seed is not None]
    for node in fed.topology.ordered():
        # front-line local networks hold most key accounts; provinces and the group a few of their own
        per_node = customers if not fed.topology.children(node.code) else max(customers // 10, 1)
        call_blocking(
            functools.partial(
                seed_node, fed.specs, fed.database_url(node.code), node.code, fed.topology, customers=per_node
            )
        )
    if not ran:
        warn("warning: no installed service has a seeder; nothing seeded")
    return ran
