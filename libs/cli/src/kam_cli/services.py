"""Which services a node runs, and which paths each one serves.

Adding a service is one line in SERVICES and its prefixes in ROUTES. The order of SERVICES is the start
order (org first: the other services verify tokens against its JWKS).
"""

from __future__ import annotations

# service name → module with `create_app(settings=None)` and `MIGRATIONS`
SERVICES: dict[str, str] = {
    "org": "kam_org.main",
    "customer": "kam_customer.main",
    "sync": "kam_sync.main",
}

# path prefix → service; the longest matching prefix wins (used by the gateway and the node app)
ROUTES: dict[str, str] = {
    "/api/v1/org": "org",
    "/api/v1/auth": "org",
    "/.well-known": "org",
    "/tmf-api/customerManagement": "customer",
    "/tmf-api/party": "customer",
    "/api/v1/customer": "customer",
    "/api/v1/sync": "sync",
}

# the service whose /metrics answers at a node's root in one-process-per-node mode
# (the Prometheus registry is per process, so any one of them shows all)
METRICS_SERVICE = "org"


def route(path: str, routes: dict[str, str] | None = None) -> str | None:
    """The service serving `path`, or None. A prefix matches whole segments only."""
    table = ROUTES if routes is None else routes
    best: tuple[int, str] | None = None
    for prefix, service in table.items():
        if (path == prefix or path.startswith(prefix.rstrip("/") + "/")) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), service)
    return best[1] if best else None


def jwks_path() -> str:
    return "/.well-known/jwks.json"
