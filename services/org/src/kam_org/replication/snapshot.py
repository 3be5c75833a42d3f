"""Snapshot (resync): this node republishes the current state of its own org units, staff and teams
up the tree (``up.<node>.org…``, ``snapshot=true``), so an ancestor that was away past the streams'
retention, or joined late, holds what the owner holds. Rows go to the outbox in the caller's
transaction, one INSERT per chunk (the platform's `kam_platform.snapshot`).

Not republished: audit rows (append-only history, as for the customer service) and deletions (a team
or unit deleted while the ancestor was away past retention stays at that ancestor; see
docs/org-replication.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import SCHEMA, OrgUnit, Staff, Team
from kam_org.org_unit.events import org_unit_state
from kam_org.staff.events import staff_state
from kam_org.staff.repository import StaffRepository
from kam_org.team.events import team_state
from kam_org.team.repository import TeamRepository
from kam_platform.settings import Settings
from kam_platform.snapshot import Republish, republish


async def _staff_states(session: AsyncSession, people: Sequence[Staff]) -> list[Message]:
    roles = await StaffRepository.from_session(session).roles_of(s.id for s in people)
    return [staff_state(s, roles[s.id]) for s in people]


async def _team_states(session: AsyncSession, teams: Sequence[Team]) -> list[Message]:
    members = await TeamRepository.from_session(session).members_of(t.id for t in teams)
    return [team_state(t, members[t.id]) for t in teams]


async def republish_own(
    session: AsyncSession, settings: Settings, owners: Sequence[str] | None = None, restore: bool = False
) -> int:
    """Republish every org unit, staff member and team `owners` own (default: this node) up — or, with
    `restore`, down to a restored child as restore copies (this node's replicas of its subtree's records;
    a replica holds no password hash, so none travels); returns how many."""
    who = list(owners) if owners is not None else [settings.node]
    items = [
        Republish("org_unit", OrgUnit, (OrgUnit.owner_node.in_(who),), state=org_unit_state),
        Republish("staff", Staff, (Staff.owner_node.in_(who),), states=_staff_states),
        Republish("team", Team, (Team.owner_node.in_(who),), states=_team_states),
    ]
    return await republish(session, schema=SCHEMA, service="org", settings=settings, items=items, restore=restore)
