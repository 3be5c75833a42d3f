"""Snapshot (resync): this node republishes the current state of its own org units, staff and teams
up the tree (``up.<node>.org…``, ``snapshot=true``), so an ancestor that was away past the streams'
retention, or joined late, holds what the owner holds. Rows go to the outbox in the caller's
transaction, in chunks, as one deferred INSERT at commit.

Not republished: audit rows (append-only history, as for the customer service) and deletions (a team
or unit deleted while the ancestor was away past retention stays at that ancestor; see
docs/org-replication.md).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import SCHEMA, OrgUnit, Staff, Team
from kam_org.org_unit.events import org_unit_state
from kam_org.staff.events import staff_state
from kam_org.staff.repository import StaffRepository
from kam_org.team.events import team_state
from kam_org.team.repository import TeamRepository
from kam_platform.outbox import add_event
from kam_platform.settings import Settings

CHUNK = 2000
ACTOR = "system:resync"


async def _chunks(session: AsyncSession, model: Any, node: str) -> AsyncIterator[Sequence[Any]]:
    last: uuid.UUID | None = None
    while True:
        stmt = select(model).where(model.owner_node == node).order_by(model.id).limit(CHUNK)
        if last is not None:
            stmt = stmt.where(model.id > last)
        rows = (await session.scalars(stmt)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


async def _publish(
    session: AsyncSession, settings: Settings, aggregate_type: str, rows: Sequence[Any], states: Sequence[Message]
) -> None:
    for r, state in zip(rows, states, strict=True):
        await add_event(
            session,
            schema=SCHEMA,
            node=settings.node,
            service="org",
            aggregate_type=aggregate_type,
            aggregate_id=str(r.id),
            version=r.version,
            message=state,
            actor=ACTOR,
            snapshot=True,
            defer=True,
        )


async def republish_own(session: AsyncSession, settings: Settings) -> int:
    """Republish every org unit, staff member and team this node owns; returns how many."""
    me, n = settings.node, 0
    async for units in _chunks(session, OrgUnit, me):
        await _publish(session, settings, "org_unit", units, [org_unit_state(u) for u in units])
        n += len(units)
    staff_repo = StaffRepository.from_session(session)
    async for people in _chunks(session, Staff, me):
        roles = await staff_repo.roles_of(s.id for s in people)
        await _publish(session, settings, "staff", people, [staff_state(s, roles[s.id]) for s in people])
        n += len(people)
    team_repo = TeamRepository.from_session(session)
    async for teams in _chunks(session, Team, me):
        members = await team_repo.members_of(t.id for t in teams)
        await _publish(session, settings, "team", teams, [team_state(t, members[t.id]) for t in teams])
        n += len(teams)
    return n
