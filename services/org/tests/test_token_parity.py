"""`kam token` and the token endpoint issue the same claims (issue 10): the CLI's operator token is built
by the endpoint's own claim builder (kam_org.auth.claims) on a plain asyncpg connection, and for the
same user and the same narrowing it carries exactly the claims the org service's password grant issues
— only the per-token `iat`, `exp` and `jti` differ."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest

from kam_org.main import MIGRATIONS, create_app
from kam_org.seed import DEMO_PASSWORD, seed
from kam_org.tokens import issue_token
from kam_platform.testing.plugin import app_client

from .conftest import TOPO, settings_for

PER_TOKEN = {"iat", "exp", "jti"}


def decode(token: str, jwks: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(token, jwt.PyJWK(jwk), algorithms=["EdDSA"], audience="kam")
    return kid, claims


@pytest.mark.parametrize(
    ("user", "scope_node", "scope_level"),
    [("admin", None, None), ("admin", "gd-gz", None), ("am01", None, "team"), ("am01", None, "own")],
)
async def test_cli_token_has_exactly_the_claims_of_the_token_endpoint(
    make_database: Callable[[str, list[str]], str],
    nats_url: str,
    user: str,
    scope_node: str | None,
    scope_level: str | None,
) -> None:
    url = make_database("test_org_token_parity", [MIGRATIONS])
    await seed(url, "gd", TOPO)
    app = create_app(settings_for("gd", url, nats_url))
    async with app.router.lifespan_context(app), await app_client(app) as client:
        form = {"grant_type": "password", "username": user, "password": DEMO_PASSWORD}
        form |= {"scope_node": scope_node} if scope_node else {}
        form |= {"scope_level": scope_level} if scope_level else {}
        resp = await client.post("/api/v1/auth/token", data=form)
        assert resp.status_code == 200, resp.text
        jwks = (await client.get("/.well-known/jwks.json")).json()
    by_service = decode(resp.json()["access_token"], jwks)
    by_cli = decode(await issue_token(url, "gd", user, TOPO, scope_node=scope_node, scope_level=scope_level), jwks)

    assert by_cli[0] == by_service[0]  # signed with the same node key
    service_claims, cli_claims = by_service[1], by_cli[1]
    assert {k: v for k, v in cli_claims.items() if k not in PER_TOKEN} == {
        k: v for k, v in service_claims.items() if k not in PER_TOKEN
    }
    assert set(cli_claims) == set(service_claims)
    assert cli_claims["exp"] - cli_claims["iat"] == service_claims["exp"] - service_claims["iat"] == 3600
    assert cli_claims["jti"] != service_claims["jti"]
    assert cli_claims["sub"] == user and cli_claims["perms"]  # a real user with permissions, not two empty tokens
    assert cli_claims["scope_node"] == (scope_node or "gd")
    assert cli_claims.get("scope_level") == scope_level
