"""Contracts on the wire: owned where created, travelling up only, applied by version."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import sales_pb2
from kam_platform.dataset import UpwardRecords
from kam_platform.outbox import from_ts, ts
from kam_sales.models import SCHEMA, Agreement


def _id(v: uuid.UUID | None) -> str:
    return str(v) if v else ""


def _uuid(v: str) -> uuid.UUID | None:
    return uuid.UUID(v) if v else None


def message(r: Agreement) -> sales_pb2.AgreementChanged:
    return sales_pb2.AgreementChanged(
        agreement=sales_pb2.AgreementState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            number=r.number,
            agreement_version=r.agreement_version,
            name=r.name,
            description=r.description or "",
            customer_id=str(r.customer_id),
            status=r.status,
            signed_date=r.signed_date.isoformat() if r.signed_date else "",
            start_date=r.start_date.isoformat(),
            end_date=r.end_date.isoformat(),
            amount=str(r.amount),
            currency=r.currency,
            terms=r.terms or "",
            opportunity_id=_id(r.opportunity_id),
            quote_id=r.quote_id or "",
            sla_reference=r.sla_reference or "",
            renewal_status=r.renewal_status,
            previous_id=_id(r.previous_id),
            renewed_by_id=_id(r.renewed_by_id),
            account_manager=r.account_manager,
            created_by=r.created_by,
            created_at=ts(r.created_at),
            updated_at=ts(r.updated_at),
        )
    )


def row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, sales_pb2.AgreementChanged)
    s = msg.agreement
    updated = from_ts(s.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "number": s.number,
        "agreement_version": s.agreement_version,
        "name": s.name,
        "description": s.description or None,
        "customer_id": uuid.UUID(s.customer_id),
        "status": s.status,
        "signed_date": date.fromisoformat(s.signed_date) if s.signed_date else None,
        "start_date": date.fromisoformat(s.start_date),
        "end_date": date.fromisoformat(s.end_date),
        "amount": Decimal(s.amount or "0"),
        "currency": s.currency,
        "terms": s.terms or None,
        "opportunity_id": _uuid(s.opportunity_id),
        "quote_id": s.quote_id or None,
        "sla_reference": s.sla_reference or None,
        "renewal_status": s.renewal_status,
        "previous_id": _uuid(s.previous_id),
        "renewed_by_id": _uuid(s.renewed_by_id),
        "account_manager": s.account_manager,
        "created_by": s.created_by,
        "created_at": from_ts(s.created_at) or updated,
        "updated_at": updated,
    }


AGREEMENTS: UpwardRecords[Agreement] = UpwardRecords(
    name="agreement",
    service="sales",
    schema=SCHEMA,
    model=Agreement,
    message=sales_pb2.AgreementChanged,
    to_message=message,
    to_row=row,
)
