"""Opportunities on the wire, and their replication: owned where created, travelling up only (to the
owner's ancestors, so the group sees the country's pipeline), applied by version."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import sales_pb2
from kam_platform.dataset import UpwardRecords
from kam_platform.outbox import from_ts, ts
from kam_sales.models import SCHEMA, Opportunity

R = TypeVar("R")


def message(r: Opportunity) -> sales_pb2.OpportunityChanged:
    return sales_pb2.OpportunityChanged(
        opportunity=sales_pb2.OpportunityState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            customer_id=str(r.customer_id),
            name=r.name,
            description=r.description or "",
            source=r.source,
            stage=r.stage,
            probability=r.probability,
            probability_rule=r.probability_rule,
            expected_amount=str(r.expected_amount),
            currency=r.currency,
            close_date=r.close_date.isoformat() if r.close_date else "",
            competitor=r.competitor or "",
            account_manager=r.account_manager,
            close_reason=r.close_reason or "",
            products_json=json.dumps(r.products, ensure_ascii=False),
            decision_chain_json=json.dumps(r.decision_chain, ensure_ascii=False),
            stage_history_json=json.dumps(r.stage_history, ensure_ascii=False),
            next_follow_up_at=ts(r.next_follow_up_at) if r.next_follow_up_at else None,
            follow_up_note=r.follow_up_note or "",
            created_by=r.created_by,
            created_at=ts(r.created_at),
            updated_at=ts(r.updated_at),
            closed_at=ts(r.closed_at) if r.closed_at else None,
        )
    )


def row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, sales_pb2.OpportunityChanged)
    s = msg.opportunity
    updated = from_ts(s.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "customer_id": uuid.UUID(s.customer_id),
        "name": s.name,
        "description": s.description or None,
        "source": s.source,
        "stage": s.stage,
        "probability": s.probability,
        "probability_rule": s.probability_rule,
        "expected_amount": Decimal(s.expected_amount or "0"),
        "currency": s.currency,
        "close_date": date.fromisoformat(s.close_date) if s.close_date else None,
        "competitor": s.competitor or None,
        "account_manager": s.account_manager,
        "close_reason": s.close_reason or None,
        "products": json.loads(s.products_json or "[]"),
        "decision_chain": json.loads(s.decision_chain_json or "[]"),
        "stage_history": json.loads(s.stage_history_json or "[]"),
        "next_follow_up_at": from_ts(s.next_follow_up_at),
        "follow_up_note": s.follow_up_note or None,
        "created_by": s.created_by,
        "created_at": from_ts(s.created_at) or updated,
        "updated_at": updated,
        "closed_at": from_ts(s.closed_at),
    }


OPPORTUNITIES: UpwardRecords[Opportunity] = UpwardRecords(
    name="opportunity",
    service="sales",
    schema=SCHEMA,
    model=Opportunity,
    message=sales_pb2.OpportunityChanged,
    to_message=message,
    to_row=row,
)
