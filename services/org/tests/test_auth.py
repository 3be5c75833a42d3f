"""Token issuing (password grant, scope narrowing), JWKS, and token verification on protected paths."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import SigningKey
from kam_platform.auth import generate_signing_key, load_private_key, sign_token

from .conftest import NODE, MakeUser, login, make_staff, token_for


async def decode_with_jwks(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    jwks = (await client.get("/.well-known/jwks.json")).json()
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(token, jwt.PyJWK(jwk), algorithms=["EdDSA"], audience="kam")
    return claims


async def test_good_password_issues_token_whose_claims_verify_with_jwks(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("am_zhang", ["account_manager"], display_name="张伟")
    resp = await login(client, "am_zhang")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope_node"] == NODE
    claims = await decode_with_jwks(client, body["access_token"])
    assert claims["sub"] == "am_zhang"
    assert claims["node"] == NODE
    assert claims["scope_node"] == NODE
    assert claims["roles"] == ["account_manager"]
    assert set(claims["perms"]) == {
        "customer:read",
        "customer:create",
        "customer:update",
        "customer:export",
        "customer:import",
        "customer.pii:read",
        "customer.history:read",
        "customer.designation:respond",
        "org.node:read",
    }
    assert claims["name"] == "张伟"
    assert claims["iss"] == f"kam:{NODE}"
    assert claims["aud"] == "kam"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["jti"]


async def test_jwks_needs_no_token_and_publishes_ed25519_keys(client: httpx.AsyncClient) -> None:
    resp = await client.get("/.well-known/jwks.json")
    assert resp.status_code == 200
    keys = resp.json()["keys"]
    assert keys
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["alg"] == "EdDSA" for k in keys)
    assert all("d" not in k for k in keys)  # never the private part


async def test_wrong_password_unknown_user_and_inactive_user_get_the_same_401(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("active1", ["analyst"])
    await make_user("gone1", ["analyst"], is_active=False)
    wrong = await login(client, "active1", "not-the-password")
    unknown = await login(client, "nobody")
    inactive = await login(client, "gone1")
    for resp in (wrong, unknown, inactive):
        assert resp.status_code == 401
        body = resp.json()
        assert body["@type"] == "Error"
        assert body["code"] == "UNAUTHORIZED"
        assert body["status"] == "401"
    assert wrong.json()["message"] == unknown.json()["message"] == inactive.json()["message"]


async def test_unsupported_grant_type_is_400(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials", "username": "x", "password": "y"}
    )
    assert resp.status_code == 400
    assert resp.json()["@type"] == "Error"


async def test_missing_form_field_is_422_naming_it(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "x"})
    assert resp.status_code == 422
    assert resp.json()["details"]["field"] == "password"


async def test_scope_cannot_be_widened_or_moved_to_a_sibling(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await make_user("local1", ["analyst"])
    for other in ("gd", "hq", "gd-sz", "js-nj", "nowhere"):
        resp = await login(client, "local1", scope_node=other)
        assert resp.status_code == 403, other
        assert resp.json()["code"] == "FORBIDDEN"
    same = await login(client, "local1", scope_node=NODE)
    assert same.status_code == 200
    assert same.json()["scope_node"] == NODE


async def test_province_user_can_narrow_scope_to_a_descendant(
    province: tuple[httpx.AsyncClient, AsyncSession],
) -> None:
    client, session = province
    await make_staff(session, "gd", "gd_analyst", ["analyst"])
    resp = await login(client, "gd_analyst", scope_node="gd-gz")
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope_node"] == "gd-gz"
    claims = await decode_with_jwks(client, resp.json()["access_token"])
    assert (claims["node"], claims["scope_node"]) == ("gd", "gd-gz")
    for wider in ("hq", "js", "js-nj"):
        assert (await login(client, "gd_analyst", scope_node=wider)).status_code == 403


async def test_protected_endpoint_without_token_is_401(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/org/staff")
    assert resp.status_code == 401
    assert resp.json()["@type"] == "Error"
    assert resp.headers["www-authenticate"] == "Bearer"


async def _node_key(session: AsyncSession) -> SigningKey:
    return (await session.scalars(select(SigningKey).where(SigningKey.is_active))).one()


def _claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "root",
        "node": NODE,
        "scope_node": NODE,
        "roles": ["sys_admin"],
        "perms": ["org.staff:read"],
        "name": "root",
        "iat": now,
        "exp": now + 3600,
        "jti": "x",
        "aud": "kam",
        "iss": f"kam:{NODE}",
    }
    claims.update(over)
    return claims


async def test_expired_forged_and_foreign_tokens_are_401(client: httpx.AsyncClient, session: AsyncSession) -> None:
    key = await _node_key(session)
    good = sign_token(load_private_key(key.private_pem), key.kid, _claims())
    assert (await client.get("/api/v1/org/staff", headers={"Authorization": f"Bearer {good}"})).status_code == 200

    now = int(time.time())
    expired = sign_token(load_private_key(key.private_pem), key.kid, _claims(iat=now - 7200, exp=now - 3600))
    forged = sign_token(generate_signing_key(), key.kid, _claims())  # right kid, wrong key
    foreign = sign_token(generate_signing_key(), "someone-else", _claims())  # a key this node never issued
    wrong_aud = sign_token(load_private_key(key.private_pem), key.kid, _claims(aud="other"))
    for token in (expired, forged, foreign, wrong_aud, "not-a-jwt"):
        resp = await client.get("/api/v1/org/staff", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, token
        assert resp.json()["code"] == "UNAUTHORIZED"


async def test_permission_changes_take_effect_with_the_next_token(
    client: httpx.AsyncClient, make_user: MakeUser, admin: dict[str, str]
) -> None:
    staff = await make_user("promoted", ["analyst"])
    before = await token_for(client, "promoted")
    assert (await client.get("/api/v1/org/staff", headers=before)).status_code == 403
    patch = await client.patch(f"/api/v1/org/staff/{staff.id}", json={"roles": ["auditor"]}, headers=admin)
    assert patch.status_code == 200, patch.text
    after = await token_for(client, "promoted")
    assert (await client.get("/api/v1/org/staff", headers=after)).status_code == 200
