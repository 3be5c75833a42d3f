"""The org service behind the platform's input guard (issue 6, finding 10): a NUL in the login form —
before any login — or in a JSON body or query is refused with 400 by the guard every service shares,
before the handler runs; paging beyond int64 is a 400, never a 500."""

from __future__ import annotations

import httpx
import pytest

TOKEN = "/api/v1/auth/token"
STAFF = "/api/v1/org/staff"


@pytest.mark.parametrize("field", ["username", "password", "scope_node"])
async def test_a_nul_in_the_login_form_is_refused_by_the_platform_guard(client: httpx.AsyncClient, field: str) -> None:
    form = {"grant_type": "password", "username": "root", "password": "x", "scope_node": "gd-gz"}
    form[field] = form[field] + "\x00"
    r = await client.post(TOKEN, data=form)
    assert r.status_code == 400, r.text
    # the guard's wording: refused before the endpoint (and its own check) ran
    assert r.json()["message"] == f"form field {field!r}: NUL characters are not allowed"
    assert r.json()["@type"] == "Error"


async def test_a_nul_in_a_staff_body_or_query_and_int64_paging_are_400(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"username": "am_nul", "displayName": "王\x00芳", "password": "s3cret-pass", "roles": ["account_manager"]}
    r = await client.post(STAFF, json=body, headers=admin)
    assert r.status_code == 400 and "displayName" in r.json()["message"], r.text
    r = await client.get(STAFF, params={"q": "\x00"}, headers=admin)
    assert r.status_code == 400 and "'q'" in r.json()["message"], r.text
    for param in ("offset", "limit"):
        r = await client.get(STAFF, params={param: str(2**64)}, headers=admin)
        assert r.status_code == 400 and param in r.json()["message"], r.text
