"""Org units (/api/v1/org/org-units)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from kam_org.api import Caller, caller
from kam_org.models import OrgUnit
from kam_org.org_unit import service
from kam_org.org_unit.repository import ORG_UNIT_FILTERS
from kam_org.org_unit.schemas import ORG_UNIT_FIELDS, OrgUnitCreate, OrgUnitRead, OrgUnitUpdate
from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, page, present_keys
from kam_platform.db.engine import Session
from kam_platform.tmf import href, id_or_404, parse_list_query

router = APIRouter(prefix="/api/v1/org/org-units", tags=["org units"])

BASE = "/api/v1/org/org-units"
Reader = Annotated[Caller, caller("org.team:read")]
Writer = Annotated[Caller, caller("org.team:write")]


def _unit(request: Request, unit: OrgUnit) -> OrgUnitRead:
    return OrgUnitRead(
        id=unit.id,
        href=href(request, f"{BASE}/{unit.id}"),
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        parent_id=unit.parent_id,
        owner_node=unit.owner_node,
        version=unit.version,
        created_at=unit.created_at,
        updated_at=unit.updated_at,
    )


@router.get("", response_model=list[OrgUnitRead])
async def list_org_units(
    request: Request, response: Response, session: Session, who: Reader
) -> list[OrgUnitRead] | JSONResponse:
    """Org units in the caller's data scope (filters: code, name, kind, ownerNode, parentId)."""
    lq = parse_list_query(request, ORG_UNIT_FILTERS, ORG_UNIT_FIELDS)
    units, total = await service.list_org_units(session, caller=who, lq=lq)
    return page(response, [_unit(request, u) for u in units], total, lq)


@router.get("/{unit_id}")
async def get_org_unit(unit_id: str, request: Request, session: Session, who: Reader) -> OrgUnitRead:
    """One org unit."""
    return _unit(request, await service.get_org_unit(session, caller=who, unit_id=id_or_404(unit_id, "org unit")))


@router.post("", status_code=201)
async def create_org_unit(
    request: Request, response: Response, session: Session, who: Writer, data: OrgUnitCreate, _: None = JSON_BODY
) -> OrgUnitRead:
    """Create an org unit at this node."""
    body = _unit(request, await service.create_org_unit(session, caller=who, data=data))
    response.headers["Location"] = body.href
    return body


@router.patch("/{unit_id}")
async def update_org_unit(
    unit_id: str,
    request: Request,
    session: Session,
    who: Writer,
    patch: Annotated[OrgUnitUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> OrgUnitRead:
    """Change an org unit (JSON merge patch)."""
    unit = await service.update_org_unit(
        session, caller=who, unit_id=id_or_404(unit_id, "org unit"), patch=patch, present=present_keys(patch)
    )
    return _unit(request, unit)


@router.delete("/{unit_id}", status_code=204)
async def delete_org_unit(unit_id: str, session: Session, who: Writer) -> Response:
    """Delete an org unit that no staff, team or unit refers to (409 otherwise)."""
    await service.delete_org_unit(session, caller=who, unit_id=id_or_404(unit_id, "org unit"))
    return Response(status_code=204)
