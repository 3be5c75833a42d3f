"""Data scope, permissions, PII masking, tokens and owner-only writes."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kam_customer.main import create_app
from kam_platform.auth import generate_signing_key, public_jwk
from kam_platform.testing.plugin import app_client, bind_session

URL = "/tmf-api/customerManagement/v4/customer"
NODES = ("gd-gz", "gd-sz", "js-nj", "gd", "hq")


@pytest.fixture
async def spread(insert_customer: Any) -> dict[str, str]:
    """One customer named 范围测试<node> owned by each node of the demo topology."""
    return {node: await insert_customer(node, f"范围测试{node}") for node in NODES}


@pytest.fixture(scope="module")
async def node_apps(database_url: str, settings_for: Any) -> AsyncIterator[dict[str, tuple[FastAPI, Any]]]:
    """The customer app of each node, each trusting only its own node's signing key (as in production,
    where every node's org issues the tokens its services accept). One database stands in for the
    nodes' databases: the scope filter, not the data placement, is under test."""
    apps: dict[str, tuple[FastAPI, Any]] = {}
    async with contextlib.AsyncExitStack() as stack:
        for node in NODES:
            key = generate_signing_key()
            app = create_app(settings_for(database_url, {"keys": [public_jwk(key, f"{node}-key")]}, node=node))
            await stack.enter_async_context(app.router.lifespan_context(app))
            apps[node] = (app, key)
        yield apps


@pytest.fixture
async def at(node_apps: Any, rollback_conn: Any) -> AsyncIterator[Any]:
    """at(node) → an HTTP client of that node's app, in the test's transaction."""
    clients: dict[str, httpx.AsyncClient] = {}
    for node, (app, _) in node_apps.items():
        bind_session(app, rollback_conn)
        clients[node] = await app_client(app, f"http://{node}.kam.test")
    yield clients.__getitem__
    for node, (app, _) in node_apps.items():
        await clients[node].aclose()
        app.dependency_overrides.clear()


@pytest.fixture
def node_auth(node_apps: Any, make_token: Any) -> Any:
    """node_auth(node, scope=None): headers with a token issued by `node`'s own key."""

    def make(node: str, scope: str | None = None, perms: list[str] | None = None) -> dict[str, str]:
        key = node_apps[node][1]
        token = make_token("am01", node, perms=perms, scope=scope, key=key, kid=f"{node}-key")
        return {"Authorization": f"Bearer {token}"}

    return make


async def visible(client: Any, headers: dict[str, str]) -> set[str]:
    r = await client.get(URL, params={"q": "范围测试", "limit": 100}, headers=headers)
    assert r.status_code == 200
    names = {x["name"].removeprefix("范围测试") for x in r.json()}
    assert r.headers["x-total-count"] == str(len(names))
    return names


@pytest.mark.parametrize(
    ("node", "scope", "expected"),
    [
        ("gd-gz", None, {"gd-gz"}),
        ("gd-sz", None, {"gd-sz"}),
        ("gd", None, {"gd", "gd-gz", "gd-sz"}),
        ("hq", None, set(NODES)),
        ("hq", "js", {"js-nj"}),
        ("hq", "gd-sz", {"gd-sz"}),
    ],
)
async def test_list_count_and_search_see_only_the_scope_subtree(at, node_auth, spread, node, scope, expected) -> None:
    assert await visible(at(node), node_auth(node, scope=scope)) == expected


async def test_a_token_of_another_node_is_refused(at, node_auth, spread) -> None:
    for issuer, node in (("gd", "gd-gz"), ("hq", "gd"), ("gd-sz", "gd-gz")):
        r = await at(node).get(URL, headers=node_auth(issuer))
        assert r.status_code == 401 and "unknown key" in r.json()["message"], (issuer, node)


