"""A service describes itself: one `ServiceSpec`, found through the `kam.services` entry point.

Each service package exports its spec from a light module (no app import at load time) and names it in
its pyproject:

    [project.entry-points."kam.services"]
    customer = "kam_customer.spec:SPEC"

The node runtime, the gateway, `kam seed`, migrations and org's permission registry read the discovered
specs (`discover()`); nothing under libs/ imports a service package by name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "kam.services"


def load_object(ref: str) -> Any:
    """`"package.module:attr"` → the attribute (imported on first use)."""
    module_name, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class NatsRole:
    """What a service's NATS user may do beyond the replication rails every service shares.

    `publishes`/`subscribes` are subject patterns relative to the node (e.g. `"up.*.customer.>"`)."""

    publishes: tuple[str, ...] = ()
    subscribes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceSpec:
    """Everything the runtime needs to know about one service.

    Callables are given as `"module:attr"` references so that discovering specs imports no app code.

    - `app`: the app factory `create_app(settings: Settings | None = None) -> FastAPI`.
    - `migrations`: alembic script location (`"kam_customer:migrations"`), None when the service keeps
      no tables.
    - `routes`: path prefixes the service serves (the longest matching prefix routes a request).
    - `seed`: `seed(database_url, node_code, topology, **options)` (sync or async), demo data.
    - `permissions`: code → description of the permissions this service defines (`resource:action`).
    - `grants`: role code → permission codes given to that standard role by default.
    - `nats`: its NATS role.
    - `publishes`/`applies`: the event types (aggregate names) it writes to its outbox / applies from
      replicated streams.
    - `order`: start order (lower first; the identity service starts first: the others verify tokens
      against its JWKS). Seeds run in the same order.
    - `hooks`: named capabilities other parts of the runtime use without naming the service, e.g.
      `{"issue_token": "kam_org.tokens:issue_token"}`.
    """

    name: str
    app: str
    routes: tuple[str, ...] = ()
    migrations: str | None = None
    seed: str | None = None
    permissions: Mapping[str, str] = field(default_factory=dict)
    grants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    nats: NatsRole = field(default_factory=NatsRole)
    publishes: tuple[str, ...] = ()
    applies: tuple[str, ...] = ()
    order: int = 50
    hooks: Mapping[str, str] = field(default_factory=dict)

    def create_app(self, *args: Any, **kwargs: Any) -> Any:
        return load_object(self.app)(*args, **kwargs)

    def hook(self, name: str) -> Callable[..., Any] | None:
        ref = self.hooks.get(name)
        return None if ref is None else load_object(ref)


def discover() -> dict[str, ServiceSpec]:
    """The installed services' specs by name, in start order."""
    specs: list[ServiceSpec] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = ep.load()
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not a ServiceSpec")
        if spec.name != ep.name:
            raise ValueError(f"entry point {ep.name} names a spec called {spec.name}")
        specs.append(spec)
    specs.sort(key=lambda s: (s.order, s.name))
    return {s.name: s for s in specs}


def find_hook(name: str, specs: Mapping[str, ServiceSpec] | None = None) -> Callable[..., Any] | None:
    """The first service (in start order) that provides the named hook."""
    for spec in (specs if specs is not None else discover()).values():
        fn = spec.hook(name)
        if fn is not None:
            return fn
    return None
