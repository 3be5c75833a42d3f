"""Teams (/api/v1/org/teams)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from kam_org.api import Caller, body_doc, caller, json_body
from kam_org.models import Team
from kam_org.team import service
from kam_org.team.repository import TEAM_FILTERS
from kam_org.team.schemas import TEAM_FIELDS, TeamCreate, TeamRead, TeamUpdate
from kam_platform.db.engine import Session
from kam_platform.tmf import href, id_or_404, list_response, parse_list_query, read_merge_patch

router = APIRouter(prefix="/api/v1/org/teams", tags=["teams"])

BASE = "/api/v1/org/teams"


def _team(request: Request, team: Team, members: list[uuid.UUID]) -> dict[str, Any]:
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
    ).resource()


@router.get("")
async def list_teams(
    request: Request, session: Session, who: Annotated[Caller, caller("org.team:read")]
) -> JSONResponse:
    """Teams in the caller's data scope (filters: code, name, kind, ownerNode, orgUnitId, leaderId)."""
    lq = parse_list_query(request, TEAM_FILTERS, TEAM_FIELDS)
    rows, total = await service.list_teams(session, caller=who, lq=lq)
    return list_response([_team(request, t, m) for t, m in rows], total, lq)


@router.get("/{team_id}")
async def get_team(
    team_id: str, request: Request, session: Session, who: Annotated[Caller, caller("org.team:read")]
) -> dict[str, Any]:
    """One team with its member ids."""
    team, members = await service.get_team(session, caller=who, team_id=id_or_404(team_id, "team"))
    return _team(request, team, members)


@router.post("", status_code=201, openapi_extra=body_doc(TeamCreate))
async def create_team(
    request: Request,
    response: Response,
    session: Session,
    who: Annotated[Caller, caller("org.team:write")],
    data: Annotated[TeamCreate, Depends(json_body(TeamCreate))],
) -> dict[str, Any]:
    """Create a team at this node; leader and members are staff of this node."""
    team, members = await service.create_team(session, caller=who, data=data)
    body = _team(request, team, members)
    response.headers["Location"] = body["href"]
    return body


@router.patch("/{team_id}", openapi_extra=body_doc(TeamUpdate, "application/merge-patch+json"))
async def update_team(
    team_id: str, request: Request, session: Session, who: Annotated[Caller, caller("org.team:write")]
) -> dict[str, Any]:
    """Change a team (JSON merge patch); `memberIds` replaces the whole membership."""
    patch, present = await read_merge_patch(request, TeamUpdate)
    team, members = await service.update_team(
        session, caller=who, team_id=id_or_404(team_id, "team"), patch=patch, present=present
    )
    return _team(request, team, members)


@router.delete("/{team_id}", status_code=204)
async def delete_team(team_id: str, session: Session, who: Annotated[Caller, caller("org.team:write")]) -> Response:
    """Delete a team (its memberships go with it)."""
    await service.delete_team(session, caller=who, team_id=id_or_404(team_id, "team"))
    return Response(status_code=204)
