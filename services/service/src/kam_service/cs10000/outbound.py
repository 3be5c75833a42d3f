"""Queueing a message to the 10000 system in the transaction of the change it reports (the durable
outbound queue; the sender delivers it at least once). Other domains call `ticket_changed`; this module
imports no other domain's service, so tickets may import it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_service.models import TroubleTicket
from kam_service.models.cs10000 import CsOutbound

from .schemas import MsgType

CS_PREFIX = "CS10000-"  # a ticket opened by TICKET_CREATE: externalId = CS10000-<cs_ticket_no>
CS_CHANNEL = "CS_10000"


async def enqueue(
    session: AsyncSession,
    *,
    msg_type: MsgType,
    key: str,
    order_key: str,
    payload: dict[str, Any],
    now: datetime,
    correlation_id: str | None = None,
) -> bool:
    """Queue one message; a key already queued is not queued again (False)."""
    stmt = (
        insert(CsOutbound)
        .values(
            idempotency_key=key,
            msg_type=msg_type.value,
            order_key=order_key,
            correlation_id=correlation_id,
            payload=payload,
            status="PENDING",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[CsOutbound.idempotency_key])
        .returning(CsOutbound.seq)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def last_payload(session: AsyncSession, order_key: str) -> dict[str, Any] | None:
    """The newest message queued for `order_key` (a list sync that changed nothing is not sent again)."""
    stmt = select(CsOutbound.payload).where(CsOutbound.order_key == order_key).order_by(CsOutbound.seq.desc()).limit(1)
    found: dict[str, Any] | None = (await session.execute(stmt)).scalar_one_or_none()
    return found


def is_from_cs(t: TroubleTicket) -> bool:
    return t.channel == CS_CHANNEL or (t.external_id or "").startswith(CS_PREFIX)


def ticket_update_payload(t: TroubleTicket) -> dict[str, Any]:
    last = (t.status_change or [{}])[-1]
    return {
        "ticket_no": str(t.id),
        "cs_ticket_no": (t.external_id or "")[len(CS_PREFIX) :]
        if (t.external_id or "").startswith(CS_PREFIX)
        else None,
        "customer_code": t.customer_code,
        "status": t.status,
        "handler": t.handler,
        "notes": last.get("reason"),
        "closed_at": t.closed_at.isoformat() if t.closed_at else None,
        "customer_confirmation": True if t.status == "closed" else None,
        "score": t.satisfaction_score,
        "version": t.version,
        "owner_node": t.owner_node,
    }


async def ticket_changed(session: AsyncSession, t: TroubleTicket, *, now: datetime) -> None:
    """TICKET_UPDATE (CRM → CS) for a ticket the 10000 system knows (its channel or its number), once
    per ticket version; in order per ticket."""
    if not is_from_cs(t):
        return
    await enqueue(
        session,
        msg_type=MsgType.TICKET_UPDATE,
        key=f"TICKET_UPDATE:{t.id}:v{t.version}",
        order_key=f"ticket:{t.id}",
        payload=ticket_update_payload(t),
        now=now,
        correlation_id=t.external_id,
    )


def new_key(prefix: str) -> str:
    return f"{prefix}:{uuid.uuid4().hex}"
