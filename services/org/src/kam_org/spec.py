"""The org service's self-description (entry point `kam.services: org`).

Org is the node's identity provider (tokens, JWKS) and keeps the role and permission catalogue; the
permissions below are org's own, registered like every other service's (kam_org.registry).
"""

from kam_platform.service import ServiceSpec

PERMISSIONS = {
    "org.node:read": "Read the node tree (组织节点查询)",
    "org.staff:read": "Read staff (员工查询)",
    "org.staff:write": "Create, change and deactivate staff (员工维护)",
    "org.role:read": "Read roles and permissions (角色查询)",
    "org.role:write": "Administer roles (角色维护)",
    "org.team:read": "Read org units and teams (团队查询)",
    "org.team:write": "Administer org units and teams (团队维护)",
    "org.security:admin": "Grant PII and security permissions to roles (安全管理员授权)",
}

GRANTS = {
    "sys_admin": (
        "org.node:read",
        "org.staff:read",
        "org.staff:write",
        "org.role:read",
        "org.role:write",
        "org.team:read",
        "org.team:write",
    ),
    "security_admin": ("org.security:admin", "org.role:read", "org.role:write", "org.node:read"),
    "ka_dept_manager": ("org.node:read", "org.staff:read", "org.team:read"),
    "account_manager": ("org.node:read",),
    "service_agent": ("org.node:read",),
    "analyst": ("org.node:read",),
    "auditor": ("org.node:read", "org.staff:read", "org.role:read"),
}

SPEC = ServiceSpec(
    name="org",
    app="kam_org.main:create_app",
    routes=("/api/v1/org", "/api/v1/auth", "/.well-known"),
    migrations="kam_org:migrations",
    seed="kam_org.seed:seed",
    seed_provides={"account_managers": "kam_org.seed:list_account_managers"},
    order=0,
    jwks="/.well-known/jwks.json",
    permissions=PERMISSIONS,
    grants=GRANTS,
    publishes=("staff", "team", "org_unit", "role", "audit"),
    applies=("staff", "team", "org_unit", "audit"),
    cli="kam_org.commands:register",  # kam admin create --node CODE (bootstrap administrator)
    hooks={
        "issue_token": "kam_org.tokens:issue_token",
        "after_migrate": "kam_org.registry.service:register_installed",
    },
)
