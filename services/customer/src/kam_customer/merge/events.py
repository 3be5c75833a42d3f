"""The merge record's event (state transfer, owned by the node that merged) and its replication kind."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts import customer_pb2
from kam_customer.attached import Kind, dataset
from kam_platform.outbox import from_ts, ts

from .models import CustomerMerge


def merge_changed(m: CustomerMerge) -> customer_pb2.CustomerMergeChanged:
    return customer_pb2.CustomerMergeChanged(
        merge=customer_pb2.CustomerMergeState(
            id=str(m.id),
            owner_node=m.owner_node,
            version=m.version,
            survivor_id=str(m.survivor_id),
            victim_ids=[str(v) for v in m.victim_ids],
            status=m.status,
            choices_json=json.dumps(m.choices, ensure_ascii=False, sort_keys=True),
            merged_by=m.merged_by,
            reversible_until=ts(m.reversible_until),
            updated_at=ts(m.updated_at),
        )
    )


def merge_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, customer_pb2.CustomerMergeChanged)
    m = msg.merge
    at = from_ts(m.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(m.id),
        "owner_node": m.owner_node,
        "version": m.version,
        "survivor_id": uuid.UUID(m.survivor_id),
        "victim_ids": [uuid.UUID(v) for v in m.victim_ids],
        "status": m.status,
        "choices": json.loads(m.choices_json) if m.choices_json else {},
        "undo": {},  # what to reverse stays at the owner, the only node that may reverse
        "merged_by": m.merged_by,
        "reversible_until": from_ts(m.reversible_until) or at,
        "created_at": at,
        "updated_at": at,
    }


# flows up with the customers it joined: an ancestor's GET of a victim redirects to the survivor too
MERGES = Kind(
    dataset("customer_merge", CustomerMerge, customer_pb2.CustomerMergeChanged, merge_changed, merge_row),
    customer_of=lambda m: str(getattr(m, "merge").survivor_id),  # noqa: B009
)
