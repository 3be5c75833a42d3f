"""Documents (F4) over real PostgreSQL: files streamed in as versions and out with their sha256, 413 and
nothing stored over the limit, content served only where every piece is present and intact (else 503 /
integrity error), expiry (410), access by scope and role, writes only at the owner."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_platform.db.engine import get_read_session
from kam_platform.testing.plugin import bearer

BASE = "/api/v1/service/document"
TICKETS = "/tmf-api/troubleTicket/v4/troubleTicket"
PERMS = ["service.document:read", "service.document:write", "service.ticket:read", "service.ticket:write",
         "customer:read", "rules:read"]  # fmt: skip
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]


@pytest.fixture
def docs(clients: Clients, apps: dict[str, dict[str, FastAPI]], rollback_conn: AsyncConnection) -> Clients:
    """The clients, with the streamed downloads' session (it lives until the body is sent) on the test's
    transaction too."""

    async def override() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(bind=rollback_conn, join_transaction_mode="create_savepoint") as session:
            yield session

    for app in apps["service"].values():
        app.dependency_overrides[get_read_session] = override
    return clients


@pytest.fixture
def who(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def make(
        node: str = "gd-gz", *, user: str = "am-li", roles: tuple[str, ...] = ("account_manager",)
    ) -> dict[str, str]:
        return bearer(make_token(user, node, perms=PERMS, roles=list(roles)))

    return make


async def _document(c: httpx.AsyncClient, headers: dict[str, str], cid: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "2026 年专线扩容方案",
        "category": "PROPOSAL",
        "relatedParty": [{"id": cid, "role": "customer"}],
        **over,
    }
    r = await c.post(BASE, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _upload(
    c: httpx.AsyncClient, headers: dict[str, str], doc_id: str, content: bytes | Any, ctype: str = "application/pdf",
    **params: str,
) -> httpx.Response:  # fmt: skip
    return await c.post(
        f"{BASE}/{doc_id}/content", content=content, params=params, headers={**headers, "Content-Type": ctype}
    )


async def _stored(conn: AsyncConnection, doc_id: str) -> tuple[int, int]:
    chunks = await conn.scalar(
        text("SELECT count(*) FROM service.document_chunk WHERE document_id = :d"), {"d": doc_id}
    )
    # the chunk events carry the document id in their payload
    events = await conn.scalar(
        text(
            "SELECT count(*) FROM service.outbox WHERE subject LIKE 'up.%.service.document_chunk.%'"
            " AND position(convert_to(:d, 'UTF8') in payload) > 0"
        ),
        {"d": doc_id},
    )
    return int(chunks or 0), int(events or 0)


async def test_versions_stream_in_and_out_with_their_sha256(
    docs: Clients, who: Callable[..., dict[str, str]], insert_customer: Callable[..., Any]
) -> None:
    c = docs["gd-gz"]
    cid = await insert_customer("gd-gz")
    d = await _document(c, who(), cid)
    assert d["currentVersion"] == 0 and d["versions"] == [] and d["ownerNode"] == "gd-gz"
    first = os.urandom(300 * 1024)  # three pieces: 128 + 128 + 44 KiB
    r = await _upload(c, who(), d["id"], first, fileName="扩容方案.pdf", note="初稿")
    assert r.status_code == 201, r.text
    v1 = r.json()["versions"][0]
    assert v1["sha256"] == hashlib.sha256(first).hexdigest() and v1["size"] == len(first)
    assert v1["fileName"] == "扩容方案.pdf" and v1["note"] == "初稿" and r.json()["currentVersion"] == 1
    assert r.headers["location"] == v1["contentHref"]
    second = b"%PDF-1.7 second version\n" * 1000
    r = await _upload(c, who(), d["id"], second)
    assert r.status_code == 201 and r.json()["currentVersion"] == 2 and r.json()["version"] == 3

    got = await c.get(f"{BASE}/{d['id']}/content", headers=who())
    assert got.status_code == 200 and got.content == second
    assert got.headers["x-content-sha256"] == hashlib.sha256(second).hexdigest()
    assert got.headers["content-type"] == "application/pdf" and got.headers["content-disposition"].startswith("inline")
    old = await c.get(f"{BASE}/{d['id']}/content", params={"version": 1, "download": "true"}, headers=who())
    assert old.status_code == 200 and hashlib.sha256(old.content).hexdigest() == v1["sha256"]
    assert (
        old.headers["content-disposition"].startswith("attachment")
        and "%E6%89%A9" in old.headers["content-disposition"]
    )
    missing = await c.get(f"{BASE}/{d['id']}/content", params={"version": 9}, headers=who())
    assert missing.status_code == 404
    # the ancestor (same database here: its replica) serves the same bytes
    up = await docs["gd"].get(f"{BASE}/{d['id']}/content", headers=who("gd", user="boss"))
    assert up.status_code == 200 and up.content == second


async def test_oversized_upload_is_refused_with_413_and_nothing_stored(
    docs: Clients,
    apps: dict[str, dict[str, FastAPI]],
    who: Callable[..., dict[str, str]],
    insert_customer: Callable[..., Any],
    rollback_conn: AsyncConnection,
) -> None:
    c = docs["gd-gz"]
    d = await _document(c, who(), await insert_customer("gd-gz"))
    # declared beyond 100 MB: refused before a byte is read
    r = await c.post(
        f"{BASE}/{d['id']}/content",
        content=b"x" * 10,
        headers={**who(), "Content-Type": "application/pdf", "Content-Length": str(100 * 1024 * 1024 + 1)},
    )
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE", r.text
    # streamed without a length, found too large on the way (the limit made small so the test stays small)
    app = apps["service"]["gd-gz"]
    app.state.max_document_bytes = 300 * 1024

    async def body() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield os.urandom(100 * 1024)

    try:
        r = await _upload(c, who(), d["id"], body())
    finally:
        app.state.max_document_bytes = 100 * 1024 * 1024
    assert r.status_code == 413 and "nothing was stored" in r.json()["message"], r.text
    assert await _stored(rollback_conn, d["id"]) == (0, 0)
    after = (await c.get(f"{BASE}/{d['id']}", headers=who())).json()
    assert after["versions"] == [] and after["version"] == d["version"]
    # and a file within the limit is taken as before
    assert (await _upload(c, who(), d["id"], os.urandom(1000))).status_code == 201
    assert await _stored(rollback_conn, d["id"]) == (1, 1)


async def test_content_missing_or_damaged_here_says_so(
    docs: Clients,
    who: Callable[..., dict[str, str]],
    insert_customer: Callable[..., Any],
    rollback_conn: AsyncConnection,
) -> None:
    c = docs["gd-gz"]
    d = await _document(c, who(), await insert_customer("gd-gz"))
    assert (await _upload(c, who(), d["id"], os.urandom(200 * 1024))).status_code == 201
    await rollback_conn.execute(
        text("UPDATE service.document_chunk SET data = 'x'::bytea || data WHERE document_id = :d AND seq = 0"),
        {"d": d["id"]},
    )
    r = await docs["gd"].get(f"{BASE}/{d['id']}/content", headers=who("gd", user="boss"))
    assert r.status_code == 500 and r.json()["code"] == "CONTENT_INTEGRITY"
    await rollback_conn.execute(
        text("DELETE FROM service.document_chunk WHERE document_id = :d AND seq = 1"), {"d": d["id"]}
    )
    r = await docs["gd"].get(f"{BASE}/{d['id']}/content", headers=who("gd", user="boss"))
    assert r.status_code == 503, r.text
    assert "not yet at gd" in r.json()["message"] and r.json()["details"]["chunks"] == 2


async def test_expiry_roles_scope_and_owner(
    docs: Clients, who: Callable[..., dict[str, str]], insert_customer: Callable[..., Any]
) -> None:
    c = docs["gd-gz"]
    cid = await insert_customer("gd-gz")
    expired = await _document(c, who(), cid, expiresOn="2026-03-01")  # the clock stands at 2026-03-02
    assert expired["isExpired"] is True
    assert (await _upload(c, who(), expired["id"], b"scan")).status_code == 201
    r = await c.get(f"{BASE}/{expired['id']}/content", headers=who())
    assert r.status_code == 410 and r.json()["code"] == "DOCUMENT_EXPIRED"

    secret = await _document(c, who(roles=("ka_dept_manager",)), cid, title="投标报价", accessRoles=["ka_dept_manager"])
    listed = await c.get(BASE, params={"relatedParty.id": cid}, headers=who())
    assert secret["id"] not in {x["id"] for x in listed.json()} and listed.headers["x-total-count"] == "1"
    assert (await c.get(f"{BASE}/{secret['id']}", headers=who())).status_code == 404
    assert (await c.get(f"{BASE}/{secret['id']}", headers=who(roles=("ka_dept_manager",)))).status_code == 200
    # another local network does not see it; the province (an ancestor) does, read-only
    assert (await docs["gd"].get(f"{BASE}/{expired['id']}", headers=who("gd", user="boss"))).status_code == 200
    r = await docs["gd"].patch(
        f"{BASE}/{expired['id']}",
        json={"title": "x"},
        headers={**who("gd", user="boss"), "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER"
    assert (await _upload(docs["gd"], who("gd", user="boss"), expired["id"], b"x")).status_code == 409
    # metadata changes and delete at the owner
    patch = {**who(), "Content-Type": "application/merge-patch+json"}
    r = await c.patch(f"{BASE}/{expired['id']}", json={"expiresOn": None, "title": "合同扫描件"}, headers=patch)
    assert r.status_code == 200 and r.json()["isExpired"] is False and r.json()["title"] == "合同扫描件"
    assert (await c.get(f"{BASE}/{expired['id']}/content", headers=who())).content == b"scan"
    assert (await c.delete(f"{BASE}/{expired['id']}", headers=who())).status_code == 204
    assert (await c.get(f"{BASE}/{expired['id']}", headers=who())).status_code == 404


async def test_bad_input_is_answered_in_the_envelope(
    docs: Clients, who: Callable[..., dict[str, str]], auth: Auth, insert_customer: Callable[..., Any]
) -> None:
    c = docs["gd-gz"]
    cid = await insert_customer("gd-gz")
    d = await _document(c, who(), cid)
    r = await _upload(c, who(), d["id"], b"<x/>", ctype="application/x-evil")
    assert r.status_code == 415 and r.json()["@type"] == "Error"
    r = await _upload(c, who(), d["id"], b"")
    assert r.status_code == 422 and r.json()["message"].startswith("body")
    for bad in ({"title": ""}, {"relatedParty": []}, {"category": "NOPE"}, {"relatedEntity": {"type": "x", "id": "1"}}):
        r = await c.post(
            BASE, json={"title": "t", "relatedParty": [{"id": cid, "role": "customer"}], **bad}, headers=who()
        )
        assert r.status_code == 422 and r.json()["@type"] == "Error", r.text
    r = await c.post(
        BASE,
        json={"title": "t", "relatedParty": [{"id": cid, "role": "customer"}],
              "relatedEntity": {"type": "troubleTicket", "id": "00000000-0000-0000-0000-000000000000"}},
        headers=who(),
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["message"].startswith("relatedEntity.id")
    ticket = await c.post(
        TICKETS,
        json={
            "name": "故障",
            "ticketType": "FAULT",
            "channel": "HOTLINE",
            "relatedParty": [{"id": cid, "role": "customer"}],
        },
        headers=who(),
    )
    assert ticket.status_code == 201, ticket.text
    linked = await _document(c, who(), cid, relatedEntity={"type": "troubleTicket", "id": ticket.json()["id"]})
    assert linked["relatedEntity"]["type"] == "troubleTicket"
    assert (await c.get(f"{BASE}/nope", headers=who())).status_code == 404
    assert (await c.get(f"{BASE}/{d['id']}", headers=auth("gd-gz", perms=[]))).status_code == 403
