"""The sales service's self-description (entry point `kam.services: sales`)."""

from kam_platform.service import NatsRole, ServiceSpec

SPEC = ServiceSpec(
    name="sales",
    app="kam_sales.main:create_app",
    routes=("/tmf-api/productCatalogManagement/v4", "/api/v1/sales"),
    migrations="kam_sales:migrations",
    seed="kam_sales.seed:seed",
    order=40,
    permissions={
        "sales.catalog:read": "Read the product catalogue (产品目录)",
        "sales.catalog:write": "Author catalogue items at this node (the group or a province)",
        "sales.opportunity:read": "Read opportunities (销售机会) in scope",
        "sales.opportunity:write": "Create and work opportunities at this node",
    },
    grants={
        "sys_admin": ("sales.catalog:read", "sales.catalog:write", "sales.opportunity:read", "sales.opportunity:write"),
        "ka_dept_manager": (
            "sales.catalog:read",
            "sales.catalog:write",
            "sales.opportunity:read",
            "sales.opportunity:write",
        ),
        "account_manager": ("sales.catalog:read", "sales.opportunity:read", "sales.opportunity:write"),
        "service_agent": ("sales.catalog:read",),
        "analyst": ("sales.catalog:read", "sales.opportunity:read"),
        "auditor": ("sales.catalog:read", "sales.opportunity:read"),
    },
    nats=NatsRole(),
    publishes=("catalog_item", "opportunity"),
    applies=("catalog_item", "opportunity"),
)
