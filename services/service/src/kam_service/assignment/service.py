"""Assignment rules (派单): the node's queues (configuration of the node, audited, not replicated) and
the pick of a handler for a ticket — the first active queue matching its type and the customer's grade,
then round robin (members in turn, the cursor moving under the queue's lock) or least loaded (fewest
open tickets at this node; ties in member order)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, NotFound, ValidationFailed
from kam_platform.settings import Settings
from kam_service.models.assignment import TicketQueue
from kam_service.ticket.events import CHANGES

from .repository import QueueRepository
from .schemas import QueueCreate, QueueUpdate, Strategy

AGGREGATE = "ticket_queue"
TRACKED = ("team", "ticket_types", "grades", "members", "strategy", "rank", "is_active")


@dataclass(frozen=True)
class Pick:
    queue: TicketQueue
    handler: str
    by: str  # "rule:ROUND_ROBIN" / "rule:LEAST_LOADED"


def _snapshot(q: TicketQueue) -> dict[str, object]:
    return {k: getattr(q, k) for k in TRACKED}


async def list_queues(session: AsyncSession, *, settings: Settings) -> Sequence[TicketQueue]:
    return await QueueRepository.from_session(session).of_node(settings.node)


async def get_queue(session: AsyncSession, *, settings: Settings, queue_id: uuid.UUID) -> TicketQueue:
    q = await QueueRepository.from_session(session).get(settings.node, queue_id)
    if q is None:
        raise NotFound(f"ticketQueue {queue_id} not found")
    return q


async def create_queue(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: QueueCreate, now: datetime
) -> TicketQueue:
    repo = QueueRepository.from_session(session)
    if await repo.by_name(settings.node, data.name) is not None:
        raise Conflict(f"a queue named {data.name!r} already exists at {settings.node}")
    q = TicketQueue(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        name=data.name,
        team=data.team,
        ticket_types=[t.value for t in data.ticket_types],
        grades=data.grades,
        members=data.members,
        strategy=data.strategy.value,
        rank=data.rank,
        cursor=0,
        is_active=data.is_active,
        created_at=now,
        updated_at=now,
    )
    await repo.add(q)
    await CHANGES.audit(
        session,
        node=settings.node,
        entity_type=AGGREGATE,
        entity_id=q.id,
        action="create",
        actor=principal.username,
        changes=diff({}, _snapshot(q)),
    )
    return q


async def update_queue(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    queue_id: uuid.UUID,
    patch: QueueUpdate,
    present: set[str],
    now: datetime,
) -> TicketQueue:
    q = await QueueRepository.from_session(session).get(settings.node, queue_id, for_update=True)
    if q is None:
        raise NotFound(f"ticketQueue {queue_id} not found")
    for name in present:
        if getattr(patch, _attr(name), None) is None:
            raise ValidationFailed(f"{name}: may not be null", field=name)
    before = _snapshot(q)
    if patch.team is not None:
        q.team = patch.team
    if patch.ticket_types is not None:
        q.ticket_types = [t.value for t in patch.ticket_types]
    if patch.grades is not None:
        q.grades = patch.grades
    if patch.members is not None:
        q.members = patch.members
        q.cursor = 0
    if patch.strategy is not None:
        q.strategy = patch.strategy.value
    if patch.rank is not None:
        q.rank = patch.rank
    if patch.is_active is not None:
        q.is_active = patch.is_active
    changes = diff(before, _snapshot(q))
    if changes:
        q.version += 1
        q.updated_at = now
        await session.flush()
        await CHANGES.audit(
            session,
            node=settings.node,
            entity_type=AGGREGATE,
            entity_id=q.id,
            action="update",
            actor=principal.username,
            changes=changes,
        )
    return q


def _attr(camel: str) -> str:
    return {"ticketTypes": "ticket_types", "isActive": "is_active"}.get(camel, camel)


async def _choose(session: AsyncSession, node: str, q: TicketQueue) -> Pick:
    members = list(q.members)
    if q.strategy == Strategy.LEAST_LOADED.value:
        load = await QueueRepository.from_session(session).open_load(node, members)
        handler = min(members, key=lambda m: (load.get(m, 0), members.index(m)))
    else:
        handler = members[q.cursor % len(members)]
        q.cursor = (q.cursor + 1) % len(members)
        await session.flush()
    return Pick(queue=q, handler=handler, by=f"rule:{q.strategy}")


async def pick_by_rule(session: AsyncSession, *, node: str, ticket_type: str, grade: str) -> Pick | None:
    """The handler the rule gives a ticket of this type and customer grade; None when no queue serves
    it (the ticket then waits unassigned, as before)."""
    q = await QueueRepository.from_session(session).first_matching(node, ticket_type, grade)
    if q is None:
        return None
    return await _choose(session, node, q)


async def pick_in_queue(session: AsyncSession, *, node: str, queue_id: uuid.UUID) -> Pick:
    q = await QueueRepository.from_session(session).get(node, queue_id, for_update=True)
    if q is None:
        raise ValidationFailed(f"queueId: no queue {queue_id} at {node}", field="queueId")
    if not q.is_active:
        raise ValidationFailed(f"queueId: queue {q.name!r} is not active", field="queueId")
    return await _choose(session, node, q)
