"""Quotes over real PostgreSQL, with the node's real rules and org apps: TMF648 shape and amounts to the
cent, lines only from offerings active and sellable at the owner (a retired or unavailable one is a 422
naming it), the discount rule's maximum and approval threshold, approval only by the account manager's
manager (org's team leader) and never by the author, revisions as linked versions, replicas refusing
writes, and the quote as XLSX and PDF."""

from __future__ import annotations

import io
import re
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import openpyxl

BASE = "/tmf-api/quoteManagement/v4/quote"
TMF = "/tmf-api/productCatalogManagement/v4"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
CUSTOMER = str(uuid.UUID(int=91))
APPROVER = ["sales.quote:read", "sales.quote:approve", "org.staff:read", "org.team:read", "rules:read"]


async def _offering(c: httpx.AsyncClient, auth: Auth, node: str, name: str, **over: Any) -> str:
    body = {"name": name, "lifecycleStatus": "active", "validFor": {"startDateTime": "2026-01-01"}, **over}
    r = await c.post(f"{TMF}/productOffering", json=body, headers=auth(node))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _item(offering: str, price: str = "1000.00", discount: str = "0", qty: int = 1) -> dict[str, Any]:
    return {
        "productOffering": {"id": offering},
        "quantity": qty,
        "unitPrice": {"unit": "CNY", "value": price},
        "discountPercent": discount,
    }


def _body(*items: dict[str, Any], **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": f"BJ-{uuid.uuid4().hex[:8]}",
        "name": "广州地铁 互联网专线报价",
        "customer": {"id": CUSTOMER},
        "quoteItem": list(items),
    }
    body.update(over)
    return body


async def _quote(clients: Clients, auth: Auth, *items: dict[str, Any], user: str = "am1") -> dict[str, Any]:
    r = await clients["gd-gz"].post(BASE, json=_body(*items), headers=auth("gd-gz", user=user))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_lines_are_priced_to_the_cent_with_tmf_shape(clients: Clients, auth: Auth) -> None:
    o = await _offering(clients["hq"], auth, "hq", "互联网专线 100M")
    q = await _quote(clients, auth, _item(o, "1999.99", "5", 3), _item(o, "500.00"))
    assert q["@type"] == "Quote" and q["state"] == "inProgress" and q["quoteVersion"] == 1
    assert [i["amount"]["value"] for i in q["quoteItem"]] == ["5699.97", "500.00"]  # 5999.97 × 0.95
    assert q["subtotal"] == {"unit": "CNY", "value": "6499.97"} and q["total"] == {"unit": "CNY", "value": "6199.97"}
    assert q["quoteItem"][0]["productOffering"]["name"] == "互联网专线 100M"
    assert q["maxDiscountPercent"] == "5.00" and q["approval"]["required"] is False
    r = await clients["gd-gz"].get(f"{BASE}?customer.id={CUSTOMER}", headers=auth("gd-gz"))
    assert r.headers["X-Total-Count"] == "1" and r.json()[0]["id"] == q["id"]


async def test_retired_or_unavailable_offering_is_422_naming_it(clients: Clients, auth: Auth) -> None:
    good = await _offering(clients["hq"], auth, "hq", "数字电路 2M")
    retired = await _offering(clients["hq"], auth, "hq", "帧中继 旧")
    r = await clients["hq"].patch(
        f"{TMF}/productOffering/{retired}", json={"lifecycleStatus": "retired"}, headers=auth("hq")
    )
    assert r.status_code == 200, r.text
    js_only = await _offering(clients["js"], auth, "js", "江苏套餐")
    for bad, why in ((retired, "retired"), (js_only, "not in the catalogue"), ("x", "not an id")):
        r = await clients["gd-gz"].post(BASE, json=_body(_item(good), _item(bad)), headers=auth("gd-gz"))
        assert r.status_code == 422, r.text
        msg = r.json()["message"]
        assert msg.startswith("quoteItem[1].productOffering.id") and bad in msg and why in msg, msg
    withdrawn = await _offering(clients["hq"], auth, "hq", "DDN 64K", availableByDefault=False)
    r = await clients["gd-gz"].post(BASE, json=_body(_item(withdrawn)), headers=auth("gd-gz"))
    assert r.status_code == 422 and "not available at gd-gz" in r.json()["message"], r.text


