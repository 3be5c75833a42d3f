"""Concurrent writes to one aggregate (issue 6, findings 3, 4, 10, 11, 15): requests that truly overlap,
each on its own pooled connection and transaction, against apps on a database of their own (no
rollback fixture, which would put every request on one connection and serialise them)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from itertools import pairwise
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_customer.main import MIGRATIONS, create_app
from kam_platform.testing.plugin import app_client, bearer

from .conftest import make_settings

URL = "/tmf-api/customerManagement/v4/customer"
DESIGNATIONS = "/api/v1/customer/designations"
NODES = ("hq", "gd", "gd-gz", "gd-sz", "js-nj")


@pytest.fixture(scope="module")
def concurrent_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_customer_concurrency", [MIGRATIONS])


@pytest.fixture(scope="module")
async def clients(concurrent_url: str, jwks: dict[str, Any]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One app per node over the same database (it stands in for each node's replicas), committing for real."""
    out: dict[str, httpx.AsyncClient] = {}
    async with AsyncExitStack() as stack:
        for node in NODES:
            app: FastAPI = create_app(make_settings(concurrent_url, jwks, node=node))
            await stack.enter_async_context(app.router.lifespan_context(app))
            out[node] = await stack.enter_async_context(await app_client(app, f"http://{node}.kam.test"))
        yield out


@pytest.fixture(scope="module")
async def db(concurrent_url: str) -> AsyncIterator[Any]:
    engine = create_async_engine(concurrent_url)
    yield engine
    await engine.dispose()


def headers(make_token: Callable[..., str], node: str, scope: str | None = None) -> dict[str, str]:
    return bearer(make_token("admin", node, scope=scope, roles=["admin"]))


async def create_customer(client: httpx.AsyncClient, h: dict[str, str], **over: Any) -> dict[str, Any]:
    body = {"name": f"并发客户{uuid.uuid4().hex[:6]}", "industry": "FINANCE", "grade": "B", **over}
    r = await client.post(URL, json=body, headers=h)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_parallel_patches_lose_no_update_and_reuse_no_version(clients, db, make_token) -> None:
    h = headers(make_token, "gd-gz")
    gz = clients["gd-gz"]
    c = await create_customer(gz, h)
    rs = await asyncio.gather(
        *(gz.patch(f"{URL}/{c['id']}", json={"description": f"d{i}"}, headers=h) for i in range(20))
    )
    assert [r.status_code for r in rs] == [200] * 20, [r.text for r in rs if r.status_code != 200]
    assert sorted(r.json()["version"] for r in rs) == list(range(2, 22))
    final = (await gz.get(f"{URL}/{c['id']}", headers=h)).json()
    assert final["version"] == 21

    async with db.connect() as conn:
        audits = (
            await conn.execute(
                text("SELECT changes FROM customer.audit WHERE entity_id = :id AND action = 'update' ORDER BY at, id"),
                {"id": c["id"]},
            )
        ).all()
        versions = (
            await conn.execute(
                text(
                    "SELECT version FROM customer.outbox WHERE aggregate_id = :id "
                    "AND event_type = 'kam.v1.CustomerUpdated' ORDER BY version"
                ),
                {"id": c["id"]},
            )
        ).all()
    # each audit row's old value is the value the previous writer committed: one unbroken chain
    assert len(audits) == 20
    chain = [a.changes["description"] for a in audits]
    assert chain[0][0] is None
    for before, after in pairwise(chain):
        assert after[0] == before[1]
    assert chain[-1][1] == final["description"]
    assert sorted(new for _, new in chain) == sorted(f"d{i}" for i in range(20))
    assert [v.version for v in versions] == list(range(2, 22))


async def test_parallel_contact_patches_serialise(clients, make_token) -> None:
    h = headers(make_token, "gd-gz")
    gz = clients["gd-gz"]
    c = await create_customer(gz, h)
    r = await gz.post(
        "/tmf-api/party/v4/individual",
        json={"givenName": "伟", "familyName": "张", "customer": {"id": c["id"]}},
        headers=h,
    )
    assert r.status_code == 201, r.text
    path = f"/tmf-api/party/v4/individual/{r.json()['id']}"
    rs = await asyncio.gather(*(gz.patch(path, json={"title": f"t{i}"}, headers=h) for i in range(10)))
    assert [x.status_code for x in rs] == [200] * 10, [x.text for x in rs if x.status_code != 200]
    assert sorted(x.json()["version"] for x in rs) == list(range(2, 12))


async def test_parallel_organization_and_designation_patches_serialise(clients, make_token) -> None:
    h = headers(make_token, "gd-gz")
    gz = clients["gd-gz"]
    c = await create_customer(gz, h)
    org = f"/tmf-api/party/v4/organization/{c['engagedParty']['id']}"
    rs = await asyncio.gather(*(gz.patch(org, json={"tradingName": f"t{i}"}, headers=h) for i in range(10)))
    assert [x.status_code for x in rs] == [200] * 10, [x.text for x in rs if x.status_code != 200]
    assert sorted(x.json()["version"] for x in rs) == list(range(2, 12))
    hq, hh = clients["hq"], headers(make_token, "hq")
    d = await hq.post(DESIGNATIONS, json={"customerId": c["id"], "grade": "A"}, headers=hh)
    assert d.status_code == 201, d.text
    path = f"{DESIGNATIONS}/{d.json()['id']}"
    rs = await asyncio.gather(*(hq.patch(path, json={"note": f"n{i}"}, headers=hh) for i in range(10)))
    assert [x.status_code for x in rs] == [200] * 10, [x.text for x in rs if x.status_code != 200]
    assert sorted(x.json()["version"] for x in rs) == list(range(2, 12))


