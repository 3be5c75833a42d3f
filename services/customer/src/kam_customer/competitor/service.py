"""Competitor presence rules: recorded per key account at the customer's owner, edited and removed
there, every version audited; read within the caller's scope, per customer or across customers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer import attached
from kam_customer.customer import events as customer_events
from kam_customer.models import Audit
from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.changes import lock
from kam_platform.errors import NotFound, ValidationFailed
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery

from . import events
from .models import CompetitorPresence
from .repository import CompetitorRepository
from .schemas import CompetitorPresenceCreate, CompetitorPresenceUpdate

AGGREGATE = "competitor_presence"
COLUMNS = {
    "competitor": "competitor",
    "productsHeld": "products_held",
    "offers": "offers",
    "contractEnd": "contract_end",
    "source": "source",
    "observedOn": "observed_on",
    "note": "note",
}


def snapshot(p: CompetitorPresence) -> dict[str, Any]:
    return {api: getattr(p, col) for api, col in COLUMNS.items()}


async def page(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[CompetitorPresence], int]:
    return await CompetitorRepository.from_session(session).page(principal, settings.topology, lq)


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, presence_id: uuid.UUID
) -> CompetitorPresence:
    p = await CompetitorRepository.from_session(session).get_visible(presence_id, principal, settings.topology)
    if p is None:
        raise NotFound(f"competitor presence {presence_id} not found")
    assert isinstance(p, CompetitorPresence)
    return p


async def create(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    customer_id: uuid.UUID,
    data: CompetitorPresenceCreate,
) -> CompetitorPresence:
    c = await attached.owned_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    now = datetime.now(UTC)
    p = CompetitorPresence(
        owner_node=c.owner_node,
        customer_id=c.id,
        version=1,
        competitor=data.competitor,
        products_held=list(dict.fromkeys(data.products_held)),
        offers=data.offers,
        contract_end=data.contract_end,
        source=data.source,
        observed_on=data.observed_on or date.today(),
        note=data.note,
        created_at=now,
        updated_at=now,
    )
    session.add(p)
    await customer_events.record_change(
        session,
        p,
        aggregate_type=AGGREGATE,
        actor=principal.username,
        action="create",
        changes=diff({}, snapshot(p)),
        created=True,
        event=events.presence_changed,
    )
    return p


async def _lock_owned(
    session: AsyncSession, *, settings: Settings, principal: Principal, presence_id: uuid.UUID
) -> CompetitorPresence:
    seen = await get_visible(session, settings=settings, principal=principal, presence_id=presence_id)
    await attached.owned_customer(session, settings=settings, principal=principal, customer_id=seen.customer_id)
    p = await lock(session, CompetitorPresence, presence_id)
    if p is None:
        raise NotFound(f"competitor presence {presence_id} not found")
    return p


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    presence_id: uuid.UUID,
    patch: CompetitorPresenceUpdate,
    present: set[str],
) -> CompetitorPresence:
    p = await _lock_owned(session, settings=settings, principal=principal, presence_id=presence_id)
    before = snapshot(p)
    for api, col in COLUMNS.items():
        if api not in present:
            continue
        value = getattr(patch, col)
        if value is None and api in ("competitor", "observedOn"):
            raise ValidationFailed(f"{api}: cannot be cleared", field=api)
        if api == "productsHeld":
            value = list(dict.fromkeys(value or []))
        setattr(p, col, value)
    changes = diff(before, snapshot(p))
    if changes:
        await customer_events.record_change(
            session,
            p,
            aggregate_type=AGGREGATE,
            actor=principal.username,
            action="update",
            changes=changes,
            event=events.presence_changed,
        )
    return p


async def delete(session: AsyncSession, *, settings: Settings, principal: Principal, presence_id: uuid.UUID) -> None:
    p = await _lock_owned(session, settings=settings, principal=principal, presence_id=presence_id)
    p.deleted_at = datetime.now(UTC)
    await customer_events.record_change(
        session,
        p,
        aggregate_type=AGGREGATE,
        actor=principal.username,
        action="delete",
        changes={"deleted": [False, True]},
        event=events.presence_changed,
    )


async def history(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    presence_id: uuid.UUID,
    offset: int,
    limit: int,
) -> tuple[Sequence[Audit], int]:
    p = await get_visible(session, settings=settings, principal=principal, presence_id=presence_id)
    return await attached.history_of(session, AGGREGATE, [p.id], offset, limit)


async def check_customer(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> None:
    """404 unless the caller may see the customer (the per-customer list)."""
    await attached.visible_customer(session, settings=settings, principal=principal, customer_id=customer_id)
