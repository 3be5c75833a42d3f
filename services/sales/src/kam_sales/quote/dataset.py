"""Quotes on the wire: owned where created, travelling up only, applied by version."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import sales_pb2
from kam_platform.dataset import UpwardRecords
from kam_platform.outbox import from_ts, ts
from kam_sales.models import SCHEMA, Quote


def _id(v: uuid.UUID | None) -> str:
    return str(v) if v else ""


def _uuid(v: str) -> uuid.UUID | None:
    return uuid.UUID(v) if v else None


def message(r: Quote) -> sales_pb2.QuoteChanged:
    return sales_pb2.QuoteChanged(
        quote=sales_pb2.QuoteState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            number=r.number,
            quote_version=r.quote_version,
            name=r.name,
            description=r.description or "",
            customer_id=str(r.customer_id),
            opportunity_id=_id(r.opportunity_id),
            status=r.status,
            currency=r.currency,
            items_json=json.dumps(r.items, ensure_ascii=False),
            subtotal=str(r.subtotal),
            total=str(r.total),
            max_discount_percent=str(r.max_discount_percent),
            approval_required=r.approval_required,
            approval_rule=r.approval_rule or "",
            approved_by=r.approved_by or "",
            approval_note=r.approval_note or "",
            decided_at=ts(r.decided_at) if r.decided_at else None,
            valid_until=r.valid_until.isoformat() if r.valid_until else "",
            previous_id=_id(r.previous_id),
            superseded_by_id=_id(r.superseded_by_id),
            account_manager=r.account_manager,
            created_by=r.created_by,
            created_at=ts(r.created_at),
            updated_at=ts(r.updated_at),
        )
    )


def row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, sales_pb2.QuoteChanged)
    s = msg.quote
    updated = from_ts(s.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "number": s.number,
        "quote_version": s.quote_version,
        "name": s.name,
        "description": s.description or None,
        "customer_id": uuid.UUID(s.customer_id),
        "opportunity_id": _uuid(s.opportunity_id),
        "status": s.status,
        "currency": s.currency,
        "items": json.loads(s.items_json or "[]"),
        "subtotal": Decimal(s.subtotal or "0"),
        "total": Decimal(s.total or "0"),
        "max_discount_percent": Decimal(s.max_discount_percent or "0"),
        "approval_required": s.approval_required,
        "approval_rule": s.approval_rule or None,
        "approved_by": s.approved_by or None,
        "approval_note": s.approval_note or None,
        "decided_at": from_ts(s.decided_at),
        "valid_until": date.fromisoformat(s.valid_until) if s.valid_until else None,
        "previous_id": _uuid(s.previous_id),
        "superseded_by_id": _uuid(s.superseded_by_id),
        "account_manager": s.account_manager,
        "created_by": s.created_by,
        "created_at": from_ts(s.created_at) or updated,
        "updated_at": updated,
    }


QUOTES: UpwardRecords[Quote] = UpwardRecords(
    name="quote",
    service="sales",
    schema=SCHEMA,
    model=Quote,
    message=sales_pb2.QuoteChanged,
    to_message=message,
    to_row=row,
)
