"""Roles (/api/v1/org/roles) and the permission catalogue (/api/v1/org/permissions)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from kam_org.api import Caller, body_doc, caller, json_body
from kam_org.models import Permission, Role
from kam_org.role import service
from kam_org.role.repository import PERMISSION_FILTERS, ROLE_FILTERS
from kam_org.role.schemas import PERMISSION_FIELDS, ROLE_FIELDS, PermissionRead, RoleCreate, RoleRead, RoleUpdate
from kam_platform.db.engine import Session
from kam_platform.tmf import href, list_response, parse_list_query, read_merge_patch

router = APIRouter(prefix="/api/v1/org", tags=["roles"])

ROLES = "/api/v1/org/roles"
PERMISSIONS = "/api/v1/org/permissions"


def _role(request: Request, role: Role, perms: list[str]) -> dict[str, Any]:
    return RoleRead(
        id=role.code,
        href=href(request, f"{ROLES}/{role.code}"),
        code=role.code,
        name_zh=role.name_zh,
        name_en=role.name_en,
        description=role.description,
        permissions=perms,
        version=role.version,
        created_at=role.created_at,
        updated_at=role.updated_at,
    ).resource()


def _permission(request: Request, perm: Permission) -> dict[str, Any]:
    return PermissionRead(
        id=perm.code, href=href(request, f"{PERMISSIONS}/{perm.code}"), code=perm.code, description=perm.description
    ).resource()


@router.get("/roles")
async def list_roles(request: Request, session: Session, _: Annotated[Caller, caller("org.role:read")]) -> JSONResponse:
    """List roles with their permissions (filters: code, nameZh, nameEn; q= searches code and names)."""
    lq = parse_list_query(request, ROLE_FILTERS, ROLE_FIELDS)
    rows, total = await service.list_roles(session, lq=lq)
    return list_response([_role(request, r, p) for r, p in rows], total, lq)


@router.get("/roles/{code}")
async def get_role(
    code: str, request: Request, session: Session, _: Annotated[Caller, caller("org.role:read")]
) -> dict[str, Any]:
    """One role by its code."""
    role, perms = await service.get_role(session, code=code)
    return _role(request, role, perms)


@router.post("/roles", status_code=201, openapi_extra=body_doc(RoleCreate))
async def create_role(
    request: Request,
    response: Response,
    session: Session,
    who: Annotated[Caller, caller("org.role:write")],
    data: Annotated[RoleCreate, Depends(json_body(RoleCreate))],
) -> dict[str, Any]:
    """Create a role with permissions given by code (unknown permission → 422)."""
    role, perms = await service.create_role(session, caller=who, data=data)
    body = _role(request, role, perms)
    response.headers["Location"] = body["href"]
    return body


@router.patch("/roles/{code}", openapi_extra=body_doc(RoleUpdate, "application/merge-patch+json"))
async def update_role(
    code: str, request: Request, session: Session, who: Annotated[Caller, caller("org.role:write")]
) -> dict[str, Any]:
    """Change a role (JSON merge patch); `permissions` replaces the whole set."""
    patch, present = await read_merge_patch(request, RoleUpdate)
    role, perms = await service.update_role(session, caller=who, code=code, patch=patch, present=present)
    return _role(request, role, perms)


@router.delete("/roles/{code}", status_code=204)
async def delete_role(code: str, session: Session, who: Annotated[Caller, caller("org.role:write")]) -> Response:
    """Delete a role no staff holds (409 while it is held)."""
    await service.delete_role(session, caller=who, code=code)
    return Response(status_code=204)


@router.get("/permissions")
async def list_permissions(
    request: Request, session: Session, _: Annotated[Caller, caller("org.role:read")]
) -> JSONResponse:
    """The permission catalogue (resource:action codes)."""
    lq = parse_list_query(request, PERMISSION_FILTERS, PERMISSION_FIELDS)
    perms, total = await service.list_permissions(session, lq=lq)
    return list_response([_permission(request, p) for p in perms], total, lq)


@router.get("/permissions/{code}")
async def get_permission(
    code: str, request: Request, session: Session, _: Annotated[Caller, caller("org.role:read")]
) -> dict[str, Any]:
    """One permission by its code."""
    return _permission(request, await service.get_permission(session, code=code))