async def test_get_by_id_outside_scope_is_404(at, node_auth, spread) -> None:
    gz, headers = at("gd-gz"), node_auth("gd-gz")
    for node in ("gd-sz", "js-nj", "gd", "hq"):
        r = await gz.get(f"{URL}/{spread[node]}", headers=headers)
        assert r.status_code == 404, node
    assert (await gz.get(f"{URL}/{spread['gd-gz']}", headers=headers)).status_code == 200
    hq, js_only = at("hq"), node_auth("hq", scope="js")
    assert (await hq.get(f"{URL}/{spread['gd-gz']}", headers=js_only)).status_code == 404
    assert (await hq.get(f"{URL}/{spread['js-nj']}", headers=js_only)).status_code == 200


async def test_filter_by_owner_cannot_escape_scope(at, node_auth, spread) -> None:
    r = await at("gd-gz").get(URL, params={"ownerNode": "gd-sz"}, headers=node_auth("gd-gz"))
    assert r.json() == [] and r.headers["x-total-count"] == "0"
    r = await at("gd").get(URL, params={"id": spread["js-nj"]}, headers=node_auth("gd"))
    assert r.json() == []


async def test_history_of_a_customer_outside_scope_is_404(at, node_auth, spread) -> None:
    path = f"/api/v1/customer/customers/{spread['gd-sz']}/history"
    assert (await at("gd-gz").get(path, headers=node_auth("gd-gz"))).status_code == 404
    assert (await at("gd").get(path, headers=node_auth("gd"))).status_code == 200


async def test_write_to_a_record_owned_elsewhere_is_409_naming_the_owner(at, node_auth, spread) -> None:
    # gd sees gd-sz's customer (in scope) but is not its owner
    gd, headers = at("gd"), node_auth("gd")
    r = await gd.patch(f"{URL}/{spread['gd-sz']}", json={"grade": "A"}, headers=headers)
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "NOT_OWNER" and "'gd-sz'" in body["message"] and body["details"]["ownerNode"] == "gd-sz"
    r = await gd.delete(f"{URL}/{spread['gd-sz']}", headers=headers)
    assert r.status_code == 409 and "gd-sz" in r.json()["message"]
    r = await gd.put(
        f"/api/v1/customer/customers/{spread['gd-sz']}/account-manager",
        json={"accountManager": "x"},
        headers=headers,
    )
    assert r.status_code == 409
    assert (await gd.patch(f"{URL}/{spread['gd']}", json={"grade": "A"}, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "perm"),
    [
        ("GET", URL, "customer:read"),
        ("POST", URL, "customer:create"),
    ],
)
async def test_missing_permission_is_403_naming_it(client, auth, customer_body, method, path, perm) -> None:
    others = [p for p in ("customer:read", "customer:create") if p != perm]
    r = await client.request(
        method, path, json=customer_body() if method == "POST" else None, headers=auth(perms=others)
    )
    assert r.status_code == 403 and perm in r.json()["message"]


async def test_analyst_cannot_patch_or_delete(client, auth, customer_body) -> None:
    c = (await client.post(URL, json=customer_body(), headers=auth())).json()
    analyst = auth(perms=["customer:read", "customer:export"], roles=["analyst"])
    assert (await client.patch(f"{URL}/{c['id']}", json={"grade": "B"}, headers=analyst)).status_code == 403
    assert (await client.delete(f"{URL}/{c['id']}", headers=analyst)).status_code == 403
    assert (await client.get(f"/api/v1/customer/customers/{c['id']}/history", headers=analyst)).status_code == 403


