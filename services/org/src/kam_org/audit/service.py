"""Every write leaves an audit record: who, when, what changed (old → new)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.api import Caller
from kam_org.audit.repository import AuditRepository
from kam_org.models import Audit
from kam_platform.audit import diff


def record(
    session: AsyncSession,
    *,
    caller: Caller,
    entity_type: str,
    entity_id: uuid.UUID,
    action: str,
    old: dict[str, Any],
    new: dict[str, Any],
    note: str | None = None,
) -> None:
    AuditRepository.from_session(session).add(
        Audit(
            owner_node=caller.node,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            actor=caller.actor,
            changes=diff(old, new),
            request_id=caller.request_id,
            note=note,
        )
    )
