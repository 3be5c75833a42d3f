"""The house API conventions every service shares (docs/api-conventions.md), checked on the real apps
against real PostgreSQL: 405 in the error envelope with an Allow header naming every method of the
path, OPTIONS answering Allow, filters by id that never 400, sparse fieldsets, and OpenAPI documents
that describe every request body and response."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_platform.testing.plugin import app_client, bearer, bind_session
from kam_platform.topology import Topology

DEMO = topology_file("demo")
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
PERMS = ["customer:read", "customer:create", "customer:update", "customer:delete"]


def _settings(service: str, database_url: str, **kw: Any) -> Settings:
    return Settings(
        node="gd-gz",
        service=service,
        topology_file=DEMO,
        database_url=database_url,
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        nats_url="nats://127.0.0.1:1",
        **kw,
    )


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[str, list[str]], str]) -> str:
    from kam_customer.main import MIGRATIONS

    return make_database("test_api_conventions_customer", [MIGRATIONS])


@pytest.fixture(scope="session")
async def customer_app(database_url: str, jwks: dict[str, Any]) -> AsyncIterator[FastAPI]:
    from kam_customer.main import create_app

    app = create_app(_settings("customer", database_url, jwks_json=json.dumps(jwks)))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(customer_app: FastAPI, rollback_conn: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    bind_session(customer_app, rollback_conn)
    async with await app_client(customer_app, "http://gd-gz.kam.test") as c:
        yield c
    customer_app.dependency_overrides.clear()


@pytest.fixture
def auth(make_token: Callable[..., str]) -> dict[str, str]:
    return bearer(make_token("am01", "gd-gz", perms=PERMS, roles=["account_manager"]))


@pytest.fixture(scope="session")
async def org(make_database: Callable[[str, list[str]], str]) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The org app (nodes come from the topology, staff from the seed) and an admin token of gd-gz."""
    from kam_org.main import MIGRATIONS, create_app
    from kam_org.seed import seed
    from kam_org.tokens import issue_token

    url = make_database("test_api_conventions_org", [MIGRATIONS])
    await seed(url, "gd-gz", Topology.load(DEMO))
    token = await issue_token(url, "gd-gz", "admin", Topology.load(DEMO))
    app = create_app(_settings("org", url))
    async with app.router.lifespan_context(app), await app_client(app) as c:
        yield c, token


