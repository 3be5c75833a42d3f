"""The needs profile's event (state transfer) and its replication kind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts import customer_pb2
from kam_customer.attached import Kind, dataset
from kam_platform.outbox import from_ts, ts

from .models import NeedsProfile
from .schemas import FIELDS


def profile_changed(p: NeedsProfile) -> customer_pb2.NeedsProfileChanged:
    state = customer_pb2.NeedsProfileState(
        id=str(p.id),
        owner_node=p.owner_node,
        version=p.version,
        customer_id=str(p.customer_id),
        updated_by=p.updated_by,
        updated_at=ts(p.updated_at),
    )
    for col in FIELDS.values():
        setattr(state, col, getattr(p, col) or "")
    return customer_pb2.NeedsProfileChanged(profile=state)


def profile_row(m: Message) -> dict[str, Any]:
    assert isinstance(m, customer_pb2.NeedsProfileChanged)
    p = m.profile
    at = from_ts(p.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(p.id),
        "owner_node": p.owner_node,
        "version": p.version,
        "customer_id": uuid.UUID(p.customer_id),
        "updated_by": p.updated_by,
        "created_at": at,
        "updated_at": at,
        **{col: getattr(p, col) or None for col in FIELDS.values()},
    }


NEEDS = Kind(
    dataset("needs_profile", NeedsProfile, customer_pb2.NeedsProfileChanged, profile_changed, profile_row),
    customer_of=lambda m: str(getattr(m, "profile").customer_id),  # noqa: B009
)
