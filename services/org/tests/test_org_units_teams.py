"""Org units and teams: basic CRUD with the same TMF, audit and outbox rules as staff."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Audit, Outbox

from .conftest import MakeUser

UNITS = "/api/v1/org/org-units"
TEAMS = "/api/v1/org/teams"


async def test_org_unit_crud(client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession) -> None:
    resp = await client.post(UNITS, json={"code": "KA", "name": "大客户部", "kind": "大客户部"}, headers=admin)
    assert resp.status_code == 201, resp.text
    ka = resp.json()
    assert resp.headers["location"] == ka["href"]
    assert ka["@type"] == "OrgUnit" and ka["ownerNode"] == "gd-gz"
    assert (await client.post(UNITS, json={"code": "KA", "name": "x", "kind": "x"}, headers=admin)).status_code == 409
    child = await client.post(
        UNITS, json={"code": "KA-1", "name": "一组", "kind": "班组", "parentId": ka["id"]}, headers=admin
    )
    assert child.status_code == 201
    bad_parent = await client.post(
        UNITS, json={"code": "X", "name": "x", "kind": "x", "parentId": str(uuid.uuid4())}, headers=admin
    )
    assert bad_parent.status_code == 422
    assert bad_parent.json()["details"]["field"] == "parentId"
    cycle = await client.patch(f"{UNITS}/{ka['id']}", json={"parentId": child.json()["id"]}, headers=admin)
    assert cycle.status_code == 422

    listed = await client.get(UNITS, params={"parentId": ka["id"]}, headers=admin)
    assert [u["code"] for u in listed.json()] == ["KA-1"]
    renamed = await client.patch(f"{UNITS}/{ka['id']}", json={"name": "大客户中心"}, headers=admin)
    assert renamed.json()["name"] == "大客户中心" and renamed.json()["version"] == 2

    assert (await client.delete(f"{UNITS}/{ka['id']}", headers=admin)).status_code == 409  # has a child
    assert (await client.delete(f"{UNITS}/{child.json()['id']}", headers=admin)).status_code == 204
    assert (await client.delete(f"{UNITS}/{ka['id']}", headers=admin)).status_code == 204
    assert (await client.get(f"{UNITS}/{ka['id']}", headers=admin)).status_code == 404

    actions = (
        await session.scalars(select(Audit.action).where(Audit.entity_id == uuid.UUID(ka["id"])).order_by(Audit.at))
    ).all()
    assert actions == ["create", "update", "delete"]
    types = (
        await session.scalars(
            select(Outbox.event_type).where(Outbox.aggregate_id == ka["id"]).order_by(Outbox.created_at)
        )
    ).all()
    assert types == ["kam.v1.OrgUnitChanged", "kam.v1.OrgUnitChanged", "kam.v1.OrgUnitDeleted"]


async def test_staff_org_unit_must_exist(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    resp = await client.post(
        "/api/v1/org/staff",
        headers=admin,
        json={"username": "u1", "displayName": "u1", "password": "long-enough", "orgUnitId": str(uuid.uuid4())},
    )
    assert resp.status_code == 422
    assert resp.json()["details"]["field"] == "orgUnitId"


async def test_team_crud(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: MakeUser, session: AsyncSession
) -> None:
    lead = await make_user("lead1", ["ka_dept_manager"])
    member = await make_user("am1", ["account_manager"])
    body = {
        "code": "FIN",
        "name": "金融行业专家团队",
        "kind": "行业专家团队",
        "leaderId": str(lead.id),
        "memberIds": [str(member.id), str(lead.id)],
    }
    resp = await client.post(TEAMS, json=body, headers=admin)
    assert resp.status_code == 201, resp.text
    team = resp.json()
    assert team["@type"] == "Team"
    assert sorted(team["memberIds"]) == sorted([str(member.id), str(lead.id)])
    assert (await client.post(TEAMS, json=body, headers=admin)).status_code == 409
    stranger = await client.post(TEAMS, headers=admin, json={**body, "code": "X", "memberIds": [str(uuid.uuid4())]})
    assert stranger.status_code == 422
    assert stranger.json()["details"]["field"] == "memberIds"

    patched = await client.patch(f"{TEAMS}/{team['id']}", json={"memberIds": [str(member.id)]}, headers=admin)
    assert patched.status_code == 200
    assert patched.json()["memberIds"] == [str(member.id)]
    assert patched.json()["version"] == 2
    listed = await client.get(TEAMS, params={"kind": "行业专家团队", "fields": "name"}, headers=admin)
    assert listed.json() == [{"id": team["id"], "href": team["href"], "@type": "Team", "name": "金融行业专家团队"}]

    assert (await client.delete(f"{TEAMS}/{team['id']}", headers=admin)).status_code == 204
    assert (await client.get(f"{TEAMS}/{team['id']}", headers=admin)).status_code == 404
    types = (
        await session.scalars(
            select(Outbox.event_type).where(Outbox.aggregate_id == team["id"]).order_by(Outbox.created_at)
        )
    ).all()
    assert types == ["kam.v1.TeamChanged", "kam.v1.TeamChanged", "kam.v1.TeamDeleted"]


async def test_team_permissions(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    from .conftest import token_for

    await make_user("mgr1", ["ka_dept_manager"])
    headers = await token_for(client, "mgr1")
    assert (await client.get(TEAMS, headers=headers)).status_code == 200
    resp = await client.post(TEAMS, json={"code": "A", "name": "a", "kind": "k"}, headers=headers)
    assert resp.status_code == 403
    assert "org.team:write" in resp.json()["message"]
