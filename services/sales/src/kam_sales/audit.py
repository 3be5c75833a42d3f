"""The sales audit trail replicates up (DESIGN §5: every write leaves an audit record, append-only,
replicated upward): each audit row travels as a `kam.v1.AuditRecorded` event (the message every service's
audit rows travel in) and is inserted once at each ancestor — rows are never changed, so there is no
version to compare, and no snapshot (what a late ancestor missed is in the owner's stream)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts.gen.kam.v1 import customer_pb2
from kam_platform.changes import audit_changes_json
from kam_platform.dataset import UpwardRecords
from kam_platform.outbox import from_ts, ts
from kam_platform.replication import Event, newest_per_aggregate
from kam_platform.settings import Settings
from kam_sales.models import SCHEMA, Audit


def audit_recorded(row: Audit) -> customer_pb2.AuditRecorded:
    return customer_pb2.AuditRecorded(
        id=str(row.id),
        owner_node=row.owner_node,
        entity_type=row.entity_type,
        entity_id=str(row.entity_id),
        action=row.action,
        actor=row.actor,
        at=ts(row.at or datetime.now(UTC)),
        changes_json=audit_changes_json(row),
        request_id=row.request_id or "",
        note=row.note or "",
    )


def audit_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, customer_pb2.AuditRecorded)
    return {
        "id": uuid.UUID(msg.id),
        "owner_node": msg.owner_node,
        "entity_type": msg.entity_type,
        "entity_id": uuid.UUID(msg.entity_id),
        "action": msg.action,
        "actor": msg.actor,
        "at": from_ts(msg.at) or datetime.now(UTC),
        "changes": json.loads(msg.changes_json or "{}"),
        "request_id": msg.request_id or None,
        "note": msg.note or None,
    }


def _record_of(msg: Message) -> tuple[str, str, int]:
    assert isinstance(msg, customer_pb2.AuditRecorded)
    return msg.id, msg.owner_node, 1


class AuditTrail(UpwardRecords[Audit]):
    """Up only, like the records audited; insert-once instead of a versioned upsert."""

    async def apply(self, session: AsyncSession, events: Sequence[Event]) -> list[dict[str, Any]]:
        rows = [self.to_row(ev.payload_as(self.message)) for ev in newest_per_aggregate(events)]
        if rows:
            await session.execute(insert(self.table).on_conflict_do_nothing(index_elements=["id"]), rows)
        return rows

    async def republish(self, session: AsyncSession, settings: Settings, *, down: bool = True) -> int:
        return 0


AUDIT_TRAIL = AuditTrail(
    name="audit",
    service="sales",
    schema=SCHEMA,
    model=Audit,
    message=customer_pb2.AuditRecorded,
    to_message=audit_recorded,
    to_row=audit_row,
    record_of=_record_of,
)
