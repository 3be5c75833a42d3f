"""Experts (a downward dataset of the group and provinces: their expert pools serve the subtree) and
expert requests (owned where made, travelling up) on the wire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.dataset import Dataset, UpwardRecords
from kam_platform.outbox import from_ts
from kam_service.models import SCHEMA
from kam_service.models.care import Expert, ExpertRequest
from kam_service.ticket.events import SERVICE, _ts

EXPERT = "expert"
REQUEST = "expert_request"


def expert_message(e: Expert) -> service_pb2.ExpertChanged:
    return service_pb2.ExpertChanged(
        expert=service_pb2.ExpertState(
            id=str(e.id),
            owner_node=e.owner_node,
            version=e.version,
            username=e.username,
            name=e.name,
            domains=list(e.domains),
            industries=list(e.industries),
            is_active=e.is_active,
            created_at=_ts(e.created_at),
            updated_at=_ts(e.updated_at),
        )
    )


def expert_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.ExpertChanged)
    s = msg.expert
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "username": s.username,
        "name": s.name,
        "domains": list(s.domains),
        "industries": list(s.industries),
        "is_active": s.is_active,
        "created_at": from_ts(s.created_at) or now,
        "updated_at": from_ts(s.updated_at) or now,
    }


def request_message(r: ExpertRequest) -> service_pb2.ExpertRequestChanged:
    return service_pb2.ExpertRequestChanged(
        request=service_pb2.ExpertRequestState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            subject=r.subject,
            description=r.description or "",
            domain=r.domain,
            industry=r.industry or "",
            customer_id=str(r.customer_id),
            customer_name=r.customer_name,
            account_manager=r.account_manager or "",
            requested_by=r.requested_by,
            status=r.status,
            expert_id=str(r.expert_id) if r.expert_id else "",
            expert_name=r.expert_name or "",
            outcome_summary=r.outcome_summary or "",
            outcome_document_id=str(r.outcome_document_id) if r.outcome_document_id else "",
            created_at=_ts(r.created_at),
            updated_at=_ts(r.updated_at),
        )
    )


def request_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.ExpertRequestChanged)
    s = msg.request
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "subject": s.subject,
        "description": s.description,
        "domain": s.domain,
        "industry": s.industry or None,
        "customer_id": uuid.UUID(s.customer_id),
        "customer_name": s.customer_name,
        "account_manager": s.account_manager or None,
        "requested_by": s.requested_by,
        "status": s.status,
        "expert_id": uuid.UUID(s.expert_id) if s.expert_id else None,
        "expert_name": s.expert_name or None,
        "outcome_summary": s.outcome_summary or None,
        "outcome_document_id": uuid.UUID(s.outcome_document_id) if s.outcome_document_id else None,
        "created_at": from_ts(s.created_at) or now,
        "updated_at": from_ts(s.updated_at) or now,
    }


EXPERTS: Dataset[Expert] = Dataset(
    name=EXPERT,
    service=SERVICE,
    schema=SCHEMA,
    model=Expert,
    message=service_pb2.ExpertChanged,
    to_message=expert_message,
    to_row=expert_row,
)

REQUESTS: UpwardRecords[ExpertRequest] = UpwardRecords(
    name=REQUEST,
    service=SERVICE,
    schema=SCHEMA,
    model=ExpertRequest,
    message=service_pb2.ExpertRequestChanged,
    to_message=request_message,
    to_row=request_row,
)
