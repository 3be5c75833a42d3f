"""The service service's self-description (entry point `kam.services: service`)."""

from kam_platform.service import Companion, NatsRole, ServiceSpec

TICKETS_ALL = ("service.ticket:read", "service.ticket:write", "service.calendar:write", "service.queue:write")
KNOWLEDGE_ALL = ("service.knowledge:read", "service.knowledge:write", "service.knowledge:review")
DOCUMENTS_ALL = ("service.document:read", "service.document:write")
CARE_ALL = ("service.care:read", "service.care:write")
EXPERT_ALL = ("service.expert:read", "service.expert:write", "service.expert:request")
KNOWLEDGE_CONTRIBUTOR = ("service.knowledge:read", "service.knowledge:write")
CS10000_ALL = ("service.cs10000:call", "service.cs10000:admin")

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
        "service.knowledge:read": "Read and search the knowledge base and contributions",
        "service.knowledge:write": "Author, publish, revise and retire knowledge items; contribute from below",
        "service.knowledge:review": "Review another person's knowledge item; take up or decline a contribution",
        "service.queue:write": "Configure this node's assignment queues (team, skill, members, rule)",
        "service.document:read": "Read documents (F4) in scope and their files",
        "service.document:write": "Create documents, upload file versions, change and delete documents at this node",
        "service.care:read": "Read care plans and activities (客户关怀) and contact schemes (联系方案)",
        "service.care:write": "Plan care, record its cost and feedback, keep contact schemes at this node",
        "service.expert:read": "Read the expert pools and expert requests; give the outcome of one's own assignment",
        "service.expert:write": "Manage this node's expert pool and assign experts to requests",
        "service.expert:request": "Ask for an expert on a customer's case; close or cancel the request",
        "service.hub:admin": "Remove any trouble ticket event listener in scope, not only one's own",
        "service.cs10000:call": "The customer-service system (10000): KA_LOOKUP and inbound interface messages",
        "service.cs10000:admin": "Register service numbers, run KA_LIST_SYNC, read the 10000 queue and reconciliation",
    },
    grants={
        "sys_admin": (*TICKETS_ALL, *KNOWLEDGE_ALL, *CS10000_ALL, *DOCUMENTS_ALL, *CARE_ALL, *EXPERT_ALL),
        "ka_dept_manager": (*TICKETS_ALL, *KNOWLEDGE_ALL, *CS10000_ALL, *DOCUMENTS_ALL, *CARE_ALL, *EXPERT_ALL),
        "service_agent": (
            "service.ticket:read",
            "service.ticket:write",
            "service.knowledge:read",
            "service.cs10000:call",
            *DOCUMENTS_ALL,
            "service.care:read",
            "service.expert:read",
        ),
        "account_manager": (
            "service.ticket:read",
            "service.ticket:write",
            *KNOWLEDGE_CONTRIBUTOR,
            *DOCUMENTS_ALL,
            *CARE_ALL,
            "service.expert:read",
            "service.expert:request",
        ),
        "analyst": (
            "service.ticket:read",
            "service.knowledge:read",
            "service.document:read",
            "service.care:read",
            "service.expert:read",
        ),
        "auditor": (
            "service.ticket:read",
            "service.knowledge:read",
            "service.document:read",
            "service.care:read",
            "service.expert:read",
        ),
    },
    nats=NatsRole(),
    # the customer-service system (10000) simulator beside every node under `kam up` (docs/adapters.md)
    companions=(Companion(name="sim10000", module="kam_sim10000", url_env="KAM_CS10000_URL"),),
    publishes=(
        "trouble_ticket",
        "ticket_dispatch",
        "knowledge_item",
        "knowledge_contribution",
        "cs_service_number",
        "document",
        "document_chunk",
        "care_plan",
        "care_activity",
        "expert",
        "expert_request",
        "contact_scheme",
        "audit",
    ),
    applies=(
        "trouble_ticket",
        "ticket_dispatch",
        "knowledge_item",
        "knowledge_contribution",
        "cs_service_number",
        "document",
        "document_chunk",
        "care_plan",
        "care_activity",
        "expert",
        "expert_request",
        "contact_scheme",
        "audit",
    ),
)
