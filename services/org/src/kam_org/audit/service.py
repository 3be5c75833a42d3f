"""Every write leaves an audit record: who, when, what changed (old → new) — appended with the event
that replicates it up the tree (DESIGN §5: audit is append-only and replicated upward).

`CHANGES` is the org service's `kam_platform.changes.ChangeLog`: a change to a staff member, team, org
unit or role goes through `CHANGES.record_change` (version, outbox event, audit row and its event in one
call); `record` audits what is not a versioned aggregate (logins, bootstrap, the permission registry).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_org.api import Caller
from kam_org.models import SCHEMA, Audit
from kam_platform.audit import AuditMixin, diff
from kam_platform.changes import ChangeLog, audit_changes_json
from kam_platform.outbox import ts


def audit_recorded(row: AuditMixin) -> customer_pb2.AuditRecorded:
    """The message an audit row travels in: the one the customer service's audit rows use
    (kam.v1.AuditRecorded), with the row as stored, so every replica holds the same row."""
    return customer_pb2.AuditRecorded(
        id=str(row.id),
        owner_node=row.owner_node,
        entity_type=row.entity_type,
        entity_id=str(row.entity_id),
        action=row.action,
        actor=row.actor,
        at=ts(row.at),
        changes_json=audit_changes_json(row),
        request_id=row.request_id or "",
        note=row.note or "",
    )


CHANGES = ChangeLog(schema=SCHEMA, service="org", audit_model=Audit, audit_event=audit_recorded)


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
) -> AuditMixin:
    """An audit record (and its event) of something that is not a versioned aggregate."""
    return await CHANGES.audit(
        session,
        node=caller.node,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=caller.actor,
        changes=diff(old, new),
        note=note,
    )
