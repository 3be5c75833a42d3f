"""A service describes itself: one `ServiceSpec`, found through the `kam.services` entry point.

Each service package exports its spec from a light module (no app import at load time) and names it in
its pyproject:

    [project.entry-points."kam.services"]
    example = "kam_example.spec:SPEC"

The node runtime, the gateway, `kam seed`, migrations and org's permission registry read the discovered
specs (`discover()`); nothing under libs/ imports a service package by name.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from kam_platform.topology import Topology

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

    `publishes`/`subscribes` are subject patterns relative to the node (e.g. `"up.*.customer.>"`).
    `manages_streams`: the service declares and watches the node's streams (the federation service): it
    connects as the NATS user that may create and update them (`kam-sync`), every other service as the
    plain services user. A process hosting several services gets the wider user when any needs it."""

    publishes: tuple[str, ...] = ()
    subscribes: tuple[str, ...] = ()
    manages_streams: bool = False


@dataclass(frozen=True)
class Companion:
    """A process the runtime starts beside a node's services: the simulator of an external system the
    service's adapter talks to (docs/adapters.md). It runs as ``python -m <module> --port <P> --data-dir
    <DIR> <args...>`` with the node's environment (``KAM_NODE``, ``KAM_PUBLIC_URL``), and every process
    hosting the node's services gets ``<url_env>=http://127.0.0.1:<P>``. A real deployment starts no
    companion and sets ``url_env`` to the real system."""

    name: str
    module: str
    url_env: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceSpec:
    """Everything the runtime needs to know about one service.

    Callables are given as `"module:attr"` references so that discovering specs imports no app code.

    - `app`: the app factory `create_app(settings: Settings | None = None) -> FastAPI`.
    - `migrations`: alembic script location (`"kam_example:migrations"`), None when the service keeps
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
    - `jwks`: the path of the JWKS this service publishes when it is the node's token issuer (identity
      provider). The runtime points every other service's `KAM_JWKS_URL` at it; the issuer itself
      verifies with its own keys and gets none.
    - `seed_provides`: option name → `"module:fn"`, `fn(database_url, node_code)` (sync or async): after
      this service's seed ran at a node, the value is passed as that keyword option to the seeders that
      follow and accept it (e.g. the identity service provides `account_managers`).
    - `cli`: `"module:register"`, `register(app: typer.Typer, ctx: CliContext)` adds the service's own
      `kam` commands (`kam import`, `kam sync ...`).
    - `companions`: processes started beside the node's services by `kam up` (`Companion`: an external
      system's simulator).
    - `hooks`: named capabilities other parts of the runtime use without naming the service, e.g.
      `{"issue_token": "kam_example.tokens:issue_token"}` (see `HOOKS` for the names the runtime knows).
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
    jwks: str | None = None
    seed_provides: Mapping[str, str] = field(default_factory=dict)
    cli: str | None = None
    hooks: Mapping[str, str] = field(default_factory=dict)
    companions: tuple[Companion, ...] = ()

    @property
    def app_module(self) -> str:
        """The module holding the app factory (what `uvicorn --factory module:create_app` names)."""
        return self.app.partition(":")[0]

    def create_app(self, *args: Any, **kwargs: Any) -> Any:
        return load_object(self.app)(*args, **kwargs)

    def serves(self, path: str) -> bool:
        return any(_prefix_matches(prefix, path) for prefix in self.routes)

    def permissions_digest(self) -> str:
        """A stable hash of what this spec registers with the permission registry (permissions and
        default grants): equal digests mean re-registering is a no-op."""
        body = {
            "permissions": dict(sorted(self.permissions.items())),
            "grants": {role: sorted(set(codes)) for role, codes in sorted(self.grants.items())},
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def hook(self, name: str) -> Callable[..., Any] | None:
        ref = self.hooks.get(name)
        return None if ref is None else load_object(ref)


class RunningFederation(Protocol):
    """What a service's `kam` commands may ask of a running federation (kam_cli's `Federation`)."""

    @property
    def topology(self) -> Topology: ...

    def node_url(self, code: str) -> str: ...

    def database_url(self, code: str) -> str: ...


class CliContext(Protocol):
    """What the `kam` command lends a service's commands (`ServiceSpec.cli`): its consoles, the running
    federation (exits with a message when none runs), node checks and operator tokens."""

    console: Any
    err: Any

    def attach(self, run_dir: Path | None) -> RunningFederation: ...

    def check_node(self, fed: RunningFederation, node: str) -> None: ...

    def token(self, fed: RunningFederation, node: str, user: str = "admin", scope: str | None = None) -> str: ...


# hooks the runtime calls by name (a service provides each at most once; the first in start order wins)
HOOKS = {
    "issue_token": "issue_token(database_url, node, username, topology, *, scope_node=None[, scope_level]) -> str "
    "(async): "
    "a bearer token for an existing user, no password (operator commands)",
    "after_migrate": "after_migrate(database_url, node, topology) (sync or async): runs at each node once "
    "every service's migrations ran there (the identity service registers the specs' permissions)",
    "status": "status(ctx, fed, nodes) -> printer | None: adds the service's part of `kam status` to each "
    "node's entry and returns what prints it",
}


def _prefix_matches(prefix: str, path: str) -> bool:
    """A route prefix matches whole path segments only (`/api/v1/ab` is not a prefix of `/api/v1/abc`)."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def route_table(specs: Mapping[str, ServiceSpec]) -> dict[str, str]:
    """Path prefix → service, from the specs' `routes`; two services claiming one prefix is an error."""
    table: dict[str, str] = {}
    for spec in specs.values():
        for prefix in spec.routes:
            if prefix in table and table[prefix] != spec.name:
                raise ValueError(f"route {prefix} is claimed by both {table[prefix]} and {spec.name}")
            table[prefix] = spec.name
    return table


def route(path: str, table: Mapping[str, str]) -> str | None:
    """The service serving `path`: the longest matching prefix wins."""
    best: tuple[int, str] | None = None
    for prefix, service in table.items():
        if _prefix_matches(prefix, path) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), service)
    return best[1] if best else None


def identity_provider(specs: Mapping[str, ServiceSpec]) -> ServiceSpec | None:
    """The service that issues the node's tokens and publishes its JWKS (None: tokens come from an
    external issuer configured by `KAM_JWKS_URL`)."""
    return next((s for s in specs.values() if s.jwks), None)


@functools.cache
def _discovered() -> tuple[ServiceSpec, ...]:
    return tuple(_load_specs())


def discover() -> dict[str, ServiceSpec]:
    """The installed services' specs by name, in start order (read once per process)."""
    return {s.name: s for s in _discovered()}


def _load_specs() -> list[ServiceSpec]:
    specs: list[ServiceSpec] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            spec = ep.load()
        except ImportError as exc:  # a broken install must not start a node without one of its services
            raise ImportError(f"service {ep.name}: entry point {ep.value} cannot be loaded: {exc}") from exc
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not a ServiceSpec")
        if spec.name != ep.name:
            raise ValueError(f"entry point {ep.name} names a spec called {spec.name}")
        specs.append(spec)
    specs.sort(key=lambda s: (s.order, s.name))
    return specs


def find_hook(name: str, specs: Mapping[str, ServiceSpec] | None = None) -> Callable[..., Any] | None:
    """The first service (in start order) that provides the named hook."""
    for spec in (specs if specs is not None else discover()).values():
        fn = spec.hook(name)
        if fn is not None:
            return fn
    return None