async def test_parallel_transfers_have_exactly_one_winner(clients, make_token) -> None:
    h = headers(make_token, "gd-gz")
    gz = clients["gd-gz"]
    c = await create_customer(gz, h)
    rs = await asyncio.gather(
        *(
            gz.post(
                f"/api/v1/customer/customers/{c['id']}/transfer",
                json={"toNode": "gd-sz" if i % 2 == 0 else "gd", "reason": "并发迁移"},
                headers=h,
            )
            for i in range(10)
        )
    )
    codes = sorted(r.status_code for r in rs)
    assert codes == [200] + [409] * 9, [r.text for r in rs]
    winner = next(r.json() for r in rs if r.status_code == 200)
    assert winner["version"] == 2
    for loser in (r.json() for r in rs if r.status_code == 409):
        assert loser["@type"] == "Error" and "not owned by gd-gz" in loser["message"], loser
    # the old owner no longer writes it; the new owner's copy (same database here) is at the winner's version
    assert (await gz.patch(f"{URL}/{c['id']}", json={"grade": "A"}, headers=h)).status_code == 409
    new = clients[winner["ownerNode"]]
    got = await new.get(f"{URL}/{c['id']}", headers=headers(make_token, winner["ownerNode"]))
    assert got.json()["ownerNode"] == winner["ownerNode"] and got.json()["version"] == 2


async def test_transfer_to_another_province_is_refused(clients, make_token) -> None:
    h = headers(make_token, "gd-gz")
    c = await create_customer(clients["gd-gz"], h)
    r = await clients["gd-gz"].post(
        f"/api/v1/customer/customers/{c['id']}/transfer", json={"toNode": "js-nj"}, headers=h
    )
    assert r.status_code == 422 and "province" in r.json()["message"], r.text
    assert (await clients["gd-gz"].get(f"{URL}/{c['id']}", headers=h)).json()["ownerNode"] == "gd-gz"


async def test_parallel_designations_leave_one_active(clients, db, make_token) -> None:
    c = await create_customer(clients["gd-gz"], headers(make_token, "gd-gz"))
    hq, h = clients["hq"], headers(make_token, "hq")
    rs = await asyncio.gather(
        *(hq.post(DESIGNATIONS, json={"customerId": c["id"], "grade": "A"}, headers=h) for _ in range(10))
    )
    codes = sorted(r.status_code for r in rs)
    assert codes == [201] + [409] * 9, [r.text for r in rs]
    winner = next(r.json() for r in rs if r.status_code == 201)
    for loser in (r.json() for r in rs if r.status_code == 409):
        assert winner["id"] in loser["message"], loser
    async with db.connect() as conn:
        active = await conn.scalar(
            text("SELECT count(*) FROM customer.designation WHERE customer_id = :id AND status = 'ACTIVE'"),
            {"id": c["id"]},
        )
    assert active == 1


async def test_parallel_first_answers_to_a_designation_serialise(clients, make_token) -> None:
    c = await create_customer(clients["gd-gz"], headers(make_token, "gd-gz"))
    d = await clients["hq"].post(
        DESIGNATIONS, json={"customerId": c["id"], "grade": "A"}, headers=headers(make_token, "hq")
    )
    assert d.status_code == 201, d.text
    gd, h = clients["gd"], headers(make_token, "gd")
    rs = await asyncio.gather(
        *(
            gd.put(f"{DESIGNATIONS}/{d.json()['id']}/response", json={"status": "ACKNOWLEDGED"}, headers=h)
            for _ in range(10)
        )
    )
    assert [r.status_code for r in rs] == [200] * 10, [r.text for r in rs if r.status_code != 200]
    assert sorted(r.json()["version"] for r in rs) == list(range(1, 11))
    view = (await gd.get(f"{DESIGNATIONS}/{d.json()['id']}", headers=h)).json()
    assert [x["node"] for x in view["responses"]] == ["gd"]


