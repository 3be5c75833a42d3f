"""Needs profile rules: one profile per key account, written at the customer's owner by whoever may
update the customer (the account manager, within the portfolio), every version audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer import attached
from kam_customer.customer import events as customer_events
from kam_customer.models import Audit
from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.settings import Settings

from . import events
from .models import NeedsProfile
from .repository import NeedsRepository
from .schemas import FIELDS, NeedsProfileUpdate

AGGREGATE = "needs_profile"


def snapshot(p: NeedsProfile | None) -> dict[str, Any]:
    return {api: (getattr(p, col) if p is not None else None) for api, col in FIELDS.items()}


async def get(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> tuple[uuid.UUID, str, NeedsProfile | None]:
    """(customer id, its owner node, the profile or None when never written)."""
    c = await attached.visible_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    p = await NeedsRepository.from_session(session).of_customer(customer_id, principal, settings)
    return c.id, c.owner_node, p


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    customer_id: uuid.UUID,
    patch: NeedsProfileUpdate,
    present: set[str],
) -> NeedsProfile:
    """Merge-patch the profile (created at its first write); a patch that changes nothing writes nothing."""
    c = await attached.owned_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    repo = NeedsRepository.from_session(session)
    p = await repo.for_update(c.id)
    created = p is None
    before = snapshot(p)
    if p is None:
        now = datetime.now(UTC)
        p = NeedsProfile(
            owner_node=c.owner_node,
            customer_id=c.id,
            version=1,
            updated_by=principal.username,
            created_at=now,
            updated_at=now,
        )
        session.add(p)
    for api, col in FIELDS.items():
        if api in present:
            setattr(p, col, getattr(patch, col))
    changes = diff(before, snapshot(p))
    if not changes and not created:
        return p
    p.updated_by = principal.username
    await customer_events.record_change(
        session,
        p,
        aggregate_type=AGGREGATE,
        actor=principal.username,
        action="create" if created else "update",
        changes=changes,
        created=created,
        event=events.profile_changed,
    )
    return p


async def history(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    customer_id: uuid.UUID,
    offset: int,
    limit: int,
) -> tuple[Sequence[Audit], int]:
    _, _, p = await get(session, settings=settings, principal=principal, customer_id=customer_id)
    if p is None:
        return [], 0
    return await attached.history_of(session, AGGREGATE, [p.id], offset, limit)
