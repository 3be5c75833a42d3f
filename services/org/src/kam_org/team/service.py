"""Rules for teams: code unique per node, leader and members are staff of this node, writes only at
the owner node."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.api import Caller, patch_values
from kam_org.audit.service import CHANGES
from kam_org.models import Team
from kam_org.org_unit import service as org_unit_service
from kam_org.team import events
from kam_org.team.repository import TeamRepository
from kam_org.team.schemas import TeamCreate, TeamUpdate
from kam_platform.audit import diff
from kam_platform.errors import Conflict, NotFound, NotOwner, ValidationFailed
from kam_platform.tmf import ListQuery

TeamWithMembers = tuple[Team, list[uuid.UUID]]


def _snapshot(team: Team, members: list[uuid.UUID]) -> dict[str, Any]:
    return {
        "code": team.code,
        "name": team.name,
        "kind": team.kind,
        "description": team.description,
        "org_unit_id": team.org_unit_id,
        "leader_id": team.leader_id,
        "member_ids": sorted(str(m) for m in members),
    }


async def _check_refs(session: AsyncSession, caller: Caller, values: dict[str, Any]) -> None:
    repo = TeamRepository.from_session(session)
    unit_id = values.get("org_unit_id")
    if unit_id is not None and not await org_unit_service.exists_at_node(
        session, node=caller.node, org_unit_id=unit_id
    ):
        raise ValidationFailed(f"orgUnitId: no org unit {unit_id} at node {caller.node!r}", field="orgUnitId")
    leader = values.get("leader_id")
    if leader is not None and not await repo.staff_at_node(caller.node, [leader]):
        raise ValidationFailed(f"leaderId: no staff {leader} at node {caller.node!r}", field="leaderId")
    members = values.get("member_ids") or []
    missing = sorted(str(m) for m in set(members) - await repo.staff_at_node(caller.node, members))
    if missing:
        raise ValidationFailed(f"memberIds: no staff {', '.join(missing)} at node {caller.node!r}", field="memberIds")


async def list_teams(session: AsyncSession, *, caller: Caller, lq: ListQuery) -> tuple[list[TeamWithMembers], int]:
    repo = TeamRepository.from_session(session)
    teams, total = await repo.page(lq, principal=caller.principal, topology=caller.topology)
    members = await repo.members_of(t.id for t in teams)
    return [(t, members[t.id]) for t in teams], total


async def get_team(
    session: AsyncSession, *, caller: Caller, team_id: uuid.UUID, for_update: bool = False
) -> TeamWithMembers:
    repo = TeamRepository.from_session(session)
    team = await repo.get(team_id, principal=caller.principal, topology=caller.topology, for_update=for_update)
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return team, (await repo.members_of([team.id]))[team.id]


async def _get_owned(session: AsyncSession, caller: Caller, team_id: uuid.UUID) -> TeamWithMembers:
    team, members = await get_team(session, caller=caller, team_id=team_id, for_update=True)
    if team.owner_node != caller.node:
        raise NotOwner("team", str(team.id), team.owner_node)
    return team, members


async def _record(
    session: AsyncSession,
    caller: Caller,
    team: Team,
    members: list[uuid.UUID],
    action: str,
    before: dict[str, Any],
    *,
    created: bool = False,
) -> None:
    """Version, event (the stored state with its members) and audit in one call (`ChangeLog.record_change`)."""
    await CHANGES.record_change(
        session,
        team,
        aggregate_type="team",
        event=lambda t: events.team_state(t, members),
        actor=caller.actor,
        action=action,
        changes=diff(before, _snapshot(team, members)),
        created=created,
    )


async def create_team(session: AsyncSession, *, caller: Caller, data: TeamCreate) -> TeamWithMembers:
    repo = TeamRepository.from_session(session)
    if await repo.get_by_code(caller.node, data.code) is not None:
        raise Conflict(f"team code {data.code!r} already exists at node {caller.node!r}")
    await _check_refs(session, caller, data.model_dump(by_alias=False))
    team = await repo.add(
        Team(
            owner_node=caller.node,
            version=1,
            code=data.code,
            name=data.name,
            kind=data.kind,
            description=data.description,
            org_unit_id=data.org_unit_id,
            leader_id=data.leader_id,
        )
    )
    members = sorted(set(data.member_ids))
    await repo.set_members(team.id, members)
    await _record(session, caller, team, members, "create", {}, created=True)
    return team, members


async def update_team(
    session: AsyncSession, *, caller: Caller, team_id: uuid.UUID, patch: TeamUpdate, present: set[str]
) -> TeamWithMembers:
    repo = TeamRepository.from_session(session)
    team, members = await _get_owned(session, caller, team_id)
    before = _snapshot(team, members)
    values = patch_values(patch, present, not_null={"name", "kind", "member_ids"})
    await _check_refs(session, caller, values)
    if "member_ids" in values:
        members = sorted(set(values.pop("member_ids")))
        await repo.set_members(team.id, members)
    for name, value in values.items():
        setattr(team, name, "" if name == "description" and value is None else value)
    if _snapshot(team, members) == before:
        return team, members
    await _record(session, caller, team, members, "update", before)
    return team, members


async def delete_team(session: AsyncSession, *, caller: Caller, team_id: uuid.UUID) -> None:
    repo = TeamRepository.from_session(session)
    team, members = await _get_owned(session, caller, team_id)
    # the row goes: its deletion event (one version on) and the audit, without a version bump
    await CHANGES.emit(
        session,
        node=team.owner_node,
        aggregate_type="team",
        aggregate_id=team.id,
        version=team.version + 1,
        message=events.team_deleted(team),
        actor=caller.actor,
    )
    await CHANGES.audit(
        session,
        node=team.owner_node,
        entity_type="team",
        entity_id=team.id,
        action="delete",
        actor=caller.actor,
        changes=diff(_snapshot(team, members), {}),
    )
    await repo.delete(team)
