"""The interface's messages (REQUIREMENTS.md §5 envelope, §5.2 7.4.4 fields, snake_case as the interface
documents them) and the adapter's API models."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kam_platform.api import ApiModel, ReadModel
from kam_service.ticket.states import Status, TicketType

Key = Annotated[str, Field(min_length=1, max_length=200)]
Text64 = Annotated[str, Field(min_length=1, max_length=64)]


class MsgType(StrEnum):
    KA_LIST_SYNC = "KA_LIST_SYNC"  # 大客户名单, CRM → CS
    TICKET_CREATE = "TICKET_CREATE"  # CS → CRM
    TICKET_UPDATE = "TICKET_UPDATE"  # both ways
    SURVEY_RESULT = "SURVEY_RESULT"  # 回访结果, CS → CRM


INBOUND = frozenset({MsgType.TICKET_CREATE, MsgType.TICKET_UPDATE, MsgType.SURVEY_RESULT})

_DIGITS = re.compile(r"\D")


def normalise_number(raw: str) -> str | None:
    """Digits only, without the country prefix (+86 / 0086): `+86 138-0013-8000` → `13800138000`,
    `020-8765 4321` → `02087654321`. None when it is not a phone or circuit access number."""
    text = raw.strip()
    digits = _DIGITS.sub("", text)
    if text.startswith("+86"):
        digits = digits[2:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits if 5 <= len(digits) <= 20 else None


class Message(BaseModel):
    """The interface envelope: one shape for every message type, both ways."""

    model_config = ConfigDict(extra="forbid")

    msg_id: Key  # the idempotency key: a repeat is answered as the first was
    msg_type: MsgType
    version: Annotated[str, Field(max_length=16)] = "1.0"
    source: Text64
    target: Text64
    sent_at: datetime
    correlation_id: Annotated[str | None, Field(max_length=200)] = None
    payload: dict[str, Any]


class Ack(BaseModel):
    """The answer to a message: ACK with what it produced (a NACK is the TMF error envelope, its `code`
    the reason, with the HTTP status)."""

    msg_id: str
    status: Literal["ACK"] = "ACK"
    code: str = "OK"
    duplicate: bool = False
    result: dict[str, Any] = Field(default_factory=dict)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketCreatePayload(_Payload):
    cs_ticket_no: Text64
    customer_code: Annotated[str | None, Field(max_length=32)] = None
    calling_number: Annotated[str | None, Field(max_length=32)] = None
    type: TicketType
    title: Annotated[str | None, Field(max_length=200)] = None
    description: Annotated[str, Field(max_length=4000)] = ""
    contact: Annotated[str | None, Field(max_length=100)] = None
    priority: Literal["CRITICAL", "HIGH", "MEDIUM", "LOW"] = "MEDIUM"
    created_at: datetime | None = None


class TicketUpdatePayload(_Payload):
    """CS → CRM: `ticket_no` (KAM's id) or `cs_ticket_no`; a status move, a handler, notes, or the
    customer's confirmation of a resolved ticket (true closes it, false reopens it)."""

    ticket_no: Annotated[str | None, Field(max_length=64)] = None
    cs_ticket_no: Annotated[str | None, Field(max_length=64)] = None
    status: Status | None = None
    handler: Annotated[str | None, Field(max_length=64)] = None
    notes: Annotated[str | None, Field(max_length=1000)] = None
    closed_at: datetime | None = None
    customer_confirmation: bool | None = None
    score: Annotated[int | None, Field(ge=1, le=5)] = None


class SurveyResultPayload(_Payload):
    ticket_no: Annotated[str | None, Field(max_length=64)] = None
    cs_ticket_no: Annotated[str | None, Field(max_length=64)] = None
    customer_code: Annotated[str | None, Field(max_length=32)] = None
    score: Annotated[int, Field(ge=1, le=5)]
    comments: Annotated[str | None, Field(max_length=1000)] = None
    satisfied: bool | None = None  # default: score >= 3


# --- the adapter's own API ---------------------------------------------------------------------------


class ServiceNumberPut(ApiModel):
    """Register (or re-point) a key account's service number at this node."""

    customer_id: Annotated[str, Field(min_length=1, max_length=64)]
    priority_routing: bool = True


class ServiceNumberRead(ReadModel):
    id: str
    href: str
    number: str
    owner_node: str
    version: int
    customer_id: str
    customer_code: str
    customer_name: str
    grade: str
    account_manager: str | None = None
    priority_routing: bool
    status: str
    updated_at: datetime
    type_: Annotated[str, Field(alias="@type")] = "ServiceNumber"

    @field_validator("id", "customer_id", mode="before")
    @classmethod
    def _str(cls, v: Any) -> str:
        return str(v)


class OpenTicketRead(ReadModel):
    id: str
    name: str
    ticket_type: str
    status: str
    priority: str
    owner_node: str
    external_id: str | None = None
    creation_date: datetime


class LookupRead(ReadModel):
    """KA_LOOKUP (大客户识别): who is calling."""

    calling_number: str
    found: bool
    customer_id: str | None = None
    customer_code: str | None = None
    customer_name: str | None = None
    grade: str | None = None
    account_manager: str | None = None
    priority_routing: bool = False
    owner_node: str | None = None
    open_tickets: list[OpenTicketRead] = Field(default_factory=list)


class KaListSyncRead(ReadModel):
    customers: int
    refreshed: int
    queued: int


class OutboundRead(ReadModel):
    seq: int
    idempotency_key: str
    msg_type: str
    order_key: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None
    created_at: datetime
    acked_at: datetime | None = None
    payload: dict[str, Any]


class ReconcileRequest(ApiModel):
    day: date


class MismatchRead(ReadModel):
    idempotency_key: str
    msg_type: str
    problem: str  # NOT_ACKNOWLEDGED / REFUSED / NOT_RECEIVED / UNKNOWN_AT_CS
    status: str | None = None
    attempts: int | None = None
    last_error: str | None = None


class ReconciliationRead(ReadModel):
    day: date
    queued: int
    acked: int
    mismatches: list[MismatchRead]
    ran_at: datetime
