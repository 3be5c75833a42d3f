"""Teams (/api/v1/org/teams)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from kam_org.api import Caller, caller
from kam_org.models import Team
from kam_org.team import service
from kam_org.team.repository import TEAM_FILTERS
from kam_org.team.schemas import TEAM_FIELDS, TeamCreate, TeamRead, TeamUpdate
from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, page, present_keys
from kam_platform.db.engine import Session
from kam_platform.tmf import href, id_or_404, parse_list_query

router = APIRouter(prefix="/api/v1/org/teams", tags=["teams"])

BASE = "/api/v1/org/teams"
Reader = Annotated[Caller, caller("org.team:read")]
Writer = Annotated[Caller, caller("org.team:write")]


def _team(request: Request, team: Team, members: list[uuid.UUID]) -> TeamRead:
    return TeamRead(
        id=team.id,
        href=href(request, f"{BASE}/{team.id}"),
        code=team.code,
        name=team.name,
        kind=team.kind,
        description=team.description,
        org_unit_id=team.org_unit_id,
        leader_id=team.leader_id,
        member_ids=members,
        owner_node=team.owner_node,
        version=team.version,
        created_at=team.created_at,
        updated_at=team.updated_at,
    )


@router.get("", response_model=list[TeamRead])
async def list_teams(
    request: Request, response: Response, session: Session, who: Reader
) -> list[TeamRead] | JSONResponse:
    """Teams in the caller's data scope (filters: code, name, kind, ownerNode, orgUnitId, leaderId)."""
    lq = parse_list_query(request, TEAM_FILTERS, TEAM_FIELDS)
    rows, total = await service.list_teams(session, caller=who, lq=lq)
    return page(response, [_team(request, t, m) for t, m in rows], total, lq)


@router.get("/{team_id}")
async def get_team(team_id: str, request: Request, session: Session, who: Reader) -> TeamRead:
    """One team with its member ids."""
    team, members = await service.get_team(session, caller=who, team_id=id_or_404(team_id, "team"))
    return _team(request, team, members)


@router.post("", status_code=201)
async def create_team(
    request: Request, response: Response, session: Session, who: Writer, data: TeamCreate, _: None = JSON_BODY
) -> TeamRead:
    """Create a team at this node; leader and members are staff of this node."""
    team, members = await service.create_team(session, caller=who, data=data)
    body = _team(request, team, members)
    response.headers["Location"] = body.href
    return body


@router.patch("/{team_id}")
async def update_team(
    team_id: str,
    request: Request,
    session: Session,
    who: Writer,
    patch: Annotated[TeamUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> TeamRead:
    """Change a team (JSON merge patch); `memberIds` replaces the whole membership."""
    team, members = await service.update_team(
        session, caller=who, team_id=id_or_404(team_id, "team"), patch=patch, present=present_keys(patch)
    )
    return _team(request, team, members)


@router.delete("/{team_id}", status_code=204)
async def delete_team(team_id: str, session: Session, who: Writer) -> Response:
    """Delete a team (its memberships go with it)."""
    await service.delete_team(session, caller=who, team_id=id_or_404(team_id, "team"))
    return Response(status_code=204)
