"""The sales service's self-description (entry point `kam.services: sales`)."""

from kam_platform.service import NatsRole, ServiceSpec

PERMISSIONS = {
    "sales.catalog:read": "Read the product catalogue (产品目录)",
    "sales.catalog:write": "Author catalogue items at this node (the group or a province)",
    "sales.hub:admin": "Remove anyone's catalogue event listener (/hub) in scope",
    "sales.opportunity:read": "Read opportunities (销售机会) and leads (线索) in scope",
    "sales.opportunity:write": "Create and work opportunities and leads at this node",
    "sales.campaign:read": "Read campaigns (营销活动), their targets and evaluation",
    "sales.campaign:write": "Author, launch and close campaigns at this node",
    "sales.campaign:approve": "Approve a campaign (not one's own)",
    "sales.quote:read": "Read quotes (报价) in scope",
    "sales.quote:write": "Draft, submit and revise quotes at this node",
    "sales.quote:approve": "Approve or reject a quote's discount (the account manager's manager)",
    "sales.agreement:read": "Read contracts (合同) and their expiry reminders in scope",
    "sales.agreement:write": "Draft, sign, renew and terminate contracts at this node",
}


SPEC = ServiceSpec(
    name="sales",
    app="kam_sales.main:create_app",
    routes=(
        "/tmf-api/productCatalogManagement/v4",
        "/tmf-api/sales/v4",
        "/tmf-api/agreementManagement/v4",
        "/tmf-api/quoteManagement/v4",
        "/api/v1/sales",
    ),
    migrations="kam_sales:migrations",
    seed="kam_sales.seed:seed",
    order=40,
    permissions=PERMISSIONS,
    grants={
        "sys_admin": tuple(PERMISSIONS),
        "ka_dept_manager": tuple(PERMISSIONS),
        "account_manager": (
            "sales.catalog:read",
            "sales.opportunity:read",
            "sales.opportunity:write",
            "sales.campaign:read",
            "sales.quote:read",
            "sales.quote:write",
            "sales.agreement:read",
            "sales.agreement:write",
        ),
        "service_agent": ("sales.catalog:read", "sales.agreement:read"),
        "analyst": (
            "sales.catalog:read",
            "sales.opportunity:read",
            "sales.campaign:read",
            "sales.quote:read",
            "sales.agreement:read",
        ),
        "auditor": ("sales.catalog:read", "sales.opportunity:read", "sales.quote:read", "sales.agreement:read"),
    },
    nats=NatsRole(),
    publishes=(
        "catalog_item",
        "opportunity",
        "sales_lead",
        "agreement",
        "quote",
        "visit",
        "campaign",
        "campaign_target_list",
        "campaign_response",
        "audit",
    ),
    applies=(
        "catalog_item",
        "opportunity",
        "sales_lead",
        "agreement",
        "quote",
        "visit",
        "campaign",
        "campaign_target_list",
        "campaign_response",
        "audit",
    ),
)
