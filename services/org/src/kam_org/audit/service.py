"""Every write leaves an audit record: who, when, what changed (old → new) — appended with the event
that replicates it up the tree (DESIGN §5: audit is append-only and replicated upward)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_org.api import Caller
from kam_org.audit.repository import AuditRepository
from kam_org.models import SCHEMA, Audit
from kam_platform.audit import diff
from kam_platform.ids import uuid7
from kam_platform.outbox import add_event, ts


async def record(
    session: AsyncSession,
    *,
    caller: Caller,
    entity_type: str,
    entity_id: uuid.UUID,
    action: str,
    old: dict[str, Any],
    new: dict[str, Any],
    note: str | None = None,
) -> Audit:
    # id and time set here, not by column defaults, so the event carries the stored values and every
    # replica holds the same row as the owner
    row = Audit(
        id=uuid7(),
        at=datetime.now(UTC),
        owner_node=caller.node,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=caller.actor,
        changes=diff(old, new),
        request_id=caller.request_id,
        note=note,
    )
    AuditRepository.from_session(session).add(row)
    # the audit message is the one the customer service's audit rows travel in (kam.v1.AuditRecorded)
    message = customer_pb2.AuditRecorded(
        id=str(row.id),
        owner_node=row.owner_node,
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        actor=row.actor,
        at=ts(row.at),
        changes_json=json.dumps(row.changes, ensure_ascii=False),
        request_id=row.request_id or "",
        note=row.note or "",
    )
    await add_event(
        session,
        schema=SCHEMA,
        node=row.owner_node,
        service="org",
        aggregate_type="audit",
        aggregate_id=str(row.id),
        version=1,
        message=message,
        actor=row.actor,
        defer=True,
    )
    return row
