"""Org units (/api/v1/org/org-units)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from kam_org.api import Caller, body_doc, caller, json_body
from kam_org.models import OrgUnit
from kam_org.org_unit import service
from kam_org.org_unit.repository import ORG_UNIT_FILTERS
from kam_org.org_unit.schemas import ORG_UNIT_FIELDS, OrgUnitCreate, OrgUnitRead, OrgUnitUpdate
from kam_platform.db.engine import Session
from kam_platform.tmf import href, id_or_404, list_response, parse_list_query, read_merge_patch

router = APIRouter(prefix="/api/v1/org/org-units", tags=["org units"])

BASE = "/api/v1/org/org-units"


def _unit(request: Request, unit: OrgUnit) -> dict[str, Any]:
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
    ).resource()


@router.get("")
async def list_org_units(
    request: Request, session: Session, who: Annotated[Caller, caller("org.team:read")]
) -> JSONResponse:
    """Org units in the caller's data scope (filters: code, name, kind, ownerNode, parentId)."""
    lq = parse_list_query(request, ORG_UNIT_FILTERS, ORG_UNIT_FIELDS)
    units, total = await service.list_org_units(session, caller=who, lq=lq)
    return list_response([_unit(request, u) for u in units], total, lq)


@router.get("/{unit_id}")
async def get_org_unit(
    unit_id: str, request: Request, session: Session, who: Annotated[Caller, caller("org.team:read")]
) -> dict[str, Any]:
    """One org unit."""
    return _unit(request, await service.get_org_unit(session, caller=who, unit_id=id_or_404(unit_id, "org unit")))


@router.post("", status_code=201, openapi_extra=body_doc(OrgUnitCreate))
async def create_org_unit(
    request: Request,
    response: Response,
    session: Session,
    who: Annotated[Caller, caller("org.team:write")],
    data: Annotated[OrgUnitCreate, Depends(json_body(OrgUnitCreate))],
) -> dict[str, Any]:
    """Create an org unit at this node."""
    body = _unit(request, await service.create_org_unit(session, caller=who, data=data))
    response.headers["Location"] = body["href"]
    return body


@router.patch("/{unit_id}", openapi_extra=body_doc(OrgUnitUpdate, "application/merge-patch+json"))
async def update_org_unit(
    unit_id: str, request: Request, session: Session, who: Annotated[Caller, caller("org.team:write")]
) -> dict[str, Any]:
    """Change an org unit (JSON merge patch)."""
    patch, present = await read_merge_patch(request, OrgUnitUpdate)
    unit = await service.update_org_unit(
        session, caller=who, unit_id=id_or_404(unit_id, "org unit"), patch=patch, present=present
    )
    return _unit(request, unit)


@router.delete("/{unit_id}", status_code=204)
async def delete_org_unit(unit_id: str, session: Session, who: Annotated[Caller, caller("org.team:write")]) -> Response:
    """Delete an org unit that no staff, team or unit refers to (409 otherwise)."""
    await service.delete_org_unit(session, caller=who, unit_id=id_or_404(unit_id, "org unit"))
    return Response(status_code=204)
