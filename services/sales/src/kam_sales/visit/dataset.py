"""Visits on the wire: owned where planned, travelling up only, applied by version."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import sales_pb2
from kam_platform.dataset import UpwardRecords
from kam_platform.outbox import from_ts, ts
from kam_sales.models import SCHEMA, Visit


def message(r: Visit) -> sales_pb2.VisitChanged:
    return sales_pb2.VisitChanged(
        visit=sales_pb2.VisitState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            customer_id=str(r.customer_id),
            opportunity_id=str(r.opportunity_id) if r.opportunity_id else "",
            subject=r.subject,
            purpose=r.purpose or "",
            location=r.location or "",
            status=r.status,
            planned_at=ts(r.planned_at),
            visited_at=ts(r.visited_at) if r.visited_at else None,
            participants_json=json.dumps(r.participants, ensure_ascii=False),
            outcome=r.outcome or "",
            minutes=r.minutes or "",
            follow_ups_json=json.dumps(r.follow_ups, ensure_ascii=False),
            account_manager=r.account_manager,
            created_by=r.created_by,
            created_at=ts(r.created_at),
            updated_at=ts(r.updated_at),
        )
    )


def row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, sales_pb2.VisitChanged)
    s = msg.visit
    updated = from_ts(s.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "customer_id": uuid.UUID(s.customer_id),
        "opportunity_id": uuid.UUID(s.opportunity_id) if s.opportunity_id else None,
        "subject": s.subject,
        "purpose": s.purpose or None,
        "location": s.location or None,
        "status": s.status,
        "planned_at": from_ts(s.planned_at) or updated,
        "visited_at": from_ts(s.visited_at),
        "participants": json.loads(s.participants_json or "[]"),
        "outcome": s.outcome or None,
        "minutes": s.minutes or None,
        "follow_ups": json.loads(s.follow_ups_json or "[]"),
        "account_manager": s.account_manager,
        "created_by": s.created_by,
        "created_at": from_ts(s.created_at) or updated,
        "updated_at": updated,
    }


VISITS: UpwardRecords[Visit] = UpwardRecords(
    name="visit",
    service="sales",
    schema=SCHEMA,
    model=Visit,
    message=sales_pb2.VisitChanged,
    to_message=message,
    to_row=row,
)
