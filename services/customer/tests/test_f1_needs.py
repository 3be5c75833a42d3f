"""F1 needs profile (需求档案): versioned with history, written at the owner, within the portfolio."""

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

URL = "/tmf-api/customerManagement/v4/customer"
MERGE = {"Content-Type": "application/merge-patch+json"}


async def _customer(client: httpx.AsyncClient, auth: Any, body: dict[str, Any]) -> str:
    r = await client.post(URL, json=body, headers=auth())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_needs_profile_versions_keep_history_and_events(
    client, auth, customer_body, rollback_conn: AsyncConnection
) -> None:
    cid = await _customer(client, auth, customer_body())
    path = f"/api/v1/customer/customers/{cid}/needs"
    empty = await client.get(path, headers=auth())
    assert empty.status_code == 200 and empty.json()["version"] == 0 and empty.json()["latentNeeds"] is None

    r1 = await client.patch(
        path, json={"networkSituation": "MPLS 专线 20 条", "latentNeeds": "云专线"}, headers={**auth(), **MERGE}
    )
    assert r1.status_code == 200, r1.text
    assert r1.json()["version"] == 1 and r1.json()["ownerNode"] == "gd-gz"
    r2 = await client.patch(path, json={"latentNeeds": "云专线 + 安全"}, headers=auth())
    assert r2.json()["version"] == 2 and r2.json()["networkSituation"] == "MPLS 专线 20 条"
    same = await client.patch(path, json={"latentNeeds": "云专线 + 安全"}, headers=auth())
    assert same.json()["version"] == 2  # nothing changed, nothing written

    h = await client.get(path + "/history", headers=auth())
    assert h.status_code == 200 and h.headers["x-total-count"] == "2"
    assert h.json()[0]["changes"] == {"latentNeeds": ["云专线", "云专线 + 安全"]}
    assert h.json()[1]["action"] == "create"
    events = (
        (
            await rollback_conn.execute(
                text(
                    "SELECT version FROM customer.outbox WHERE event_type = 'kam.v1.NeedsProfileChanged' ORDER BY version"
                )
            )
        )
        .scalars()
        .all()
    )
    assert events == [1, 2]


async def test_needs_profile_refuses_bad_input_and_replica_writes(client, auth, customer_body, insert_customer) -> None:
    cid = await _customer(client, auth, customer_body())
    path = f"/api/v1/customer/customers/{cid}/needs"
    bad = await client.patch(path, json={"latentNeed": "typo"}, headers=auth())
    assert bad.status_code == 422 and "latentNeed" in bad.text
    long = await client.patch(path, json={"latentNeeds": "x" * 4001}, headers=auth())
    assert long.status_code == 422 and long.json()["details"]["field"].endswith("latentNeeds")
    replica = await insert_customer("gd-sz", "深圳副本客户")
    ro = await client.patch(
        f"/api/v1/customer/customers/{replica}/needs", json={"latentNeeds": "x"}, headers=auth("gd", scope="gd")
    )
    assert ro.status_code == 409 and ro.json()["details"]["ownerNode"] == "gd-sz"
    missing = await client.get("/api/v1/customer/customers/not-a-uuid/needs", headers=auth())
    assert missing.status_code == 404


async def test_needs_profile_outside_scope_or_portfolio_is_not_found(client, auth, customer_body, make_token) -> None:
    cid = await _customer(client, auth, customer_body(relatedParty=[{"id": "am01", "role": "accountManager"}]))
    path = f"/api/v1/customer/customers/{cid}/needs"
    assert (await client.get(path, headers=auth("gd-sz"))).status_code == 404
    assert (
        await client.patch(path, json={"latentNeeds": "x"}, headers=auth(perms=["customer:read"]))
    ).status_code == 403
