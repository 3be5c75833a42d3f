"""Staff CRUD under TMF630 rules, permissions, audit, outbox and data scope."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import envelope_pb2, org_pb2
from kam_org.models import Audit, Outbox, Staff

from .conftest import PASSWORD, MakeUser, login, make_staff, token_for

BASE = "/api/v1/org/staff"


def new_staff(**over: Any) -> dict[str, Any]:
    body = {
        "username": "am_wang",
        "displayName": "王芳",
        "password": "s3cret-pass",
        "roles": ["account_manager"],
        "phone": "13900001111",
        "email": "wang@example.com",
    }
    body.update(over)
    return body


async def create(client: httpx.AsyncClient, headers: dict[str, str], **over: Any) -> dict[str, Any]:
    resp = await client.post(BASE, json=new_staff(**over), headers=headers)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_create_returns_201_location_and_never_the_password(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    resp = await client.post(BASE, json=new_staff(), headers=admin)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert resp.headers["location"] == body["href"] == f"http://testserver{BASE}/{body['id']}"
    assert body["@type"] == "Staff"
    assert body["username"] == "am_wang"
    assert body["displayName"] == "王芳"
    assert body["roles"] == ["account_manager"]
    assert body["ownerNode"] == "gd-gz"
    assert body["isActive"] is True
    assert body["version"] == 1
    assert not any("password" in k.lower() for k in body)
    got = await client.get(f"{BASE}/{body['id']}", headers=admin)
    assert got.status_code == 200
    assert got.json() == body
    assert (await login(client, "am_wang", "s3cret-pass")).status_code == 200


async def test_analyst_cannot_create_staff(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await make_user("analyst1", ["analyst"])
    headers = await token_for(client, "analyst1")
    resp = await client.post(BASE, json=new_staff(), headers=headers)
    assert resp.status_code == 403
    body = resp.json()
    assert body["@type"] == "Error"
    assert body["code"] == "FORBIDDEN"
    assert "org.staff:write" in body["message"]


async def test_list_headers_fields_filters_search_and_sort(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    await create(client, admin, username="am_li", displayName="李娜")
    await create(client, admin, username="agent_zhao", displayName="赵敏", roles=["service_agent"])
    resp = await client.get(BASE, params={"sort": "-username"}, headers=admin)
    assert resp.status_code == 200
    names = [s["username"] for s in resp.json()]
    assert names == sorted(names, reverse=True)
    assert resp.headers["x-total-count"] == "3"  # root, am_li, agent_zhao
    assert resp.headers["x-result-count"] == "3"

    page = await client.get(BASE, params={"limit": 1, "offset": 1, "sort": "username"}, headers=admin)
    assert page.headers["x-total-count"] == "3"
    assert page.headers["x-result-count"] == "1"
    assert [s["username"] for s in page.json()] == ["am_li"]

    fields = await client.get(BASE, params={"fields": "username"}, headers=admin)
    assert all(set(s) == {"id", "href", "@type", "username"} for s in fields.json())

    by_role = await client.get(BASE, params={"roles": "service_agent"}, headers=admin)
    assert [s["username"] for s in by_role.json()] == ["agent_zhao"]
    search = await client.get(BASE, params={"q": "李"}, headers=admin)
    assert [s["username"] for s in search.json()] == ["am_li"]
    active = await client.get(BASE, params={"isActive": "true"}, headers=admin)
    assert active.headers["x-total-count"] == "3"

    assert (await client.get(BASE, params={"colour": "red"}, headers=admin)).status_code == 400
    assert (await client.get(BASE, params={"fields": "passwordHash"}, headers=admin)).status_code == 400
    bad_bool = await client.get(BASE, params={"isActive": "maybe"}, headers=admin)
    assert bad_bool.status_code == 400
    assert bad_bool.json()["code"] == "INVALID_QUERY"


async def test_unknown_id_is_404_envelope(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for sid in (uuid.uuid4(), "not-an-id"):
        resp = await client.get(f"{BASE}/{sid}", headers=admin)
        assert resp.status_code == 404
        assert resp.json()["@type"] == "Error"
        assert resp.json()["code"] == "NOT_FOUND"
    assert (await client.patch(f"{BASE}/{uuid.uuid4()}", json={"displayName": "x"}, headers=admin)).status_code == 404
    assert (await client.delete(f"{BASE}/{uuid.uuid4()}", headers=admin)).status_code == 404


async def test_bad_bodies(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    missing = await client.post(BASE, json={"username": "x1", "password": "long-enough"}, headers=admin)
    assert missing.status_code == 422
    assert missing.json()["details"]["field"] == "displayName"
    short = await client.post(BASE, json=new_staff(password="short"), headers=admin)
    assert short.status_code == 422
    assert short.json()["details"]["field"] == "password"
    unknown_role = await client.post(BASE, json=new_staff(roles=["wizard", "analyst"]), headers=admin)
    assert unknown_role.status_code == 422
    assert unknown_role.json()["details"]["field"] == "roles"
    assert "wizard" in unknown_role.json()["message"]
    extra = await client.post(BASE, json=new_staff(passwordHash="x"), headers=admin)
    assert extra.status_code == 422
    assert extra.json()["details"]["field"] == "passwordHash"
    malformed = await client.post(BASE, content=b"{not json", headers={**admin, "Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["@type"] == "Error"
    wrong_type = await client.post(BASE, content=b"username=x", headers={**admin, "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415


async def test_duplicate_username_is_409(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    await create(client, admin)
    resp = await client.post(BASE, json=new_staff(), headers=admin)
    assert resp.status_code == 409
    assert resp.json()["code"] == "CONFLICT"


async def test_merge_patch_both_content_types_password_and_roles(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    staff = await create(client, admin)
    url = f"{BASE}/{staff['id']}"
    merge = await client.patch(
        url,
        content=json.dumps({"displayName": "王芳芳", "phone": None}),
        headers={**admin, "Content-Type": "application/merge-patch+json"},
    )
    assert merge.status_code == 200, merge.text
    assert merge.json()["displayName"] == "王芳芳"
    assert merge.json()["phone"] is None
    assert merge.json()["email"] == "wang@example.com"  # untouched
    assert merge.json()["version"] == 2

    plain = await client.patch(url, json={"roles": ["analyst", "auditor"], "password": "brand-new-pass"}, headers=admin)
    assert plain.status_code == 200, plain.text
    assert plain.json()["roles"] == ["analyst", "auditor"]
    assert plain.json()["version"] == 3
    assert (await login(client, "am_wang", "s3cret-pass")).status_code == 401
    assert (await login(client, "am_wang", "brand-new-pass")).status_code == 200

    bad_type = await client.patch(url, content=b"{}", headers={**admin, "Content-Type": "text/plain"})
    assert bad_type.status_code == 415
    malformed = await client.patch(url, content=b"{", headers={**admin, "Content-Type": "application/json"})
    assert malformed.status_code == 400
    null_name = await client.patch(url, json={"displayName": None}, headers=admin)
    assert null_name.status_code == 422
    assert null_name.json()["details"]["field"] == "displayName"
    rename = await client.patch(url, json={"username": "other"}, headers=admin)
    assert rename.status_code == 422
    assert rename.json()["details"]["field"] == "username"
    short = await client.patch(url, json={"password": "short"}, headers=admin)
    assert short.status_code == 422


async def test_delete_deactivates_and_login_is_refused(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    staff = await create(client, admin)
    resp = await client.delete(f"{BASE}/{staff['id']}", headers=admin)
    assert resp.status_code == 204
    assert resp.content == b""
    got = await client.get(f"{BASE}/{staff['id']}", headers=admin)
    assert got.status_code == 200
    assert got.json()["isActive"] is False
    assert got.json()["version"] == 2
    assert (await login(client, "am_wang", "s3cret-pass")).status_code == 401
    inactive = await client.get(BASE, params={"isActive": "false"}, headers=admin)
    assert [s["username"] for s in inactive.json()] == ["am_wang"]


async def test_every_write_leaves_an_audit_row_with_old_and_new(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    staff = await create(client, admin)
    await client.patch(
        f"{BASE}/{staff['id']}", json={"displayName": "王芳芳", "password": "another-pass"}, headers=admin
    )
    await client.delete(f"{BASE}/{staff['id']}", headers=admin)
    rows = (
        await session.scalars(select(Audit).where(Audit.entity_id == uuid.UUID(staff["id"])).order_by(Audit.at))
    ).all()
    assert [r.action for r in rows] == ["create", "update", "deactivate"]
    assert all(r.actor == "root" and r.owner_node == "gd-gz" and r.entity_type == "staff" for r in rows)
    assert rows[0].changes["username"] == [None, "am_wang"]
    assert rows[1].changes["display_name"] == ["王芳", "王芳芳"]
    assert rows[1].changes["password"] == ["***", "*** (changed)"]
    assert rows[2].changes == {"is_active": [True, False]}
    assert "argon2" not in json.dumps([r.changes for r in rows])


async def test_every_write_publishes_a_staff_changed_event_through_the_outbox(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    staff = await create(client, admin)
    await client.patch(f"{BASE}/{staff['id']}", json={"roles": ["analyst"]}, headers=admin)
    await client.delete(f"{BASE}/{staff['id']}", headers=admin)
    rows = (
        await session.scalars(select(Outbox).where(Outbox.aggregate_id == staff["id"]).order_by(Outbox.created_at))
    ).all()
    assert [r.version for r in rows] == [1, 2, 3]
    assert all(r.subject == f"up.gd-gz.org.staff.{staff['id']}" for r in rows)
    assert all(r.event_type == "kam.v1.StaffChanged" for r in rows)
    events = []
    for row in rows:
        env = envelope_pb2.Envelope.FromString(row.payload)
        assert env.origin_node == "gd-gz" and env.actor == "root" and env.aggregate_type == "staff"
        msg = org_pb2.StaffChanged.FromString(env.payload)
        events.append(msg)
        assert b"argon2" not in row.payload
    assert [list(e.roles) for e in events] == [["account_manager"], ["analyst"], ["analyst"]]
    assert [e.is_active for e in events] == [True, True, False]
    assert events[0].username == "am_wang" and events[0].display_name == "王芳"


async def _foreign_staff(session: AsyncSession, node: str, username: str) -> Staff:
    """A replica row owned by another node, inserted directly (as replication would)."""
    staff = Staff(
        owner_node=node, version=1, username=username, display_name=username, password_hash="!", is_active=True
    )
    session.add(staff)
    await session.flush()
    return staff


async def test_local_user_cannot_see_staff_owned_by_a_sibling_node(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    foreign = await _foreign_staff(session, "gd-sz", "sz_user")
    listed = await client.get(BASE, headers=admin)
    assert "sz_user" not in [s["username"] for s in listed.json()]
    assert listed.headers["x-total-count"] == "1"
    assert (await client.get(BASE, params={"ownerNode": "gd-sz"}, headers=admin)).json() == []
    assert (await client.get(f"{BASE}/{foreign.id}", headers=admin)).status_code == 404
    assert (await client.patch(f"{BASE}/{foreign.id}", json={"displayName": "x"}, headers=admin)).status_code == 404


async def test_province_sees_its_subtree_narrowed_scope_hides_the_rest_and_replicas_are_read_only(
    province: tuple[httpx.AsyncClient, AsyncSession],
) -> None:
    client, session = province
    await make_staff(session, "gd", "gd_admin", ["sys_admin"])
    gz = await _foreign_staff(session, "gd-gz", "gz_user")
    await _foreign_staff(session, "gd-sz", "sz_user")
    await _foreign_staff(session, "js-nj", "nj_user")
    headers = await token_for(client, "gd_admin")
    seen = {s["username"] for s in (await client.get(BASE, headers=headers)).json()}
    assert seen == {"gd_admin", "gz_user", "sz_user"}

    narrowed = await login(client, "gd_admin", PASSWORD, scope_node="gd-sz")
    narrow_headers = {"Authorization": f"Bearer {narrowed.json()['access_token']}"}
    resp = await client.get(BASE, headers=narrow_headers)
    assert {s["username"] for s in resp.json()} == {"sz_user"}
    assert resp.headers["x-total-count"] == "1"

    write = await client.patch(f"{BASE}/{gz.id}", json={"displayName": "x"}, headers=headers)
    assert write.status_code == 409
    assert write.json()["code"] == "NOT_OWNER"
    assert write.json()["details"]["ownerNode"] == "gd-gz"
    assert (await client.delete(f"{BASE}/{gz.id}", headers=headers)).status_code == 409