async def test_designation_follows_its_customer_to_the_new_owner(clients, db, make_token) -> None:
    gz_h, sz_h = headers(make_token, "gd-gz"), headers(make_token, "gd-sz")
    c = await create_customer(clients["gd-gz"], gz_h)
    d = await clients["hq"].post(
        DESIGNATIONS, json={"customerId": c["id"], "grade": "A"}, headers=headers(make_token, "hq")
    )
    assert d.status_code == 201, d.text
    path = f"{DESIGNATIONS}/{d.json()['id']}"
    assert (await clients["gd-gz"].get(path, headers=gz_h)).status_code == 200
    assert (await clients["gd-sz"].get(path, headers=sz_h)).status_code == 404
    t = await clients["gd-gz"].post(
        f"/api/v1/customer/customers/{c['id']}/transfer", json={"toNode": "gd-sz"}, headers=gz_h
    )
    assert t.status_code == 200, t.text
    assert (await clients["gd-gz"].get(path, headers=gz_h)).status_code == 404
    seen = await clients["gd-sz"].get(path, headers=sz_h)
    assert seen.status_code == 200 and seen.json()["customer"]["ownerNode"] == "gd-sz"
    r = await clients["gd-sz"].put(
        f"{path}/response", json={"status": "ASSIGNED", "accountManager": "am-sz"}, headers=sz_h
    )
    assert r.status_code == 200 and r.json()["node"] == "gd-sz", r.text
    refused = await clients["gd-gz"].put(
        f"{path}/response", json={"status": "ASSIGNED", "accountManager": "am-gz"}, headers=gz_h
    )
    assert refused.status_code == 404
    # the group's next version of the designation records the new owner
    p = await clients["hq"].patch(path, json={"note": "迁址"}, headers=headers(make_token, "hq"))
    assert p.status_code == 200 and p.json()["customer"]["ownerNode"] == "gd-sz", p.text
    async with db.connect() as conn:
        stored = await conn.scalar(
            text("SELECT customer_owner_node FROM customer.designation WHERE id = :id"), {"id": d.json()["id"]}
        )
    assert stored == "gd-sz"


async def test_parent_outside_a_narrowed_scope_is_only_not_found(clients, make_token) -> None:
    js = await create_customer(
        clients["js-nj"], headers(make_token, "js-nj"), name="江苏机密集团总部", customerType="GROUP_CUSTOMER"
    )
    single = await create_customer(clients["js-nj"], headers(make_token, "js-nj"), name="江苏单体客户")
    narrowed = headers(make_token, "hq", scope="gd")
    hq = clients["hq"]
    for parent in (js, single):  # a group customer and one that is not: the same answer for both
        r = await hq.post(
            URL,
            json={"name": "广东分支", "industry": "FINANCE", "grade": "B", "parentCustomer": {"id": parent["id"]}},
            headers=narrowed,
        )
        assert r.status_code == 422, r.text
        msg = r.json()["message"]
        assert "not found" in msg
        assert parent["name"] not in msg and "js" not in msg
    linked = await hq.post(
        URL,
        json={
            "name": "广东客户",
            "industry": "FINANCE",
            "grade": "B",
            "engagedParty": {"id": js["engagedParty"]["id"]},
        },
        headers=narrowed,
    )
    # an organization outside the scope is treated as a party unknown here (docs/api-conventions.md):
    # a new, unverified organization keeps the given id as a reference — never a link to js's record,
    # and the same answer as for an id that exists nowhere, so nothing about js leaks
    assert linked.status_code == 201, linked.text
    party = linked.json()["engagedParty"]
    assert party["id"] != js["engagedParty"]["id"] and "江苏" not in linked.text
    nowhere = await hq.post(
        URL,
        json={"name": "广东客户二", "industry": "FINANCE", "grade": "B", "engagedParty": {"id": str(uuid.uuid4())}},
        headers=narrowed,
    )
    assert nowhere.status_code == 201, nowhere.text
    org = await hq.get(party["href"].split("kam.test", 1)[-1], headers=headers(make_token, "hq"))
    assert org.status_code == 200 and org.json()["status"] == "initialized", org.text
    own = await create_customer(hq, headers(make_token, "hq"), name="集团总部", customerType="GROUP_CUSTOMER")
    mine = await hq.post(
        URL,
        json={"name": "集团分支", "industry": "FINANCE", "grade": "B", "parentCustomer": {"id": own["id"]}},
        headers=narrowed,
    )
    assert mine.status_code == 201, mine.text  # an ancestor's group customer stays a valid parent


async def test_parallel_creates_of_one_code_have_exactly_one_winner(clients, db, make_token) -> None:
    # the code's uniqueness is judged by the unique index when the row is written: every loser is a 409
    # (never a 500) and leaves nothing behind (no organization, audit or outbox row of its own)
    h = headers(make_token, "gd-gz")
    code = f"KAGDGZ-RACE-{uuid.uuid4().hex[:6].upper()}"
    body = {"industry": "FINANCE", "grade": "B", "customerCode": code}
    rs = await asyncio.gather(
        *(clients["gd-gz"].post(URL, json={**body, "name": f"并发同码{i}"}, headers=h) for i in range(8))
    )
    codes = sorted(r.status_code for r in rs)
    assert codes == [201] + [409] * 7, [r.text for r in rs]
    assert all(code in r.json()["message"] for r in rs if r.status_code == 409)
    async with db.connect() as conn:
        orgs = await conn.scalar(text("SELECT count(*) FROM customer.organization WHERE name LIKE '并发同码%'"))
        audits = await conn.scalar(
            text(
                "SELECT count(*) FROM customer.audit a JOIN customer.customer c ON c.id = a.entity_id "
                "WHERE c.customer_code = :code"
            ),
            {"code": code},
        )
    assert orgs == 1 and audits == 1
