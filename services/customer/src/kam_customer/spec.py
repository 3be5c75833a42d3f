"""The customer service's self-description (entry point `kam.services: customer`)."""

from kam_platform.service import NatsRole, ServiceSpec

PERMISSIONS = {
    "customer:read": "Read key accounts (客户查询)",
    "customer:create": "Create key accounts (客户新建)",
    "customer:update": "Update key accounts (客户修改)",
    "customer:delete": "Delete key accounts (客户删除)",
    "customer:import": "Import key accounts (客户导入)",
    "customer:export": "Export key accounts (客户导出)",
    "customer:transfer": "Transfer key accounts between nodes or account managers (客户移交)",
    "customer.pii:read": "See unmasked contact PII (查看敏感信息)",
    "customer.history:read": "Read customer change history (客户历史)",
    "customer.designation:write": "Designate national key accounts (全国大客户名录下发)",
    "customer.designation:respond": "Acknowledge or dispute a designation, assign its account manager (名录确认)",
    "customer.hub:admin": "Remove any TMF /hub listener in scope (事件订阅管理)",
    "customer.verification:write": "Verify or return the key accounts a local network entered (省级核实)",
    "customer:merge": "Merge duplicate key accounts and reverse a merge (客户合并)",
}

GRANTS = {
    "sys_admin": ("customer:read", "customer.history:read"),
    "ka_dept_manager": (
        "customer:read",
        "customer:create",
        "customer:update",
        "customer:delete",
        "customer:import",
        "customer:export",
        "customer:transfer",
        "customer.pii:read",
        "customer.history:read",
        "customer.designation:write",
        "customer.designation:respond",
        "customer.verification:write",
        "customer:merge",
    ),
    "account_manager": (
        "customer:read",
        "customer:create",
        "customer:update",
        "customer:export",
        "customer:import",
        "customer.pii:read",
        "customer.history:read",
        "customer.designation:respond",
    ),
    "service_agent": ("customer:read", "customer.history:read"),
    "analyst": ("customer:read", "customer:export"),
    "auditor": ("customer:read", "customer.history:read"),
}

AGGREGATES = (
    "customer",
    "organization",
    "contact",
    "assignment",
    "designation",
    "designation_response",
    # F1 (issue 14)
    "needs_profile",
    "competitor_presence",
    "contact_relation",
    "customer_verification",
    "customer_merge",
)

SPEC = ServiceSpec(
    name="customer",
    app="kam_customer.main:create_app",
    routes=("/tmf-api/customerManagement", "/tmf-api/party", "/api/v1/customer"),
    migrations="kam_customer:migrations",
    seed="kam_customer.seed:seed",
    seed_provides={"key_accounts": "kam_customer.seed:list_key_accounts"},
    cli="kam_customer.commands:register",
    order=20,
    permissions=PERMISSIONS,
    grants=GRANTS,
    nats=NatsRole(),
    publishes=AGGREGATES,
    applies=AGGREGATES,
)
