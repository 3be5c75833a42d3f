"""Tokens at the portfolio levels of the data scope (F19 职责): ``scope_level=own`` and ``team`` (the
members and leaders of the user's teams travel in the ``portfolio`` claim), verified as principals."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Team, TeamMember
from kam_platform.auth import ScopeLevel, principal_from_claims

from .conftest import NODE, PASSWORD, TOPO, MakeUser
from .test_auth import decode_with_jwks


async def login_at(client: httpx.AsyncClient, username: str, level: str | None) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": PASSWORD}
    if level is not None:
        form["scope_level"] = level
    return await client.post("/api/v1/auth/token", data=form)


async def claims_at(client: httpx.AsyncClient, username: str, level: str | None) -> dict[str, Any]:
    resp = await login_at(client, username, level)
    assert resp.status_code == 200, resp.text
    return await decode_with_jwks(client, resp.json()["access_token"])


async def test_team_token_carries_the_teams_members_and_leader(
    client: httpx.AsyncClient, make_user: MakeUser, session: AsyncSession
) -> None:
    lead = await make_user("pf_lead", ["account_manager"])
    am1 = await make_user("pf_am1", ["account_manager"])
    am2 = await make_user("pf_am2", ["account_manager"])
    await make_user("pf_other", ["account_manager"])
    team = Team(
        id=uuid.uuid4(),
        owner_node=NODE,
        version=1,
        code="PF-T1",
        name="金融行业组",
        kind="行业专家团队",
        leader_id=lead.id,
    )
    session.add(team)
    await session.flush()
    session.add_all([TeamMember(team_id=team.id, staff_id=am1.id), TeamMember(team_id=team.id, staff_id=am2.id)])
    await session.flush()

    claims = await claims_at(client, "pf_am1", "team")
    assert claims["scope_level"] == "team"
    assert claims["portfolio"] == ["pf_am1", "pf_am2", "pf_lead"]
    principal = principal_from_claims(claims, TOPO)
    assert principal.scope_level is ScopeLevel.TEAM
    assert principal.portfolio == {"pf_am1", "pf_am2", "pf_lead"}
    # the leader's team portfolio is the same team
    assert (await claims_at(client, "pf_lead", "team"))["portfolio"] == ["pf_am1", "pf_am2", "pf_lead"]
    # someone in no team sees only their own customers at the team level
    assert principal_from_claims(await claims_at(client, "pf_other", "team"), TOPO).portfolio == {"pf_other"}


async def test_own_token_and_node_token(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await make_user("pf_self", ["account_manager"])
    own = await claims_at(client, "pf_self", "own")
    assert own["scope_level"] == "own" and "portfolio" not in own
    assert principal_from_claims(own, TOPO).portfolio == {"pf_self"}
    node = await claims_at(client, "pf_self", None)
    assert "scope_level" not in node and "portfolio" not in node
    assert principal_from_claims(node, TOPO).scope_level is ScopeLevel.NODE


async def test_unknown_scope_level_is_a_422_naming_it(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await make_user("pf_bad", ["account_manager"])
    resp = await login_at(client, "pf_bad", "everything")
    assert resp.status_code == 422 and resp.json()["@type"] == "Error"
    assert "scope_level" in resp.json()["message"]


async def test_a_portfolio_level_does_not_narrow_org_records(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await make_user("pf_admin", ["sys_admin"])
    await make_user("pf_colleague", ["account_manager"])
    seen = {}
    for level in (None, "own", "team"):
        resp = await login_at(client, "pf_admin", level)
        headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}
        r = await client.get("/api/v1/org/staff", params={"limit": 1000}, headers=headers)
        assert r.status_code == 200, r.text
        seen[level] = {s["username"] for s in r.json()}
    assert "pf_colleague" in seen[None]
    assert seen["own"] == seen["team"] == seen[None]
