"""Contact scheme rules (联系方案): one scheme per customer at the node that keeps it (409 for a second),
every layer's serving node a node of the tree, writes only at the owner; the customer side's phone
numbers are PII (masked for callers without customer.pii:read, as the customer service masks them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, NotFound, NotOwner, ValidationFailed
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_service.lookups import Lookups
from kam_service.models.care import ContactScheme
from kam_service.ticket.events import CHANGES

from .events import SCHEME, scheme_message
from .repository import SchemeRepository
from .schemas import ContactSchemeCreate, ContactSchemeUpdate, EntryIn

PII_PERMISSION = "customer.pii:read"
TRACKED = ("hotlines", "entries", "note")


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _entries(settings: Settings, entries: Sequence[EntryIn]) -> list[dict[str, Any]]:
    out = []
    for i, e in enumerate(entries):
        if e.telecom_node not in settings.topology:
            raise ValidationFailed(
                f"entries[{i}].telecomNode: {e.telecom_node} is not a node of the tree",
                field=f"entries[{i}].telecomNode",
            )
        out.append(
            {
                "level": e.level.value,
                "customerBranch": e.customer_branch,
                "customerContact": e.customer_contact,
                "customerPhone": e.customer_phone,
                "telecomNode": e.telecom_node,
                "telecomOffice": e.telecom_office,
                "telecomContact": e.telecom_contact,
                "telecomPhone": e.telecom_phone,
            }
        )
    return out


async def list_schemes(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[ContactScheme], int]:
    return await SchemeRepository.from_session(session).page(principal, settings.topology, lq)


async def get_scheme(
    session: AsyncSession, *, settings: Settings, principal: Principal, scheme_id: uuid.UUID
) -> ContactScheme:
    c = await SchemeRepository.from_session(session).get_visible(scheme_id, principal, settings.topology)
    if c is None:
        raise NotFound(f"contactScheme {scheme_id} not found")
    return c


async def create_scheme(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    data: ContactSchemeCreate,
    lookups: Lookups,
    token: str,
    now: datetime,
) -> ContactScheme:
    try:
        customer_id = uuid.UUID(data.related_party[0].id)
    except ValueError:
        raise ValidationFailed("relatedParty: id is not a valid id", field="relatedParty") from None
    customer = await lookups.customer(customer_id, token)
    repo = SchemeRepository.from_session(session)
    existing = await repo.of_customer(settings.node, customer.id)
    if existing is not None:
        raise Conflict(f"{customer.name} already has contact scheme {existing.id} at {settings.node}; change that one")
    c = ContactScheme(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        customer_id=customer.id,
        customer_name=customer.name,
        account_manager=customer.account_manager,
        hotlines=list(dict.fromkeys(data.hotlines)),
        entries=_entries(settings, data.entries),
        note=data.note,
        created_at=now,
        updated_at=now,
    )
    await repo.add(c)
    await CHANGES.record_change(
        session, c, aggregate_type=SCHEME, event=scheme_message, actor=principal.username, action="create",
        changes=diff({}, {k: getattr(c, k) for k in TRACKED}), created=True, at=now,
    )  # fmt: skip
    return c


async def update_scheme(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    scheme_id: uuid.UUID,
    patch: ContactSchemeUpdate,
    present: set[str],
    now: datetime,
) -> ContactScheme:
    await get_scheme(session, settings=settings, principal=principal, scheme_id=scheme_id)
    c = await SchemeRepository.from_session(session).get_for_update(scheme_id)
    if c is None:
        raise NotFound(f"contactScheme {scheme_id} not found")
    if c.owner_node != settings.node:
        raise NotOwner("contactScheme", str(c.id), c.owner_node)
    before = {k: getattr(c, k) for k in TRACKED}
    if "hotlines" in present:
        c.hotlines = list(dict.fromkeys(patch.hotlines or []))
    if "entries" in present:
        c.entries = _entries(settings, patch.entries or [])
    if "note" in present:
        c.note = patch.note or ""
    changes = diff(before, {k: getattr(c, k) for k in TRACKED})
    if changes:
        await CHANGES.record_change(
            session, c, aggregate_type=SCHEME, event=scheme_message, actor=principal.username, action="update",
            changes=changes, at=now,
        )  # fmt: skip
    return c