async def test_requests_without_valid_token_are_401(client, make_token, customer_body) -> None:
    from kam_platform.auth import generate_signing_key

    assert (await client.get(URL)).status_code == 401
    assert (await client.get(URL, headers={"Authorization": "Basic abc"})).status_code == 401
    assert (await client.get(URL, headers={"Authorization": "Bearer not.a.jwt"})).status_code == 401
    expired = make_token("u", "gd-gz", expires_in=-10)
    r = await client.get(URL, headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["message"]
    forged = make_token("u", "gd-gz", key=generate_signing_key())
    assert (await client.get(URL, headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    other_kid = make_token("u", "gd-gz", key=generate_signing_key(), kid="other")
    assert (await client.get(URL, headers={"Authorization": f"Bearer {other_kid}"})).status_code == 401
    wrong_aud = make_token("u", "gd-gz", audience="somebody-else")
    assert (await client.get(URL, headers={"Authorization": f"Bearer {wrong_aud}"})).status_code == 401
    widened = make_token("u", "gd-gz", scope="gd")
    r = await client.get(URL, headers={"Authorization": f"Bearer {widened}"})
    assert r.status_code == 401 and "scope" in r.json()["message"]
    r = await client.get(URL)
    assert r.json()["@type"] == "Error" and r.headers["www-authenticate"] == "Bearer"


async def test_health_ready_metrics_need_no_token(client) -> None:
    for path in ("/health", "/ready", "/metrics"):
        assert (await client.get(path)).status_code == 200


CONTACTS = "/tmf-api/party/v4/individual"


async def test_contact_pii_is_masked_without_permission(client, auth, customer_body) -> None:
    c = (await client.post(URL, json=customer_body(), headers=auth())).json()
    body = {
        "givenName": "伟",
        "familyName": "张",
        "customer": {"id": c["id"]},
        "decisionRole": "DECISION_MAKER",
        "title": "信息中心主任",
        "preferredContactMedium": "mobile",
        "contactMedium": [
            {"mediumType": "mobile", "characteristic": {"phoneNumber": "13812345678"}},
            {"mediumType": "email", "characteristic": {"emailAddress": "zhangwei@example.cn"}},
        ],
        "individualIdentification": [{"identificationType": "ID_CARD", "identificationId": "44010619800101123X"}],
    }
    r = await client.post(CONTACTS, json=body, headers=auth())
    assert r.status_code == 201, r.text
    contact = r.json()
    assert contact["fullName"] == "张伟" and contact["decisionRole"] == "DECISION_MAKER"
    full = (await client.get(f"{CONTACTS}/{contact['id']}", headers=auth())).json()
    assert full["contactMedium"][0]["characteristic"]["phoneNumber"] == "13812345678"
    assert full["individualIdentification"][0]["identificationId"] == "44010619800101123X"
    agent = auth(perms=["customer:read"], roles=["service_agent"])
    masked = (await client.get(f"{CONTACTS}/{contact['id']}", headers=agent)).json()
    assert masked["contactMedium"][0]["characteristic"]["phoneNumber"] == "138****5678"
    assert masked["individualIdentification"][0]["identificationId"] == "4401**********123X"
    listed = (await client.get(CONTACTS, params={"customer.id": c["id"]}, headers=agent)).json()
    assert listed[0]["contactMedium"][0]["characteristic"]["phoneNumber"] == "138****5678"
    history = (await client.get(f"/api/v1/customer/customers/{c['id']}/history", headers=auth())).json()
    assert all("13812345678" not in str(h["changes"]) for h in history)


async def test_contact_validation(client, auth, customer_body) -> None:
    c = (await client.post(URL, json=customer_body(), headers=auth())).json()
    bad = [
        ({"givenName": "伟", "customer": {"id": c["id"]}}, "familyName"),
        ({"givenName": "伟", "familyName": "张", "customer": {"id": c["id"]}, "decisionRole": "BOSS"}, "decisionRole"),
        (
            {
                "givenName": "伟",
                "familyName": "张",
                "customer": {"id": c["id"]},
                "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": "call me"}}],
            },
            "phone",
        ),
        (
            {"givenName": "伟", "familyName": "张", "customer": {"id": "0190b7a1-0000-7000-8000-000000000000"}},
            "customer.id",
        ),
    ]
    for body, needle in bad:
        r = await client.post(CONTACTS, json=body, headers=auth())
        assert r.status_code == 422 and needle in r.json()["message"], (body, r.text)
