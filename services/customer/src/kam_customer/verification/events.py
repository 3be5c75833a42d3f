"""The verification's event (state transfer, owned by the verifying node) and its replication kind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts import customer_pb2
from kam_customer.attached import Kind, dataset
from kam_platform.outbox import from_ts, ts

from .models import CustomerVerification


def verification_changed(v: CustomerVerification) -> customer_pb2.CustomerVerificationChanged:
    return customer_pb2.CustomerVerificationChanged(
        verification=customer_pb2.CustomerVerificationState(
            id=str(v.id),
            owner_node=v.owner_node,
            version=v.version,
            customer_id=str(v.customer_id),
            customer_owner_node=v.customer_owner_node,
            status=v.status,
            reason=v.reason or "",
            verified_by=v.verified_by,
            customer_version=v.customer_version,
            updated_at=ts(v.updated_at),
        )
    )


def verification_row(m: Message) -> dict[str, Any]:
    assert isinstance(m, customer_pb2.CustomerVerificationChanged)
    v = m.verification
    at = from_ts(v.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(v.id),
        "owner_node": v.owner_node,
        "version": v.version,
        "customer_id": uuid.UUID(v.customer_id),
        "customer_owner_node": v.customer_owner_node,
        "status": v.status,
        "reason": v.reason or None,
        "verified_by": v.verified_by,
        "customer_version": v.customer_version,
        "created_at": at,
        "updated_at": at,
    }


# flows down from the verifying province to its subtree (the local network sees its verdict) and up
VERIFICATIONS = Kind(
    dataset(
        "customer_verification",
        CustomerVerification,
        customer_pb2.CustomerVerificationChanged,
        verification_changed,
        verification_row,
    ),
    customer_of=lambda m: str(getattr(m, "verification").customer_id),  # noqa: B009
)
