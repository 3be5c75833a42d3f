"""Decision map rules: relations between two contacts of the same key account, written at the
customer's owner; a contact never relates to itself (cycles — A influences B influences A — are real
and allowed); one live relation of a type between two contacts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer import attached
from kam_customer.customer import events as customer_events
from kam_customer.models import Contact
from kam_platform.auth import Principal
from kam_platform.changes import lock
from kam_platform.errors import Conflict, NotFound, ValidationFailed
from kam_platform.settings import Settings

from . import events
from .models import ContactRelation
from .repository import RelationRepository
from .schemas import ContactRelationCreate

AGGREGATE = "contact_relation"


async def decision_map(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> tuple[Sequence[Contact], Sequence[ContactRelation]]:
    c = await attached.visible_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    repo = RelationRepository.from_session(session)
    return await repo.contacts(c.id), await repo.of_customer(c.id, principal, settings)


def _contact_id(value: str, field: str, contacts: dict[uuid.UUID, Contact]) -> uuid.UUID:
    try:
        cid = uuid.UUID(value)
    except ValueError:
        cid = None
    if cid is None or cid not in contacts:
        raise ValidationFailed(f"{field}: {value!r} is not a contact of this customer", field=field)
    return cid


async def relate(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    customer_id: uuid.UUID,
    data: ContactRelationCreate,
) -> ContactRelation:
    c = await attached.owned_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    repo = RelationRepository.from_session(session)
    contacts = {x.id: x for x in await repo.contacts(c.id)}
    src = _contact_id(data.from_contact_id, "fromContactId", contacts)
    dst = _contact_id(data.to_contact_id, "toContactId", contacts)
    if src == dst:
        raise ValidationFailed("toContactId: a contact cannot be related to itself", field="toContactId")
    if await repo.live_exists(src, dst, data.relation_type.value):
        raise Conflict(f"{contacts[src].full_name} already {data.relation_type.value} {contacts[dst].full_name}")
    now = datetime.now(UTC)
    r = ContactRelation(
        owner_node=c.owner_node,
        customer_id=c.id,
        version=1,
        from_contact_id=src,
        to_contact_id=dst,
        relation_type=data.relation_type.value,
        note=data.note,
        created_at=now,
        updated_at=now,
    )
    session.add(r)
    await customer_events.record_change(
        session,
        r,
        aggregate_type=AGGREGATE,
        actor=principal.username,
        action="create",
        changes={"from": [None, str(src)], "to": [None, str(dst)], "relationType": [None, r.relation_type]},
        created=True,
        event=events.relation_changed,
    )
    return r


async def unrelate(session: AsyncSession, *, settings: Settings, principal: Principal, relation_id: uuid.UUID) -> None:
    seen = await RelationRepository.from_session(session).get_visible(relation_id, principal, settings.topology)
    if seen is None:
        raise NotFound(f"contact relation {relation_id} not found")
    await attached.owned_customer(session, settings=settings, principal=principal, customer_id=seen.customer_id)
    r = await lock(session, ContactRelation, relation_id)
    if r is None:
        raise NotFound(f"contact relation {relation_id} not found")
    r.deleted_at = datetime.now(UTC)
    await customer_events.record_change(
        session,
        r,
        aggregate_type=AGGREGATE,
        actor=principal.username,
        action="delete",
        changes={"deleted": [False, True]},
        event=events.relation_changed,
    )
