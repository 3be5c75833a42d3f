"""F1 merge across owner nodes (跨节点合并): proposed at a common ancestor (hq), each owner answers its
side — the victim's owner hands its victim to the survivor's owner, whose acceptance merges — on one
database served as hq, js-nj and gd-gz; refused without customer:merge and where the proposal cannot
stand. Also: one primary contact per customer."""

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from kam_customer.main import create_app
from kam_platform.settings import Settings
from kam_platform.testing.plugin import app_client, bind_session

from .conftest import ALL_CUSTOMER_PERMS

URL = "/tmf-api/customerManagement/v4/customer"
CONTACTS = "/tmf-api/party/v4/individual"
MERGES = "/api/v1/customer/merges"
PROPOSALS = "/api/v1/customer/mergeProposals"
MERGE_PERMS = [*ALL_CUSTOMER_PERMS, "customer:merge"]


@contextlib.asynccontextmanager
async def _node(
    node: str, database_url: str, jwks: dict[str, Any], settings_for: Callable[..., Settings], conn: AsyncConnection
) -> AsyncIterator[httpx.AsyncClient]:
    """The same database served as another node."""
    app = create_app(settings_for(database_url, jwks, node=node))
    async with app.router.lifespan_context(app):
        bind_session(app, conn)
        async with await app_client(app, f"http://{node}.kam.test") as c:
            yield c


