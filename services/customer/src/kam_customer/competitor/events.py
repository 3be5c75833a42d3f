"""Competitor presence's event (state transfer) and its replication kind."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts import customer_pb2
from kam_customer.attached import Kind, dataset, iso_date
from kam_platform.outbox import from_ts, ts

from .models import CompetitorPresence


def presence_changed(p: CompetitorPresence) -> customer_pb2.CompetitorPresenceChanged:
    return customer_pb2.CompetitorPresenceChanged(
        presence=customer_pb2.CompetitorPresenceState(
            id=str(p.id),
            owner_node=p.owner_node,
            version=p.version,
            customer_id=str(p.customer_id),
            competitor=p.competitor,
            products_held=list(p.products_held or []),
            offers=p.offers or "",
            contract_end=p.contract_end.isoformat() if p.contract_end else "",
            source=p.source or "",
            observed_on=p.observed_on.isoformat(),
            note=p.note or "",
            deleted=p.deleted_at is not None,
            updated_at=ts(p.updated_at),
        )
    )


def presence_row(m: Message) -> dict[str, Any]:
    assert isinstance(m, customer_pb2.CompetitorPresenceChanged)
    p = m.presence
    at = from_ts(p.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(p.id),
        "owner_node": p.owner_node,
        "version": p.version,
        "customer_id": uuid.UUID(p.customer_id),
        "competitor": p.competitor,
        "products_held": list(p.products_held),
        "offers": p.offers or None,
        "contract_end": iso_date(p.contract_end),
        "source": p.source or None,
        "observed_on": iso_date(p.observed_on) or date.today(),
        "note": p.note or None,
        "deleted_at": at if p.deleted else None,
        "created_at": at,
        "updated_at": at,
    }


COMPETITORS = Kind(
    dataset(
        "competitor_presence",
        CompetitorPresence,
        customer_pb2.CompetitorPresenceChanged,
        presence_changed,
        presence_row,
    ),
    customer_of=lambda m: str(getattr(m, "presence").customer_id),  # noqa: B009
)
