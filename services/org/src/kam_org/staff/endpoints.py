"""Staff (/api/v1/org/staff): list, get, create, merge-patch, deactivate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from kam_org.api import Caller, caller
from kam_org.models import Staff
from kam_org.staff import service
from kam_org.staff.repository import STAFF_FILTERS
from kam_org.staff.schemas import STAFF_FIELDS, StaffCreate, StaffRead, StaffUpdate
from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, page, present_keys
from kam_platform.db.engine import Session
from kam_platform.tmf import href, id_or_404, parse_list_query

router = APIRouter(prefix="/api/v1/org/staff", tags=["staff"])

BASE = "/api/v1/org/staff"
Reader = Annotated[Caller, caller("org.staff:read")]
Writer = Annotated[Caller, caller("org.staff:write")]


def _staff(request: Request, staff: Staff, roles: list[str]) -> StaffRead:
    return StaffRead(
        id=staff.id,
        href=href(request, f"{BASE}/{staff.id}"),
        username=staff.username,
        display_name=staff.display_name,
        phone=staff.phone,
        email=staff.email,
        org_unit_id=staff.org_unit_id,
        roles=roles,
        is_active=staff.is_active,
        owner_node=staff.owner_node,
        version=staff.version,
        created_at=staff.created_at,
        updated_at=staff.updated_at,
    )


@router.get("", response_model=list[StaffRead])
async def list_staff(
    request: Request, response: Response, session: Session, who: Reader
) -> list[StaffRead] | JSONResponse:
    """Staff in the caller's data scope. Filters: username, displayName, isActive, ownerNode, orgUnitId,
    roles, createdAt, updatedAt; `q=` searches user name and display name."""
    lq = parse_list_query(request, STAFF_FILTERS, STAFF_FIELDS)
    rows, total = await service.list_staff(session, caller=who, lq=lq)
    return page(response, [_staff(request, s, r) for s, r in rows], total, lq)


@router.get("/{staff_id}")
async def get_staff(staff_id: str, request: Request, session: Session, who: Reader) -> StaffRead:
    """One staff member (404 when unknown or outside the caller's data scope)."""
    staff, roles = await service.get_staff(session, caller=who, staff_id=id_or_404(staff_id, "staff"))
    return _staff(request, staff, roles)


@router.post("", status_code=201)
async def create_staff(
    request: Request, response: Response, session: Session, who: Writer, data: StaffCreate, _: None = JSON_BODY
) -> StaffRead:
    """Create a staff member at this node, with a password (≥ 8 characters) and roles by code."""
    staff, roles = await service.create_staff(session, caller=who, data=data)
    body = _staff(request, staff, roles)
    response.headers["Location"] = body.href
    return body


@router.patch("/{staff_id}")
async def update_staff(
    staff_id: str,
    request: Request,
    session: Session,
    who: Writer,
    patch: Annotated[StaffUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> StaffRead:
    """Change a staff member (JSON merge patch): display name, contact, org unit, roles, password, isActive."""
    staff, roles = await service.update_staff(
        session, caller=who, staff_id=id_or_404(staff_id, "staff"), patch=patch, present=present_keys(patch)
    )
    return _staff(request, staff, roles)


@router.delete("/{staff_id}", status_code=204)
async def deactivate_staff(staff_id: str, session: Session, who: Writer) -> Response:
    """Deactivate a staff member (soft delete; the record stays, login is refused)."""
    await service.deactivate_staff(session, caller=who, staff_id=id_or_404(staff_id, "staff"))
    return Response(status_code=204)
