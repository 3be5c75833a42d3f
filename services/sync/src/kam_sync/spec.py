"""The sync service's self-description (entry point `kam.services: sync`)."""

from kam_platform.service import ServiceSpec

SPEC = ServiceSpec(
    name="sync",
    app="kam_sync.main:create_app",
    routes=("/api/v1/sync",),
    migrations="kam_sync:migrations",
    order=90,
    publishes=("resync",),
)
