"""Outbox events of teams: full state and version (replicated up the tree)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import org_pb2
from kam_org.api import Caller
from kam_org.models import SCHEMA, Team
from kam_platform.outbox import add_event, ts


def team_state(team: Team, members: list[uuid.UUID]) -> org_pb2.TeamChanged:
    return org_pb2.TeamChanged(
        id=str(team.id),
        owner_node=team.owner_node,
        version=team.version,
        code=team.code,
        name=team.name,
        kind=team.kind,
        description=team.description,
        org_unit_id=str(team.org_unit_id or ""),
        leader_id=str(team.leader_id or ""),
        member_ids=[str(m) for m in members],
        updated_at=ts(team.updated_at),
        created_at=ts(team.created_at),
    )


async def team_changed(session: AsyncSession, *, caller: Caller, team: Team, members: list[uuid.UUID]) -> None:
    msg = team_state(team, members)
    await add_event(
        session,
        schema=SCHEMA,
        node=team.owner_node,
        service="org",
        aggregate_type="team",
        aggregate_id=str(team.id),
        version=team.version,
        message=msg,
        actor=caller.actor,
    )


async def team_deleted(session: AsyncSession, *, caller: Caller, team: Team) -> None:
    msg = org_pb2.TeamDeleted(id=str(team.id), owner_node=team.owner_node, version=team.version + 1, code=team.code)
    await add_event(
        session,
        schema=SCHEMA,
        node=team.owner_node,
        service="org",
        aggregate_type="team",
        aggregate_id=str(team.id),
        version=team.version + 1,
        message=msg,
        actor=caller.actor,
    )
