"""Roles and the permission catalogue: seeded by the migration, administered as data."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Audit, Outbox

from .conftest import MakeUser, token_for

ROLES = "/api/v1/org/roles"

EXPECTED = {
    "security_admin": {"org.security:admin", "org.role:read", "org.role:write", "org.node:read"},
    "analyst": {"customer:read", "customer:export", "org.node:read", "sync:read"},
    "service_agent": {"customer:read", "customer.history:read", "org.node:read"},
    "auditor": {
        "customer:read",
        "customer.history:read",
        "org.node:read",
        "org.staff:read",
        "org.role:read",
        "sync:read",
    },
    "account_manager": {
        "customer:read",
        "customer:create",
        "customer:update",
        "customer:export",
        "customer:import",
        "customer.pii:read",
        "customer.history:read",
        "customer.designation:respond",
        "org.node:read",
    },
    "ka_dept_manager": {
        "customer:read",
        "customer:create",
        "customer:update",
        "customer:delete",
        "customer:import",
        "customer:export",
        "customer:transfer",
        "customer.pii:read",
        "customer.history:read",
        "org.node:read",
        "org.staff:read",
        "org.team:read",
        "customer.designation:write",
        "customer.designation:respond",
        "sync:read",
    },
    "sys_admin": {
        "org.node:read",
        "org.staff:read",
        "org.staff:write",
        "org.role:read",
        "org.role:write",
        "org.team:read",
        "org.team:write",
        "customer:read",
        "customer.history:read",
        "sync:read",
        "sync:admin",
    },
}


async def test_migration_seeds_the_catalogue_and_the_builtin_roles(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    perms = await client.get("/api/v1/org/permissions", headers=admin)
    assert perms.status_code == 200
    assert perms.headers["x-total-count"] == "22"
    assert all(p["@type"] == "Permission" and p["id"] == p["code"] for p in perms.json())
    roles = await client.get(ROLES, headers=admin)
    by_code = {r["code"]: r for r in roles.json()}
    assert {c: set(r["permissions"]) for c, r in by_code.items()} == EXPECTED
    assert by_code["account_manager"]["nameZh"] == "客户经理"
    one = await client.get(f"{ROLES}/analyst", headers=admin)
    assert one.status_code == 200
    assert one.json()["href"] == "http://testserver/api/v1/org/roles/analyst"
    assert (await client.get(f"{ROLES}/nope", headers=admin)).status_code == 404
    assert (await client.get("/api/v1/org/permissions/customer:read", headers=admin)).status_code == 200


async def test_role_crud_with_unknown_permission_refused(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    body = {
        "code": "industry_expert",
        "nameZh": "行业专家",
        "nameEn": "Industry expert",
        "permissions": ["customer:read", "customer:fly"],
    }
    bad = await client.post(ROLES, json=body, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["details"]["field"] == "permissions"
    assert "customer:fly" in bad.json()["message"]

    body["permissions"] = ["customer:read", "org.node:read"]
    created = await client.post(ROLES, json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith("/api/v1/org/roles/industry_expert")
    assert (await client.post(ROLES, json=body, headers=admin)).status_code == 409

    patched = await client.patch(f"{ROLES}/industry_expert", json={"permissions": ["customer:read"]}, headers={**admin})
    assert patched.status_code == 200
    assert patched.json()["permissions"] == ["customer:read"]
    assert patched.json()["version"] == 2
    unknown = await client.patch(f"{ROLES}/industry_expert", json={"permissions": ["x:y"]}, headers=admin)
    assert unknown.status_code == 422

    assert (await client.delete(f"{ROLES}/industry_expert", headers=admin)).status_code == 204
    assert (await client.get(f"{ROLES}/industry_expert", headers=admin)).status_code == 404

    audit = (await session.scalars(select(Audit).where(Audit.entity_type == "role").order_by(Audit.at))).all()
    assert [a.action for a in audit] == ["create", "update", "delete"]
    outbox = (
        await session.scalars(
            select(Outbox).where(Outbox.aggregate_id == "industry_expert").order_by(Outbox.created_at)
        )
    ).all()
    assert [o.event_type for o in outbox] == ["kam.v1.RoleChanged", "kam.v1.RoleChanged", "kam.v1.RoleDeleted"]


async def test_role_held_by_staff_cannot_be_deleted(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    resp = await client.delete(f"{ROLES}/sys_admin", headers=admin)  # root holds it
    assert resp.status_code == 409


async def test_auditor_reads_roles_but_cannot_change_them(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await make_user("auditor1", ["auditor"])
    headers = await token_for(client, "auditor1")
    assert (await client.get(ROLES, headers=headers)).status_code == 200
    resp = await client.patch(f"{ROLES}/analyst", json={"description": "x"}, headers=headers)
    assert resp.status_code == 403
    assert "org.role:write" in resp.json()["message"]
