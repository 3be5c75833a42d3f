"""The rules service's self-description (entry point `kam.services: rules`)."""

from kam_platform.service import NatsRole, ServiceSpec

SPEC = ServiceSpec(
    name="rules",
    app="kam_rules.main:create_app",
    routes=("/api/v1/rules",),
    migrations="kam_rules:migrations",
    seed="kam_rules.seed:seed",
    order=30,
    permissions={
        "rules:read": "Read rule sets and effective rules",
        "rules:write": "Draft, edit, publish and retire rule sets at this node",
        "rules:approve": "Approve another person's rule set",
    },
    grants={
        "sys_admin": ("rules:read", "rules:write", "rules:approve"),
        "ka_dept_manager": ("rules:read", "rules:write", "rules:approve"),
        "account_manager": ("rules:read",),
        "service_agent": ("rules:read",),
        "analyst": ("rules:read",),
        "auditor": ("rules:read",),
    },
    nats=NatsRole(),
    publishes=("rule_set",),
    applies=("rule_set",),
)
