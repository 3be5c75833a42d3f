"""The org service's self-description (entry point `kam.services: org`)."""

from kam_platform.service import ServiceSpec

SPEC = ServiceSpec(
    name="org",
    app="kam_org.main:create_app",
    routes=("/api/v1/org", "/api/v1/auth", "/.well-known"),
    migrations="kam_org:migrations",
    seed="kam_org.seed:seed",
    order=0,
    publishes=("staff", "team", "org_unit", "role"),
    hooks={
        "issue_token": "kam_org.tokens:issue_token",
        "list_account_managers": "kam_org.seed:list_account_managers",
    },
)
