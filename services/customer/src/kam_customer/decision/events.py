"""The contact relation's event (state transfer) and its replication kind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts import customer_pb2
from kam_customer.attached import Kind, dataset
from kam_platform.outbox import from_ts, ts

from .models import ContactRelation


def relation_changed(r: ContactRelation) -> customer_pb2.ContactRelationChanged:
    return customer_pb2.ContactRelationChanged(
        relation=customer_pb2.ContactRelationState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            customer_id=str(r.customer_id),
            from_contact_id=str(r.from_contact_id),
            to_contact_id=str(r.to_contact_id),
            relation_type=r.relation_type,
            note=r.note or "",
            deleted=r.deleted_at is not None,
            updated_at=ts(r.updated_at),
        )
    )


def relation_row(m: Message) -> dict[str, Any]:
    assert isinstance(m, customer_pb2.ContactRelationChanged)
    r = m.relation
    at = from_ts(r.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(r.id),
        "owner_node": r.owner_node,
        "version": r.version,
        "customer_id": uuid.UUID(r.customer_id),
        "from_contact_id": uuid.UUID(r.from_contact_id),
        "to_contact_id": uuid.UUID(r.to_contact_id),
        "relation_type": r.relation_type,
        "note": r.note or None,
        "deleted_at": at if r.deleted else None,
        "created_at": at,
        "updated_at": at,
    }


RELATIONS = Kind(
    dataset("contact_relation", ContactRelation, customer_pb2.ContactRelationChanged, relation_changed, relation_row),
    customer_of=lambda m: str(getattr(m, "relation").customer_id),  # noqa: B009
)
