"""Roles (/api/v1/org/roles) and the permission catalogue (/api/v1/org/permissions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from kam_org.api import Caller, caller
from kam_org.models import Permission, Role
from kam_org.role import service
from kam_org.role.repository import PERMISSION_FILTERS, ROLE_FILTERS
from kam_org.role.schemas import PERMISSION_FIELDS, ROLE_FIELDS, PermissionRead, RoleCreate, RoleRead, RoleUpdate
from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, page, present_keys
from kam_platform.db.engine import Session
from kam_platform.tmf import href, parse_list_query

router = APIRouter(prefix="/api/v1/org", tags=["roles"])

ROLES = "/api/v1/org/roles"
PERMISSIONS = "/api/v1/org/permissions"
Reader = Annotated[Caller, caller("org.role:read")]
Writer = Annotated[Caller, caller("org.role:write")]


def _role(request: Request, role: Role, perms: list[str]) -> RoleRead:
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
    )


def _permission(request: Request, perm: Permission) -> PermissionRead:
    return PermissionRead(
        id=perm.code, href=href(request, f"{PERMISSIONS}/{perm.code}"), code=perm.code, description=perm.description
    )


@router.get("/roles", response_model=list[RoleRead])
async def list_roles(
    request: Request, response: Response, session: Session, _: Reader
) -> list[RoleRead] | JSONResponse:
    """List roles with their permissions (filters: code, nameZh, nameEn; q= searches code and names)."""
    lq = parse_list_query(request, ROLE_FILTERS, ROLE_FIELDS)
    rows, total = await service.list_roles(session, lq=lq)
    return page(response, [_role(request, r, p) for r, p in rows], total, lq)


@router.get("/roles/{code}")
async def get_role(code: str, request: Request, session: Session, _: Reader) -> RoleRead:
    """One role by its code."""
    role, perms = await service.get_role(session, code=code)
    return _role(request, role, perms)


@router.post("/roles", status_code=201)
async def create_role(
    request: Request, response: Response, session: Session, who: Writer, data: RoleCreate, _: None = JSON_BODY
) -> RoleRead:
    """Create a role with permissions given by code (unknown permission → 422)."""
    role, perms = await service.create_role(session, caller=who, data=data)
    body = _role(request, role, perms)
    response.headers["Location"] = body.href
    return body


@router.patch("/roles/{code}")
async def update_role(
    code: str,
    request: Request,
    session: Session,
    who: Writer,
    patch: Annotated[RoleUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> RoleRead:
    """Change a role (JSON merge patch); `permissions` replaces the whole set."""
    role, perms = await service.update_role(session, caller=who, code=code, patch=patch, present=present_keys(patch))
    return _role(request, role, perms)


@router.delete("/roles/{code}", status_code=204)
async def delete_role(code: str, session: Session, who: Writer) -> Response:
    """Delete a role no staff holds (409 while it is held)."""
    await service.delete_role(session, caller=who, code=code)
    return Response(status_code=204)


@router.get("/permissions", response_model=list[PermissionRead])
async def list_permissions(
    request: Request, response: Response, session: Session, _: Reader
) -> list[PermissionRead] | JSONResponse:
    """The permission catalogue (resource:action codes)."""
    lq = parse_list_query(request, PERMISSION_FILTERS, PERMISSION_FIELDS)
    perms, total = await service.list_permissions(session, lq=lq)
    return page(response, [_permission(request, p) for p in perms], total, lq)


@router.get("/permissions/{code}")
async def get_permission(code: str, request: Request, session: Session, _: Reader) -> PermissionRead:
    """One permission by its code."""
    return _permission(request, await service.get_permission(session, code=code))
