"""Separation of duties (issue 6, "Also"): may a node admin grant its own role PII access? No.

Nobody adds a permission to a role they hold or gives themselves a role; PII and security permissions
are granted only by a security administrator or by an administrator of an ancestor node. Refusals are
403 SEPARATION_OF_DUTIES and write nothing (no change, no audit row, no event)."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.auth import service as auth_service
from kam_org.models import Audit, Outbox

from .conftest import TOPO, MakeUser, make_staff, token_for

ROLES = "/api/v1/org/roles"
STAFF = "/api/v1/org/staff"
PII = "customer.pii:read"
MERGE = {"Content-Type": "application/merge-patch+json"}


async def _perms(client: httpx.AsyncClient, headers: dict[str, str], role: str) -> set[str]:
    resp = await client.get(f"{ROLES}/{role}", headers=headers)
    assert resp.status_code == 200, resp.text
    return set(resp.json()["permissions"])


async def _grant(client: httpx.AsyncClient, headers: dict[str, str], role: str, *perms: str) -> httpx.Response:
    current = await _perms(client, headers, role)
    return await client.patch(
        f"{ROLES}/{role}", json={"permissions": sorted(current | set(perms))}, headers={**headers, **MERGE}
    )


def _refused(resp: httpx.Response) -> str:
    assert resp.status_code == 403, resp.text
    body = resp.json()
    assert body["@type"] == "Error" and body["code"] == "SEPARATION_OF_DUTIES" and body["status"] == "403"
    return str(body["message"])


async def _writes(session: AsyncSession) -> tuple[int, int]:
    audits = await session.scalar(select(func.count()).select_from(Audit).where(Audit.entity_type == "role"))
    events = await session.scalar(select(func.count()).select_from(Outbox))
    return int(audits or 0), int(events or 0)


async def test_a_node_admin_cannot_grant_its_own_role_pii_access(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    before = await _writes(session)
    message = _refused(await _grant(client, admin, "sys_admin", PII))
    assert "you hold this role" in message
    # nor any other permission: a grant that widens one's own rights needs a second person
    _refused(await _grant(client, admin, "sys_admin", "customer:export"))
    assert PII not in await _perms(client, admin, "sys_admin")
    assert await _writes(session) == before
    # narrowing one's own role is fine
    current = await _perms(client, admin, "sys_admin")
    resp = await client.patch(
        f"{ROLES}/sys_admin",
        json={"permissions": sorted(current - {"customer.history:read"})},
        headers={**admin, **MERGE},
    )
    assert resp.status_code == 200, resp.text


async def test_a_node_admin_cannot_grant_pii_to_any_role(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    message = _refused(await _grant(client, admin, "analyst", PII))
    assert "security administrator" in message
    body = {"code": "pii_reader", "nameZh": "敏感信息查看", "nameEn": "PII reader", "permissions": [PII]}
    _refused(await client.post(ROLES, json=body, headers=admin))
    assert (await client.get(f"{ROLES}/pii_reader", headers=admin)).status_code == 404
    _refused(await _grant(client, admin, "analyst", "org.security:admin"))
    # ordinary permissions to a role the admin does not hold are still its job
    resp = await _grant(client, admin, "analyst", "customer.history:read")
    assert resp.status_code == 200 and "customer.history:read" in resp.json()["permissions"]


async def test_a_security_admin_grants_pii_but_not_to_its_own_role(
    client: httpx.AsyncClient, make_user: MakeUser, admin: dict[str, str]
) -> None:
    await make_user("sec", ["security_admin"])
    sec = await token_for(client, "sec")
    resp = await _grant(client, sec, "analyst", PII)
    assert resp.status_code == 200 and PII in resp.json()["permissions"]
    _refused(await _grant(client, sec, "security_admin", PII))


async def test_an_ancestor_nodes_admin_may_grant_pii(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    await make_staff(session, "hq", "hq_root", ["sys_admin"])
    issued = await auth_service.operator_token(session, node="hq", topology=TOPO, username="hq_root")
    hq = {"Authorization": f"Bearer {issued.access_token}"}
    resp = await _grant(client, hq, "analyst", PII)
    assert resp.status_code == 200 and PII in resp.json()["permissions"]
    # but not to a role the hq admin holds itself
    _refused(await _grant(client, hq, "sys_admin", PII))


async def test_an_admin_cannot_give_itself_a_role(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: MakeUser
) -> None:
    me = (await client.get(STAFF, params={"username": "root"}, headers=admin)).json()[0]
    resp = await client.patch(
        f"{STAFF}/{me['id']}", json={"roles": ["sys_admin", "account_manager"]}, headers={**admin, **MERGE}
    )
    assert "yourself" in _refused(resp)
    other = await make_user("am_zhou", ["service_agent"])
    resp = await client.patch(f"{STAFF}/{other.id}", json={"roles": ["account_manager"]}, headers={**admin, **MERGE})
    assert resp.status_code == 200, resp.text