async def test_bad_input_is_422_naming_the_field(clients: Clients, auth: Auth) -> None:
    o = await _offering(clients["hq"], auth, "hq", "互联网专线 T")
    cases: list[tuple[dict[str, Any], str]] = [
        (_body(_item(o, price="1.001")), "unitPrice.value"),
        (_body(_item(o, discount="100.5")), "discountPercent"),
        (_body(_item(o, discount="31")), "quoteItem[0].discountPercent"),  # above the rule's maximum (30)
        (_body(_item(o), {**_item(o), "unitPrice": {"unit": "USD", "value": "1"}}), "quoteItem[1].unitPrice.unit"),
        (_body(), "quoteItem"),
        (_body(_item(o), customer={"id": "x"}), "customer.id"),
        (_body(_item(o), opportunity={"id": str(uuid.UUID(int=3))}), "opportunity.id"),
    ]
    for body, field in cases:
        r = await clients["gd-gz"].post(BASE, json=body, headers=auth("gd-gz"))
        assert r.status_code == 422 and r.json()["@type"] == "Error" and field in r.json()["message"], (field, r.text)


async def test_within_threshold_is_approved_on_submit(clients: Clients, auth: Auth) -> None:
    o = await _offering(clients["hq"], auth, "hq", "互联网专线 T")
    q = await _quote(clients, auth, _item(o, discount="10"))  # the national threshold is 10: not above
    r = await clients["gd-gz"].post(f"{BASE}/{q['id']}/submit", headers=auth("gd-gz"))
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["state"] == "approved" and a["approval"]["required"] is False
    assert "@" in a["approval"]["rule"]  # the national default the rules seed published
    r = await clients["gd-gz"].patch(f"{BASE}/{q['id']}", json={"name": "改"}, headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == ["accepted", "cancelled"], r.text
    r = await clients["gd-gz"].patch(f"{BASE}/{q['id']}", json={"state": "accepted"}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["state"] == "accepted", r.text


async def _team(org: httpx.AsyncClient, auth: Auth, leader: str, members: list[str]) -> None:
    admin = auth("gd-gz", user="admin", perms=["org.staff:write", "org.team:write", "org.staff:read"])
    ids = {}
    for name in [leader, *members]:
        r = await org.post(
            "/api/v1/org/staff",
            json={"username": name, "displayName": name, "password": "correct-horse-9"},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    r = await org.post(
        "/api/v1/org/teams",
        json={
            "code": f"t-{uuid.uuid4().hex[:6]}",
            "name": "大客户一部",
            "kind": "客户经理团队",
            "leaderId": ids[leader],
            "memberIds": [ids[m] for m in members],
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text


async def test_discount_above_threshold_needs_the_managers_approval(
    clients: Clients, org_clients: Clients, auth: Auth
) -> None:
    await _team(org_clients["gd-gz"], auth, "boss", ["am1", "am2"])
    await _team(org_clients["gd-gz"], auth, "other", ["am3"])
    o = await _offering(clients["hq"], auth, "hq", "互联网专线 T")
    q = await _quote(clients, auth, _item(o, "10000.00", "15"))
    c, path = clients["gd-gz"], f"{BASE}/{q['id']}"
    r = await c.post(f"{path}/submit", headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["state"] == "pending" and r.json()["approval"]["required"], r.text
    # the author cannot approve (even holding the permission), a colleague is not the manager, nor is
    # another team's leader
    r = await c.post(f"{path}/approve", headers=auth("gd-gz", user="am1", perms=APPROVER))
    assert r.status_code == 403 and r.json()["code"] == "SEPARATION_OF_DUTIES", r.text
    for user in ("am2", "other"):
        r = await c.post(f"{path}/approve", headers=auth("gd-gz", user=user, perms=APPROVER))
        assert r.status_code == 403 and r.json()["code"] == "NOT_APPROVER", r.text
        assert r.json()["details"]["approvers"] == ["boss"]
    r = await c.post(f"{path}/approve", headers=auth("gd-gz", user="boss"))  # without sales.quote:approve
    assert r.status_code == 403, r.text
    r = await c.post(f"{path}/approve", json={"note": "同意 15%"}, headers=auth("gd-gz", user="boss", perms=APPROVER))
    assert r.status_code == 200, r.text
    a = r.json()["approval"]
    assert r.json()["state"] == "approved" and a["approvedBy"] == "boss" and a["note"] == "同意 15%"
    r = await c.post(f"{path}/approve", headers=auth("gd-gz", user="boss", perms=APPROVER))
    assert r.status_code == 409 and r.json()["code"] == "INVALID_TRANSITION", r.text


async def test_rejected_quote_is_revised_as_a_linked_version(
    clients: Clients, org_clients: Clients, auth: Auth
) -> None:
    await _team(org_clients["gd-gz"], auth, "boss", ["am1"])
    o = await _offering(clients["hq"], auth, "hq", "互联网专线 T")
    q = await _quote(clients, auth, _item(o, "10000.00", "20"))
    c, path = clients["gd-gz"], f"{BASE}/{q['id']}"
    assert (await c.post(f"{path}/submit", headers=auth("gd-gz"))).json()["state"] == "pending"
    r = await c.post(f"{path}/reject", json={"note": "折扣过高"}, headers=auth("gd-gz", user="boss", perms=APPROVER))
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
    r = await c.post(f"{path}/revise", headers=auth("gd-gz"))
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["number"] == q["number"] and new["quoteVersion"] == 2 and new["state"] == "inProgress"
    assert new["previousQuote"]["id"] == q["id"] and r.headers["Location"] == new["href"]
    old = (await c.get(path, headers=auth("gd-gz"))).json()
    assert old["state"] == "superseded" and old["supersededBy"]["id"] == new["id"]
    r = await c.patch(f"{BASE}/{new['id']}", json={"quoteItem": [_item(o, "10000.00", "8")]}, headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["total"]["value"] == "9200.00", r.text
    r = await c.post(f"{BASE}/{new['id']}/submit", headers=auth("gd-gz"))
    assert r.json()["state"] == "approved", r.text
    r = await c.post(f"{path}/revise", headers=auth("gd-gz"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == [], r.text


async def test_replica_refuses_writes_and_scope_hides_quotes(clients: Clients, auth: Auth) -> None:
    o = await _offering(clients["hq"], auth, "hq", "互联网专线 T")
    q = await _quote(clients, auth, _item(o))
    r = await clients["gd"].patch(f"{BASE}/{q['id']}", json={"name": "x"}, headers=auth("gd"))
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == "gd-gz"
    assert (await clients["gd"].get(f"{BASE}/{q['id']}", headers=auth("gd"))).status_code == 200
    assert (await clients["js"].get(f"{BASE}/{q['id']}", headers=auth("js"))).status_code == 404


async def test_quote_as_xlsx_and_pdf(clients: Clients, auth: Auth) -> None:
    o = await _offering(clients["hq"], auth, "hq", "政企融合套餐")
    q = await _quote(clients, auth, _item(o, "1999.99", "5", 3))
    r = await clients["gd-gz"].get(f"{BASE}/{q['id']}/document?format=xlsx", headers=auth("gd-gz"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats"), r.text
    assert q["number"] in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "政企融合套餐" in cells and 5699.97 in cells and f"{q['number']} v1" in cells

    r = await clients["gd-gz"].get(f"{BASE}/{q['id']}/document", headers=auth("gd-gz"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.content
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/BaseFont /STSong-Light" in pdf and b"/Encoding /UniGB-UCS2-H" in pdf
    # the cross-reference table points at each object
    xref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    offsets = [int(x[:10]) for x in pdf[xref:].split(b"\n")[3:] if x.endswith(b" n ")]
    assert offsets and all(re.match(rb"\d+ 0 obj", pdf[o : o + 12]) for o in offsets)
    text = b"".join(zlib.decompress(m.group(1)) for m in re.finditer(rb"stream\n(.*?)\nendstream", pdf, re.S))
    assert "政企融合套餐".encode("utf-16-be").hex().upper().encode() in text
    assert "5699.97".encode("utf-16-be").hex().upper().encode() in text

    r = await clients["gd-gz"].get(f"{BASE}/{q['id']}/document?format=doc", headers=auth("gd-gz"))
    assert r.status_code in (400, 422) and r.json()["@type"] == "Error"
