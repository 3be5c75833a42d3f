"""The sync service's self-description (entry point `kam.services: sync`)."""

from kam_platform.service import NatsRole, ServiceSpec

PERMISSIONS = {
    "sync:read": "Read replication status (同步状态查询)",
    "sync:admin": "Request a resync of the node (同步重建)",
}

GRANTS = {
    "sys_admin": ("sync:read", "sync:admin"),
    "ka_dept_manager": ("sync:read",),
    "analyst": ("sync:read",),
    "auditor": ("sync:read",),
}

SPEC = ServiceSpec(
    name="sync",
    app="kam_sync.main:create_app",
    routes=("/api/v1/sync",),
    migrations="kam_sync:migrations",
    cli="kam_sync.commands:register",
    order=90,
    permissions=PERMISSIONS,
    grants=GRANTS,
    nats=NatsRole(manages_streams=True),
    publishes=("resync",),
    hooks={"status": "kam_sync.commands:status"},
)