async def _customer(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    r = await client.post(CUSTOMERS, json={"name": "广州地铁集团", "industry": "TRANSPORT"}, headers=auth)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _allow(r: httpx.Response) -> set[str]:
    return {m.strip() for m in r.headers["allow"].split(",")}


async def test_method_not_allowed_is_the_envelope_with_every_method_of_the_path(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    r = await client.put(CUSTOMERS, json={}, headers=auth)
    assert r.status_code == 405
    assert r.json()["code"] == "METHOD_NOT_ALLOWED" and r.json()["status"] == "405" and r.json()["@type"] == "Error"
    # GET and POST are two routes of one path: Starlette alone would name only the first
    assert _allow(r) == {"GET", "POST", "OPTIONS"}
    r = await client.post(f"{CUSTOMERS}/0190aaaa-0000-7000-8000-000000000000", json={}, headers=auth)
    assert r.status_code == 405 and r.json()["code"] == "METHOD_NOT_ALLOWED"
    assert _allow(r) == {"GET", "PATCH", "DELETE", "OPTIONS"}


async def test_options_answers_allow_without_a_token(client: httpx.AsyncClient) -> None:
    r = await client.options(CUSTOMERS)
    assert r.status_code == 204 and r.content == b""
    assert _allow(r) == {"GET", "POST", "OPTIONS"}
    r = await client.options("/tmf-api/party/v4/individual/anything")
    assert r.status_code == 204 and _allow(r) == {"GET", "PATCH", "DELETE", "OPTIONS"}
    r = await client.options("/no/such/path")
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "path", [CUSTOMERS, "/tmf-api/party/v4/organization", "/tmf-api/party/v4/individual"], ids=lambda p: p
)
async def test_a_filter_by_an_id_that_cannot_exist_matches_nothing(
    client: httpx.AsyncClient, auth: dict[str, str], path: str
) -> None:
    for value in ("not-a-uuid", "42", "%00x"[:2] + "x", "0190aaaa-0000-7000-8000-000000000000"):
        r = await client.get(path, params={"id": value}, headers=auth)
        assert r.status_code == 200, r.text
        assert r.json() == [] and r.headers["x-total-count"] == "0"


async def test_a_filter_by_ids_answers_the_matches_among_anything(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    c = await _customer(client, auth)
    r = await client.get(CUSTOMERS, params={"id": f"garbage,{c['id']}"}, headers=auth)
    assert r.status_code == 200 and [x["id"] for x in r.json()] == [c["id"]]
    party = c["engagedParty"]["id"]
    r = await client.get("/tmf-api/party/v4/organization", params={"id": f"{party},nope"}, headers=auth)
    assert r.status_code == 200 and [x["id"] for x in r.json()] == [party]


async def test_sparse_fieldsets_answer_the_selection_plus_id_href_and_type(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    c = await _customer(client, auth)
    r = await client.get(CUSTOMERS, params={"id": c["id"], "fields": "name,grade"}, headers=auth)
    assert r.status_code == 200 and r.headers["x-total-count"] == "1"
    assert r.json() == [{"id": c["id"], "href": c["href"], "@type": c["@type"], "name": c["name"], "grade": "C"}]
    r = await client.get(f"{CUSTOMERS}/{c['id']}", params={"fields": "status"}, headers=auth)
    assert r.json() == {"id": c["id"], "href": c["href"], "@type": c["@type"], "status": "PROSPECT"}
    full = (await client.get(f"{CUSTOMERS}/{c['id']}", headers=auth)).json()
    assert full["nationalKeyAccount"] is None and full["relatedParty"] == [] and full["version"] == 1


async def test_org_lists_filter_by_id_and_never_400(org: tuple[httpx.AsyncClient, str]) -> None:
    client, token = org
    headers = bearer(token)
    r = await client.get("/api/v1/org/nodes", params={"id": "gd,nowhere"}, headers=headers)
    assert r.status_code == 200 and [n["id"] for n in r.json()] == ["gd"]
    staff = (await client.get("/api/v1/org/staff", headers=headers)).json()
    assert staff, "the seed made staff at gd-gz"
    for path in ("/api/v1/org/staff", "/api/v1/org/teams", "/api/v1/org/org-units"):
        r = await client.get(path, params={"id": "not-a-uuid"}, headers=headers)
        assert r.status_code == 200 and r.json() == [], (path, r.text)
    r = await client.get("/api/v1/org/staff", params={"id": f"x,{staff[0]['id']}"}, headers=headers)
    assert [s["id"] for s in r.json()] == [staff[0]["id"]]
    r = await client.patch("/api/v1/org/nodes", json={}, headers=headers)
    assert r.status_code == 405 and r.json()["code"] == "METHOD_NOT_ALLOWED" and _allow(r) == {"GET", "OPTIONS"}


def _documents() -> dict[str, dict[str, Any]]:
    from kam_customer.main import create_app as customer
    from kam_org.main import create_app as org
    from kam_sync.main import create_app as sync

    url = "postgresql+asyncpg://unused@127.0.0.1:1/unused"  # the document needs no database
    return {
        name: make(_settings(name, url)).openapi()
        for name, make in (("org", org), ("customer", customer), ("sync", sync))
    }


# routes whose bodies are files, not JSON: documented by their upload media types / as binary
_FILES = {("post", "/api/v1/customer/imports"), ("get", "/api/v1/customer/exports")}


def test_every_operation_documents_its_body_and_its_answer() -> None:
    missing: list[str] = []
    for service, doc in _documents().items():
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if (method, path) in _FILES:
                    continue
                where = f"{service}: {method.upper()} {path}"
                if method in ("post", "put", "patch") and "requestBody" not in op:
                    missing.append(f"{where}: no request body")
                for media in op.get("requestBody", {}).get("content", {}):
                    if media == "application/merge-patch+json":
                        assert "application/json" in op["requestBody"]["content"], where
                ok = [s for s in op["responses"] if s.startswith("2")]
                assert len(ok) == 1, where
                answer = op["responses"][ok[0]]
                if ok[0] != "204" and not answer.get("content", {}).get("application/json", {}).get("schema"):
                    missing.append(f"{where}: no response schema")
                if ok[0] != "204" and answer["content"]["application/json"]["schema"] == {}:
                    missing.append(f"{where}: an untyped response")
    assert not missing, "\n".join(missing)