async def _customer(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    r = await client.post(URL, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _contact(
    client: httpx.AsyncClient, headers: dict[str, str], customer_id: str, given: str, *, primary: bool = False
) -> httpx.Response:
    body = {"givenName": given, "familyName": "王", "customer": {"id": customer_id}, "isPrimary": primary}
    return await client.post(CONTACTS, json=body, headers=headers)


async def _owner(conn: AsyncConnection, customer_id: str) -> str:
    return str(
        (
            await conn.execute(text("SELECT owner_node FROM customer.customer WHERE id = :i"), {"i": customer_id})
        ).scalar()
    )


async def test_merge_across_provinces_is_proposed_at_hq_and_carried_out_by_the_owners(
    client, auth, customer_body, database_url, jwks, settings_for, rollback_conn: AsyncConnection
) -> None:
    gz = auth("gd-gz", perms=MERGE_PERMS)
    nj = auth("js-nj", perms=MERGE_PERMS)
    hqh = auth("hq", perms=MERGE_PERMS)
    survivor = await _customer(client, gz, customer_body(name="跨省存续客户"))
    own_primary = (await _contact(client, gz, survivor, "存续主", primary=True)).json()["id"]
    async with (
        _node("js-nj", database_url, jwks, settings_for, rollback_conn) as js_nj,
        _node("hq", database_url, jwks, settings_for, rollback_conn) as hq,
    ):
        victim = await _customer(js_nj, nj, customer_body(name="跨省被并客户", address="南京市玄武区1号"))
        moved_primary = (await _contact(js_nj, nj, victim, "被并主", primary=True)).json()["id"]
        other = (await _contact(js_nj, nj, victim, "被并次")).json()["id"]

        r = await hq.post(
            PROPOSALS,
            json={"survivorId": survivor, "victimIds": [victim], "choices": {"address": victim}, "reason": "同一集团"},
            headers=hqh,
        )
        assert r.status_code == 201, r.text
        p = r.json()
        assert r.headers["location"] == p["href"]
        assert (
            p["state"] == "PENDING" and p["ownerNode"] == "hq" and p["owners"] == {survivor: "gd-gz", victim: "js-nj"}
        )
        assert [(s["node"], s["holdsSurvivor"], s["status"]) for s in p["sides"]] == [
            ("gd-gz", True, "PENDING"),
            ("js-nj", False, "PENDING"),
        ]
        path = f"{PROPOSALS}/{p['id']}"

        # the survivor's owner cannot merge before the victim has been handed over to it
        early = await client.put(f"{path}/response", json={"status": "ACCEPTED"}, headers=gz)
        assert early.status_code == 409, early.text
        assert early.json()["details"]["waitingFor"] == {victim: "js-nj"}

        # the victim's owner accepts: its victim (and its contacts) now belong to gd-gz
        acc = await js_nj.put(f"{path}/response", json={"status": "ACCEPTED"}, headers=nj)
        assert acc.status_code == 200, acc.text
        assert {s["node"]: s["status"] for s in acc.json()["sides"]}["js-nj"] == "ACCEPTED"
        assert await _owner(rollback_conn, victim) == "gd-gz"
        # once answered, a side answers no more
        twice = await js_nj.put(f"{path}/response", json={"status": "REJECTED", "reason": "改主意"}, headers=nj)
        assert twice.status_code == 409 and twice.json()["code"] == "INVALID_TRANSITION"
        # the victim has been handed over: neither the proposer's withdrawal nor the survivor owner's
        # rejection may strand it at gd-gz now
        late = await hq.post(f"{path}/withdraw", json={}, headers=hqh)
        assert late.status_code == 409 and late.json()["details"]["acceptedBy"] == ["js-nj"], late.text
        stranding = await client.put(f"{path}/response", json={"status": "REJECTED", "reason": "不合并"}, headers=gz)
        assert stranding.status_code == 409 and stranding.json()["details"]["handedOver"] == [victim], stranding.text

        done = await client.put(f"{path}/response", json={"status": "ACCEPTED"}, headers=gz)
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["state"] == "MERGED" and body["mergeId"]
        merge = (await client.get(f"{MERGES}/{body['mergeId']}", headers=gz)).json()
        assert merge["survivorId"] == survivor and merge["victimIds"] == [victim] and merge["ownerNode"] == "gd-gz"

        gone = await client.get(f"{URL}/{victim}", headers=gz, follow_redirects=False)
        assert gone.status_code == 308 and gone.headers["location"].endswith(f"{URL}/{survivor}")
        at_hq = await hq.get(f"{URL}/{victim}", headers=hqh, follow_redirects=False)
        assert at_hq.status_code == 308
        assert (await client.get(f"{URL}/{survivor}", headers=gz)).json()["address"] == "南京市玄武区1号"
        contacts = (await client.get(CONTACTS, params={"customer.id": survivor}, headers=gz)).json()
        # the victim's contacts moved, and the survivor keeps its own primary: exactly one
        assert {c["id"] for c in contacts} == {own_primary, moved_primary, other}
        assert [c["id"] for c in contacts if c["isPrimary"]] == [own_primary]
        seen = (await hq.get(path, headers=hqh)).json()
        assert seen["state"] == "MERGED" and {s["node"]: s["status"] for s in seen["sides"]} == {
            "gd-gz": "ACCEPTED",
            "js-nj": "ACCEPTED",
        }
        listed = await hq.get(PROPOSALS, params={"survivorId": survivor}, headers=hqh)
        assert [x["id"] for x in listed.json()] == [p["id"]] and listed.headers["x-total-count"] == "1"
        # seen where a side is answered (js-nj), not by a sibling outside every side
        assert (await js_nj.get(path, headers=nj)).status_code == 200
        assert (await hq.get(path, headers=auth("hq", scope="gd-sz"))).status_code == 404
        # audited on both customers at the proposer
        audit = await rollback_conn.execute(
            text("SELECT entity_id::text FROM customer.audit WHERE action = 'propose_merge' AND owner_node = 'hq'")
        )
        assert {row[0] for row in audit} == {survivor, victim}


async def test_a_side_rejects_with_a_reason_and_the_proposal_is_rejected(
    client, auth, customer_body, database_url, jwks, settings_for, rollback_conn: AsyncConnection
) -> None:
    gz, nj, hqh = (auth(n, perms=MERGE_PERMS) for n in ("gd-gz", "js-nj", "hq"))
    survivor = await _customer(client, gz, customer_body(name="拒绝存续"))
    async with (
        _node("js-nj", database_url, jwks, settings_for, rollback_conn) as js_nj,
        _node("hq", database_url, jwks, settings_for, rollback_conn) as hq,
        _node("gd", database_url, jwks, settings_for, rollback_conn) as gd,
    ):
        victim = await _customer(js_nj, nj, customer_body(name="拒绝被并"))
        p = (await hq.post(PROPOSALS, json={"survivorId": survivor, "victimIds": [victim]}, headers=hqh)).json()
        path = f"{PROPOSALS}/{p['id']}"
        no_reason = await js_nj.put(f"{path}/response", json={"status": "REJECTED"}, headers=nj)
        assert no_reason.status_code == 422 and "reason" in no_reason.json()["message"]
        # the province gd holds no customer of it: not a side
        outsider = await gd.put(f"{path}/response", json={"status": "ACCEPTED"}, headers=auth("gd", perms=MERGE_PERMS))
        assert outsider.status_code == 409 and "gd-gz" in outsider.json()["message"]
        r = await js_nj.put(f"{path}/response", json={"status": "REJECTED", "reason": "不是同一客户"}, headers=nj)
        assert r.status_code == 200, r.text
        seen = (await hq.get(path, headers=hqh)).json()
        assert seen["state"] == "REJECTED"
        assert [(s["node"], s["reason"]) for s in seen["sides"] if s["status"] == "REJECTED"] == [
            ("js-nj", "不是同一客户")
        ]
        assert await _owner(rollback_conn, victim) == "js-nj"  # nothing moved
        # a rejected proposal no longer blocks a new one, and cannot be withdrawn
        again = await hq.post(PROPOSALS, json={"survivorId": survivor, "victimIds": [victim]}, headers=hqh)
        assert again.status_code == 201, again.text
        late = await hq.post(f"{path}/withdraw", json={}, headers=hqh)
        assert late.status_code == 409 and late.json()["code"] == "INVALID_TRANSITION"
        withdrawn = await hq.post(f"{PROPOSALS}/{again.json()['id']}/withdraw", json={}, headers=hqh)
        assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "WITHDRAWN"


async def test_proposals_that_cannot_stand_are_refused_with_the_reason(
    client, auth, customer_body, insert_customer, database_url, jwks, settings_for, rollback_conn: AsyncConnection
) -> None:
    gz, nj, hqh = (auth(n, perms=MERGE_PERMS) for n in ("gd-gz", "js-nj", "hq"))
    a = await _customer(client, gz, customer_body(name="本地甲"))
    b = await _customer(client, gz, customer_body(name="本地乙"))
    c = await _customer(client, gz, customer_body(name="本地丙"))
    above = await insert_customer("hq", "集团总部客户")
    async with (
        _node("js-nj", database_url, jwks, settings_for, rollback_conn) as js_nj,
        _node("hq", database_url, jwks, settings_for, rollback_conn) as hq,
    ):
        x = await _customer(js_nj, nj, customer_body(name="江苏甲"))
        # without customer:merge
        refused = await hq.post(PROPOSALS, json={"survivorId": a, "victimIds": [x]}, headers=auth("hq"))
        assert refused.status_code == 403, refused.text
        # at gd-gz, a customer owned above it (hq's): gd-gz is not a common ancestor of the owners
        up = await client.post(PROPOSALS, json={"survivorId": a, "victimIds": [above]}, headers=gz)
        assert up.status_code == 409 and up.json()["details"]["ownerNode"] == "hq", up.text
        # at gd-gz, a customer of another province is not even visible
        hidden = await client.post(PROPOSALS, json={"survivorId": a, "victimIds": [x]}, headers=gz)
        assert hidden.status_code == 404, hidden.text
        # all owned by gd-gz: merged there, no proposal
        local = await client.post(PROPOSALS, json={"survivorId": a, "victimIds": [b]}, headers=gz)
        assert local.status_code == 409 and "/api/v1/customer/merges" in local.json()["message"]
        # a survivor among its victims, an attribute a merge does not choose
        bad = await hq.post(PROPOSALS, json={"survivorId": a, "victimIds": [a]}, headers=hqh)
        assert bad.status_code == 422
        bad = await hq.post(
            PROPOSALS, json={"survivorId": a, "victimIds": [x], "choices": {"ownerNode": x}}, headers=hqh
        )
        assert bad.status_code == 422 and "choices.ownerNode" in bad.json()["message"]
        # a victim already merged
        merged = await client.post(MERGES, json={"survivorId": c, "victimIds": [b]}, headers=gz)
        assert merged.status_code == 201, merged.text
        gone = await hq.post(PROPOSALS, json={"survivorId": x, "victimIds": [b]}, headers=hqh)
        assert gone.status_code == 409 and gone.json()["details"]["mergedInto"] == c, gone.text
        # a customer already in a pending proposal
        first = await hq.post(PROPOSALS, json={"survivorId": a, "victimIds": [x]}, headers=hqh)
        assert first.status_code == 201, first.text
        second = await hq.post(PROPOSALS, json={"survivorId": c, "victimIds": [x]}, headers=hqh)
        assert second.status_code == 409 and second.json()["details"]["proposal"] == first.json()["id"]
        # the direct merge across owners points to the proposal
        direct = await hq.post(MERGES, json={"survivorId": a, "victimIds": [x]}, headers=hqh)
        assert direct.status_code == 409 and "mergeProposals" in direct.json()["message"]


async def test_a_customer_has_one_primary_contact(client, auth, customer_body) -> None:
    h = auth("gd-gz")
    cid = await _customer(client, h, customer_body(name="主联系人客户"))
    first = await _contact(client, h, cid, "甲", primary=True)
    assert first.status_code == 201, first.text
    second = await _contact(client, h, cid, "乙", primary=True)
    assert second.status_code == 409 and second.json()["details"]["primaryContact"] == first.json()["id"]
    plain = await _contact(client, h, cid, "丙")
    assert plain.status_code == 201
    promote = await client.patch(
        f"{CONTACTS}/{plain.json()['id']}",
        json={"isPrimary": True},
        headers={**h, "Content-Type": "application/merge-patch+json"},
    )
    assert promote.status_code == 409, promote.text
    demote = await client.patch(
        f"{CONTACTS}/{first.json()['id']}",
        json={"isPrimary": False},
        headers={**h, "Content-Type": "application/merge-patch+json"},
    )
    assert demote.status_code == 200, demote.text
    promote = await client.patch(
        f"{CONTACTS}/{plain.json()['id']}",
        json={"isPrimary": True},
        headers={**h, "Content-Type": "application/merge-patch+json"},
    )
    assert promote.status_code == 200 and promote.json()["isPrimary"] is True
    listed = (await client.get(CONTACTS, params={"customer.id": cid}, headers=h)).json()
    assert [c["id"] for c in listed if c["isPrimary"]] == [plain.json()["id"]]


async def test_a_merge_leaves_one_primary_and_its_reversal_gives_the_flags_back(client, auth, customer_body) -> None:
    h = auth("gd-gz", perms=MERGE_PERMS)
    survivor = await _customer(client, h, customer_body(name="无主联系人存续"))
    v1 = await _customer(client, h, customer_body(name="被并一"))
    v2 = await _customer(client, h, customer_body(name="被并二"))
    p1 = (await _contact(client, h, v1, "一主", primary=True)).json()["id"]
    p2 = (await _contact(client, h, v2, "二主", primary=True)).json()["id"]
    m = await client.post(MERGES, json={"survivorId": survivor, "victimIds": [v1, v2]}, headers=h)
    assert m.status_code == 201, m.text
    listed = (await client.get(CONTACTS, params={"customer.id": survivor}, headers=h)).json()
    # the survivor had none: the first victim's primary becomes its one primary
    assert {c["id"]: c["isPrimary"] for c in listed} == {p1: True, p2: False}
    back = await client.post(f"{MERGES}/{m.json()['id']}/reverse", json={}, headers=h)
    assert back.status_code == 200, back.text
    again = (await client.get(CONTACTS, params={"customer.id": v2}, headers=h)).json()
    assert [(c["id"], c["isPrimary"]) for c in again] == [(p2, True)]
