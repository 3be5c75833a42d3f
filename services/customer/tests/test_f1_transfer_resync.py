"""F1 records on a transfer and a resync: a customer's needs profile, competitor presence and decision
map follow it to its new owner inside the transfer event; a snapshot republishes the F1 records (the
owner's up, the province's verdicts down)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.replication.snapshot import republish_own, republish_reference

URL = "/tmf-api/customerManagement/v4/customer"
API = "/api/v1/customer/customers"
CONTACTS = "/tmf-api/party/v4/individual"


async def _customer_with_f1_records(client: httpx.AsyncClient, auth: Any, customer_body: Any) -> str:
    r = await client.post(URL, json=customer_body(name="移交F1记录客户"), headers=auth())
    cid = str(r.json()["id"])
    assert (await client.patch(f"{API}/{cid}/needs", json={"latentNeeds": "算力"}, headers=auth())).status_code == 200
    comp = await client.post(
        f"{API}/{cid}/competitors", json={"competitor": "中国联通", "observedOn": "2026-10-01"}, headers=auth()
    )
    assert comp.status_code == 201, comp.text
    ids = []
    for given in ("一", "二"):
        x = await client.post(
            CONTACTS, json={"givenName": given, "familyName": "周", "customer": {"id": cid}}, headers=auth()
        )
        ids.append(x.json()["id"])
    a, b = ids
    rel = await client.post(
        f"{API}/{cid}/decision-map/relations",
        json={"fromContactId": a, "toContactId": b, "relationType": "INFLUENCES"},
        headers=auth(),
    )
    assert rel.status_code == 201, rel.text
    return cid


async def test_transfer_takes_the_f1_records_to_the_new_owner(
    client, auth, customer_body, rollback_conn: AsyncConnection
) -> None:
    cid = await _customer_with_f1_records(client, auth, customer_body)
    r = await client.post(f"{API}/{cid}/transfer", json={"toNode": "gd-sz"}, headers=auth())
    assert r.status_code == 200, r.text
    owners = (
        await rollback_conn.execute(
            text(
                "SELECT 'needs', owner_node, version FROM customer.needs_profile WHERE customer_id = :c UNION ALL "
                "SELECT 'competitor', owner_node, version FROM customer.competitor_presence WHERE customer_id = :c "
                "UNION ALL SELECT 'relation', owner_node, version FROM customer.contact_relation WHERE customer_id = :c"
            ),
            {"c": cid},
        )
    ).all()
    assert sorted(owners) == [("competitor", "gd-sz", 2), ("needs", "gd-sz", 2), ("relation", "gd-sz", 2)]
    payload = (
        await rollback_conn.execute(
            text(
                "SELECT payload FROM customer.outbox WHERE aggregate_id = :c "
                "AND event_type = 'kam.v1.CustomerOwnershipTransferred'"
            ),
            {"c": cid},
        )
    ).scalar_one()
    t = customer_pb2.CustomerOwnershipTransferred.FromString(envelope_pb2.Envelope.FromString(payload).payload)
    assert [(p.latent_needs, p.owner_node, p.version) for p in t.needs_profiles] == [("算力", "gd-sz", 2)]
    assert [p.competitor for p in t.competitor_presences] == ["中国联通"]
    assert [x.relation_type for x in t.contact_relations] == ["INFLUENCES"]
    # the old owner no longer writes them (gd-gz's user does not see gd-sz's customer any more)
    assert (await client.patch(f"{API}/{cid}/needs", json={"latentNeeds": "x"}, headers=auth())).status_code == 404


async def test_snapshot_republishes_f1_records_up_and_verdicts_down(
    client, auth, customer_body, rollback_conn: AsyncConnection, settings_for: Any, database_url: str, jwks: Any
) -> None:
    cid = await _customer_with_f1_records(client, auth, customer_body)
    # a verdict stands in for the province's own record (gd's), held in this database
    await rollback_conn.execute(
        text(
            "INSERT INTO customer.customer_verification (id, owner_node, version, customer_id, customer_owner_node,"
            " status, verified_by, customer_version) VALUES (gen_random_uuid(), 'gd', 1, :c, 'gd-gz', 'verified',"
            " 'ka_mgr', 1)"
        ),
        {"c": cid},
    )
    query = "SELECT id, event_type, subject FROM customer.outbox"
    before = {r.id for r in (await rollback_conn.execute(text(query))).all()}
    async with AsyncSession(bind=rollback_conn, join_transaction_mode="create_savepoint") as session:
        await republish_own(session, settings_for(database_url, jwks))
        await republish_reference(session, settings_for(database_url, jwks, node="gd"))
        await session.commit()
    rows = [r for r in (await rollback_conn.execute(text(query))).all() if r.id not in before]
    up = {r.event_type for r in rows if r.subject.startswith("up.gd-gz.")}
    assert {"kam.v1.NeedsProfileChanged", "kam.v1.CompetitorPresenceChanged", "kam.v1.ContactRelationChanged"} <= up
    down = {r.event_type for r in rows if r.subject.startswith("down.gd.")}
    assert "kam.v1.CustomerVerificationChanged" in down
