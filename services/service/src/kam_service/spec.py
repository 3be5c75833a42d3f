"""The service service's self-description (entry point `kam.services: service`)."""

from kam_platform.service import NatsRole, ServiceSpec

SPEC = ServiceSpec(
    name="service",
    app="kam_service.main:create_app",
    routes=("/tmf-api/troubleTicket", "/api/v1/service"),
    migrations="kam_service:migrations",
    seed="kam_service.seed:seed",
    order=40,
    permissions={
        "service.ticket:read": "Read trouble tickets, their history, SLA and audit",
        "service.ticket:write": "Accept, handle, resolve and revisit trouble tickets at this node",
        "service.calendar:write": "Set this node's business calendar (working hours, holidays)",
    },
    grants={
        "sys_admin": ("service.ticket:read", "service.ticket:write", "service.calendar:write"),
        "ka_dept_manager": ("service.ticket:read", "service.ticket:write", "service.calendar:write"),
        "service_agent": ("service.ticket:read", "service.ticket:write"),
        "account_manager": ("service.ticket:read", "service.ticket:write"),
        "analyst": ("service.ticket:read",),
        "auditor": ("service.ticket:read",),
    },
    nats=NatsRole(),
    publishes=("trouble_ticket", "audit"),
    applies=("trouble_ticket", "audit"),
)
