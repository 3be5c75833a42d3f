"""F1 province verification (省级核实): a local network's record stays unverified until its province
verifies (or returns) it; the verdict is the province's record, published down and up."""

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_customer.main import create_app
from kam_customer.recognition.repository import RecognitionRepository
from kam_platform.auth import Principal
from kam_platform.settings import Settings
from kam_platform.testing.plugin import app_client, bind_session
from kam_platform.topology import Topology

from .conftest import ALL_CUSTOMER_PERMS, DEMO

URL = "/tmf-api/customerManagement/v4/customer"
VERIFY = [*ALL_CUSTOMER_PERMS, "customer.verification:write"]


@contextlib.asynccontextmanager
async def _province(
    database_url: str, jwks: dict[str, Any], settings_for: Callable[..., Settings], conn: AsyncConnection
) -> AsyncIterator[httpx.AsyncClient]:
    """The same database served as the province gd (the verdict is written there)."""
    app = create_app(settings_for(database_url, jwks, node="gd"))
    async with app.router.lifespan_context(app):
        bind_session(app, conn)
        async with await app_client(app, "http://gd.kam.test") as c:
            yield c


async def test_local_record_is_unverified_until_its_province_verifies_it(
    client, auth, customer_body, database_url, jwks, settings_for, rollback_conn: AsyncConnection
) -> None:
    r = await client.post(URL, json=customer_body(name="核实测试客户"), headers=auth())
    cid = r.json()["id"]
    assert (await client.get(f"{URL}/{cid}", headers=auth())).json()["verification"] == "unverified"
    state = await client.get(f"/api/v1/customer/customers/{cid}/verification", headers=auth())
    assert state.json()["status"] == "unverified" and state.json()["verifierNode"] == "gd"
    # the local network cannot verify its own record: the province does
    own = await client.put(
        f"/api/v1/customer/customers/{cid}/verification", json={"status": "verified"}, headers=auth(perms=VERIFY)
    )
    assert own.status_code == 409 and own.json()["details"]["verifierNode"] == "gd"

    async with _province(database_url, jwks, settings_for, rollback_conn) as gd:
        gd_auth = auth("gd", user="prov01", perms=VERIFY, roles=["ka_dept_manager"])
        no_perm = await gd.put(
            f"/api/v1/customer/customers/{cid}/verification", json={"status": "verified"}, headers=auth("gd")
        )
        assert no_perm.status_code == 403
        returned = await gd.put(
            f"/api/v1/customer/customers/{cid}/verification", json={"status": "returned"}, headers=gd_auth
        )
        assert returned.status_code == 422 and returned.json()["details"]["field"] == "reason"
        returned = await gd.put(
            f"/api/v1/customer/customers/{cid}/verification",
            json={"status": "returned", "reason": "信用代码缺失"},
            headers=gd_auth,
        )
        assert returned.json()["status"] == "returned" and returned.json()["reason"] == "信用代码缺失"
        ok = await gd.put(
            f"/api/v1/customer/customers/{cid}/verification", json={"status": "verified"}, headers=gd_auth
        )
        assert ok.status_code == 200 and ok.json()["status"] == "verified" and ok.json()["version"] == 2
    assert (await client.get(f"{URL}/{cid}", headers=auth())).json()["verification"] == "verified"
    verified = await client.get(URL, params={"verification": "verified", "q": "核实测试客户"}, headers=auth())
    assert [c["id"] for c in verified.json()] == [cid]
    pending = await client.get(URL, params={"verification": "unverified", "q": "核实测试客户"}, headers=auth())
    assert pending.json() == []
    subjects = (
        (
            await rollback_conn.execute(
                text("SELECT subject FROM customer.outbox WHERE event_type = 'kam.v1.CustomerVerificationChanged'")
            )
        )
        .scalars()
        .all()
    )
    assert any(s.startswith("down.gd.customer.customer_verification.") for s in subjects)
    assert any(s.startswith("up.gd.customer.customer_verification.") for s in subjects)


async def test_bulk_verification_names_every_outcome(
    client, auth, customer_body, database_url, jwks, settings_for, insert_customer, rollback_conn: AsyncConnection
) -> None:
    a = (await client.post(URL, json=customer_body(name="批量甲"), headers=auth())).json()["id"]
    b = (await client.post(URL, json=customer_body(name="批量乙"), headers=auth())).json()["id"]
    js = await insert_customer("js-nj", "江苏客户")
    async with _province(database_url, jwks, settings_for, rollback_conn) as gd:
        r = await gd.post(
            "/api/v1/customer/verifications/bulk",
            json={"customerIds": [a, b, js, "nope"], "status": "verified"},
            headers=auth("gd", perms=VERIFY),
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verified"] == 2 and body["failed"] == 2
    assert [i["ok"] for i in body["items"]] == [True, True, False, False]
    empty = await client.post(
        "/api/v1/customer/verifications/bulk", json={"customerIds": [], "status": "verified"}, headers=auth()
    )
    assert empty.status_code == 422 and "customerIds" in empty.json()["details"]["field"]


async def test_recognition_skips_unknown_industry_and_unverified_organizations(
    client, auth, customer_body, rollback_conn: AsyncConnection
) -> None:
    known = (await client.post(URL, json=customer_body(name="认定可判客户"), headers=auth())).json()["id"]
    unknown = await client.post(URL, json={"name": "行业待补充客户", "engagedParty": {"id": "ext-1"}}, headers=auth())
    assert unknown.status_code == 201, unknown.text
    party = (
        await client.post(
            URL,
            json=customer_body(name="法人待核实客户", engagedParty={"id": "ext-2", "@referredType": "Organization"}),
            headers=auth(),
        )
    ).json()["id"]
    principal = Principal("am01", "gd-gz", "gd-gz", frozenset(), frozenset(ALL_CUSTOMER_PERMS))
    session = AsyncSession(bind=rollback_conn, join_transaction_mode="create_savepoint")
    repo = RecognitionRepository(session)
    judged = {c.id.hex for c in await repo.customers_to_judge("gd-gz", principal, Topology.load(DEMO))}
    await session.close()
    assert known.replace("-", "") in judged
    assert unknown.json()["id"].replace("-", "") not in judged
    assert party.replace("-", "") not in judged
