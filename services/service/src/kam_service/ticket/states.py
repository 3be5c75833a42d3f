"""The vocabulary of a trouble ticket and its status machine (TMF621 statuses) with the closed loop
(闭环): resolved → the customer confirms on a revisit (closed, with the satisfaction survey) or is
dissatisfied (reopened to inProgress)."""

from __future__ import annotations

from enum import StrEnum


class TicketType(StrEnum):
    COMPLAINT = "COMPLAINT"  # 投诉
    FAULT = "FAULT"  # 故障
    CONSULTATION = "CONSULTATION"  # 咨询
    CHANGE_REQUEST = "CHANGE_REQUEST"  # 变更


class Channel(StrEnum):
    HOTLINE = "HOTLINE"
    CS_10000 = "CS_10000"  # the customer-service system (10000)
    ACCOUNT_MANAGER = "ACCOUNT_MANAGER"
    EMAIL = "EMAIL"
    WEB = "WEB"


class Priority(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Status(StrEnum):
    ACKNOWLEDGED = "acknowledged"  # 已受理
    IN_PROGRESS = "inProgress"  # 处理中
    PENDING = "pending"  # 待客户反馈: the SLA clock is paused
    RESOLVED = "resolved"  # 已解决, awaiting the customer's confirmation
    CLOSED = "closed"  # 已关闭 (confirmed by the customer)
    REJECTED = "rejected"
    CANCELLED = "cancelled"


# the transitions a PATCH may ask for; closing goes through a revisit (POST …/revisit)
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.ACKNOWLEDGED: frozenset(
        {Status.IN_PROGRESS, Status.PENDING, Status.RESOLVED, Status.REJECTED, Status.CANCELLED}
    ),
    Status.IN_PROGRESS: frozenset({Status.PENDING, Status.RESOLVED, Status.CANCELLED}),
    Status.PENDING: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.RESOLVED: frozenset(),  # only a revisit: closed or reopened
    Status.CLOSED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.CANCELLED: frozenset(),
}
FINISHED = frozenset({Status.CLOSED, Status.REJECTED, Status.CANCELLED})
# the SLA's resolution clock stops here (a reopen starts it again)
STOPPED = FINISHED | {Status.RESOLVED}

# the ticket types of the SLA rule's timers (rules kind "sla": COMPLAINT / FAULT / REQUEST)
RULE_TYPE: dict[TicketType, str] = {
    TicketType.COMPLAINT: "COMPLAINT",
    TicketType.FAULT: "FAULT",
    TicketType.CONSULTATION: "REQUEST",
    TicketType.CHANGE_REQUEST: "REQUEST",
}


def allowed(status: str) -> list[str]:
    return sorted(s.value for s in TRANSITIONS[Status(status)])
