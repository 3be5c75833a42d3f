"""Which services a node runs, and which paths each one serves: read from the installed services'
specs (`kam.services` entry points, kam_platform.service), never listed here.

Adding a service adds its spec; nothing in this module changes. `SPECS` is in start order (the
identity provider first: the other services verify tokens against its JWKS).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kam_platform.service import ServiceSpec, discover, identity_provider, route_table
from kam_platform.service import route as _route

SPECS: dict[str, ServiceSpec] = discover()

# service name → module with `create_app(settings=None)`
SERVICES: dict[str, str] = {name: spec.app_module for name, spec in SPECS.items()}

# path prefix → service; the longest matching prefix wins (used by the gateway and the node app)
ROUTES: dict[str, str] = route_table(SPECS)

# the service whose /metrics answers at a node's root in one-process-per-node mode (the Prometheus
# registry is per process, so any one of them shows all): the first to start
METRICS_SERVICE: str | None = next(iter(SPECS), None)


def specs_for(names: Iterable[str] | None) -> dict[str, ServiceSpec]:
    """The specs of the named services (all installed ones for None), in start order."""
    if names is None:
        return dict(SPECS)
    wanted = set(names)
    unknown = sorted(wanted - set(SPECS))
    if unknown:
        raise KeyError(f"no installed service named {', '.join(unknown)}; installed: {', '.join(SPECS)}")
    return {name: spec for name, spec in SPECS.items() if name in wanted}


def route(path: str, routes: Mapping[str, str] | None = None) -> str | None:
    """The service serving `path`, or None. A prefix matches whole segments only."""
    return _route(path, ROUTES if routes is None else routes)


def identity_service(specs: Mapping[str, ServiceSpec] | None = None) -> ServiceSpec | None:
    """The service that issues tokens and publishes the node's JWKS, if the node runs one."""
    return identity_provider(SPECS if specs is None else specs)
