"""A service number's wire form (ServiceNumberChanged, full state) and its dataset: replicated up like
tickets (versioned upsert, owner = origin, snapshot on a resync), never down."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.dataset import Dataset
from kam_platform.outbox import ts
from kam_service.models import SCHEMA
from kam_service.models.cs10000 import ServiceNumber

SERVICE = "service"
AGGREGATE = "cs_service_number"


def number_message(n: ServiceNumber) -> service_pb2.ServiceNumberChanged:
    return service_pb2.ServiceNumberChanged(
        number=service_pb2.ServiceNumberState(
            id=str(n.id),
            owner_node=n.owner_node,
            version=n.version,
            number=n.number,
            customer_id=str(n.customer_id),
            customer_code=n.customer_code,
            customer_name=n.customer_name,
            grade=n.grade,
            account_manager=n.account_manager or "",
            priority_routing=n.priority_routing,
            status=n.status,
            created_at=ts(n.created_at),
            updated_at=ts(n.updated_at),
        )
    )


def number_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.ServiceNumberChanged)
    s = msg.number
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "number": s.number,
        "customer_id": uuid.UUID(s.customer_id),
        "customer_code": s.customer_code,
        "customer_name": s.customer_name,
        "grade": s.grade,
        "account_manager": s.account_manager or None,
        "priority_routing": s.priority_routing,
        "status": s.status,
        "created_at": s.created_at.ToDatetime(tzinfo=UTC),
        "updated_at": s.updated_at.ToDatetime(tzinfo=UTC) if s.updated_at.seconds else datetime.now(UTC),
    }


NUMBERS: Dataset[ServiceNumber] = Dataset(
    name=AGGREGATE,
    service=SERVICE,
    schema=SCHEMA,
    model=ServiceNumber,
    message=service_pb2.ServiceNumberChanged,
    to_message=number_message,
    to_row=number_row,
)
