"""Sales leads on the wire: owned where created, travelling up only, applied by version."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import sales_pb2
from kam_platform.dataset import UpwardRecords
from kam_platform.outbox import from_ts, ts
from kam_sales.models import SCHEMA, SalesLead


def message(r: SalesLead) -> sales_pb2.SalesLeadChanged:
    return sales_pb2.SalesLeadChanged(
        sales_lead=sales_pb2.SalesLeadState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            name=r.name,
            description=r.description or "",
            status=r.status,
            rating=r.rating,
            source=r.source,
            customer_id=str(r.customer_id) if r.customer_id else "",
            prospect_name=r.prospect_name or "",
            estimated_revenue=str(r.estimated_revenue) if r.estimated_revenue is not None else "",
            currency=r.currency,
            products_json=json.dumps(r.products, ensure_ascii=False),
            account_manager=r.account_manager,
            status_reason=r.status_reason or "",
            opportunity_id=str(r.opportunity_id) if r.opportunity_id else "",
            created_by=r.created_by,
            created_at=ts(r.created_at),
            updated_at=ts(r.updated_at),
        )
    )


def row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, sales_pb2.SalesLeadChanged)
    s = msg.sales_lead
    updated = from_ts(s.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "name": s.name,
        "description": s.description or None,
        "status": s.status,
        "rating": s.rating,
        "source": s.source,
        "customer_id": uuid.UUID(s.customer_id) if s.customer_id else None,
        "prospect_name": s.prospect_name or None,
        "estimated_revenue": Decimal(s.estimated_revenue) if s.estimated_revenue else None,
        "currency": s.currency,
        "products": json.loads(s.products_json or "[]"),
        "account_manager": s.account_manager,
        "status_reason": s.status_reason or None,
        "opportunity_id": uuid.UUID(s.opportunity_id) if s.opportunity_id else None,
        "created_by": s.created_by,
        "created_at": from_ts(s.created_at) or updated,
        "updated_at": updated,
    }


LEADS: UpwardRecords[SalesLead] = UpwardRecords(
    name="sales_lead",
    service="sales",
    schema=SCHEMA,
    model=SalesLead,
    message=sales_pb2.SalesLeadChanged,
    to_message=message,
    to_row=row,
)
