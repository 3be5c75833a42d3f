"""An import is recorded as CustomersImported batch events, one audit record per event naming the job
(issue 13): the rows of a job are queryable from it, an import crossing the chunk size is whole, and a
replica applying the batch events holds exactly what the per-row events would have given it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf.message import Message
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.importexport import service as import_service
from kam_customer.importexport.schemas import EXPORT_HEADER
from kam_customer.main import MIGRATIONS
from kam_customer.models import SCHEMA
from kam_platform.db import create_database
from kam_platform.db.engine import get_read_session
from kam_platform.outbox import build_event
from kam_platform.replication import Event

from .conftest import valid_credit_code
from .consumers import customer_consumer

IMPORTS = "/api/v1/customer/imports"
IMPORTED = "kam.v1.CustomersImported"


@pytest.fixture
def ie(customer_app: FastAPI, client: httpx.AsyncClient, rollback_conn: AsyncConnection) -> httpx.AsyncClient:
    """The client, with reads (ReadSession) also inside the test's transaction."""

    async def read_session() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(
            bind=rollback_conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
        ) as session:
            yield session

    customer_app.dependency_overrides[get_read_session] = read_session  # cleared by the client fixture
    return client


def csv_file(n: int, *, start: int = 0, grade: str = "B", manager: str = "am01") -> bytes:
    lines = [",".join(EXPORT_HEADER)]
    for i in range(start, start + n):
        row = dict.fromkeys(EXPORT_HEADER, "")
        row.update(
            customerCode=f"KAGDGZBAT{i:06d}",
            name=f"批量导入测试银行{i}号支行",
            customerType="SINGLE",
            industry="FINANCE",
            grade=grade,
            status="ACTIVE",
            recognitionStatus="CONFIRMED",
            accountManager=manager,
            accountManagerName="张伟",
            address=f"广州市天河路{i}号",
        )
        if i % 3 == 0:
            row["creditCode"] = valid_credit_code(f"914401017{i:08d}")
        lines.append(",".join(row[h] for h in EXPORT_HEADER))
    return ("\n".join(lines) + "\n").encode()


async def post_csv(client: httpx.AsyncClient, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    r = await client.post(IMPORTS, content=body, headers={**headers, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def batch_events(conn: AsyncConnection) -> list[tuple[str, bytes]]:
    rows = await conn.execute(
        text(f"SELECT subject, payload FROM {SCHEMA}.outbox WHERE event_type = :t ORDER BY created_at, id"),
        {"t": IMPORTED},
    )
    return [(r.subject, bytes(r.payload)) for r in rows]


def message(payload: bytes) -> customer_pb2.CustomersImported:
    env = envelope_pb2.Envelope.FromString(payload)
    return customer_pb2.CustomersImported.FromString(env.payload)


async def test_an_import_past_the_chunk_size_is_recorded_as_batch_events_and_its_rows_are_queryable(
    ie: httpx.AsyncClient, auth: Any, rollback_conn: AsyncConnection
) -> None:
    client = ie
    n = import_service.CHUNK + 3  # crosses the chunk size
    body = await post_csv(client, auth("gd-gz"), csv_file(n))
    assert (body["received"], body["created"], body["updated"], body["rejected"]) == (n, n, 0, 0)
    job = body["job"]
    events = await batch_events(rollback_conn)
    assert len(events) >= 2
    messages = [message(p) for _, p in events]
    # no per-row envelopes: the customers, legal entities and assignments travel in the batch events
    per_row = await rollback_conn.execute(
        text(
            f"SELECT count(*) FROM {SCHEMA}.outbox WHERE event_type IN ('kam.v1.CustomerCreated', "
            "'kam.v1.OrganizationChanged', 'kam.v1.AccountManagerAssigned', 'kam.v1.AuditRecorded')"
        )
    )
    assert per_row.scalar_one() == 0
    assert sum(len(m.customers) for m in messages) == n
    assert sum(len(m.created_ids) for m in messages) == n
    assert sum(len(m.organizations) for m in messages) == n
    assert sum(len(m.assignments) for m in messages) == n
    assert [m.chunk for m in messages] == list(range(len(messages)))
    assert {m.job_id for m in messages} == {job}
    for (subject, payload), m in zip(events, messages, strict=True):
        env = envelope_pb2.Envelope.FromString(payload)
        assert (
            subject
            == f"up.gd-gz.customer.import_chunk.{m.audit.id}"
            == f"up.gd-gz.customer.import_chunk.{env.aggregate_id}"
        )
        assert len(payload) < 1024 * 1024  # NATS's default max_payload
        assert m.audit.entity_type == "import" and m.audit.entity_id == job and m.audit.action == "import"
    # the states are the rows as stored
    stored = {
        r.customer_code: r
        for r in await rollback_conn.execute(
            text(
                f"SELECT id, customer_code, name, version, organization_id FROM {SCHEMA}.customer "
                "WHERE customer_code LIKE 'KAGDGZBAT%'"
            )
        )
    }
    for m in messages:
        for c in m.customers:
            row = stored[c.customer_code]
            assert (c.id, c.name, c.version, c.organization_id) == (str(row.id), row.name, 1, str(row.organization_id))
    # one audit record per batch event, naming the job; none per row
    audits = (
        await rollback_conn.execute(
            text(f"SELECT entity_type, count(*) FROM {SCHEMA}.audit WHERE action = 'import' GROUP BY 1")
        )
    ).all()
    assert dict(audits) == {"import": len(messages)}

    # the job's rows, in file order, paged
    r = await client.get(f"{IMPORTS}/{job}/rows", params={"limit": 3}, headers=auth("gd-gz"))
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == str(n) and r.headers["X-Result-Count"] == "3"
    first = r.json()
    assert [x["row"] for x in first] == [2, 3, 4]  # line 1 is the header
    assert first[0]["customerCode"] == "KAGDGZBAT000000" and first[0]["action"] == "created"
    assert first[0]["id"] == str(stored["KAGDGZBAT000000"].id) and first[0]["chunk"] == 0
    r = await client.get(f"{IMPORTS}/{job}/rows", params={"offset": n - 2, "limit": 10}, headers=auth("gd-gz"))
    last = r.json()
    assert [x["customerCode"] for x in last] == [f"KAGDGZBAT{n - 2:06d}", f"KAGDGZBAT{n - 1:06d}"]
    assert last[-1]["row"] == n + 1 and last[-1]["chunk"] == messages[-1].chunk

    # an update is named with its changes; another job
    changed = await post_csv(client, auth("gd-gz"), csv_file(2, grade="A"))
    assert changed["updated"] == 2 and changed["job"] != job
    r = await client.get(f"{IMPORTS}/{changed['job']}/rows", headers=auth("gd-gz"))
    assert [x["action"] for x in r.json()] == ["updated", "updated"]
    assert r.json()[0]["changes"] == {"grade": ["B", "A"]}

    # unknown, malformed and out-of-scope jobs are not found; no permission is 403
    for other, headers in (
        (str(uuid.uuid4()), auth("gd-gz")),
        ("not-a-job", auth("gd-gz")),
        (job, auth("gd-sz")),
    ):
        r = await client.get(f"{IMPORTS}/{other}/rows", headers=headers)
        assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND", (other, r.text)
    r = await client.get(f"{IMPORTS}/{job}/rows", headers=auth("gd-gz", perms=["customer:read"]))
    assert r.status_code == 403
    r = await client.get(f"{IMPORTS}/{job}/rows", params={"limit": 0}, headers=auth("gd-gz"))
    assert r.status_code == 400 or r.status_code == 422


# --- at a replica: the batch event equals the per-row events ---------------------------------------


def _per_row(payload: bytes) -> list[bytes]:
    """The per-row events the API path would have written for one batch event's contents."""
    env = envelope_pb2.Envelope.FromString(payload)
    m = customer_pb2.CustomersImported.FromString(env.payload)
    created = set(m.created_ids)
    out: list[tuple[str, str, int, Message]] = []
    for o in m.organizations:
        out.append(("organization", o.id, o.version, customer_pb2.OrganizationChanged(organization=o)))
    for c in m.customers:
        msg: Message = (
            customer_pb2.CustomerCreated(customer=c) if c.id in created else customer_pb2.CustomerUpdated(customer=c)
        )
        out.append(("customer", c.id, c.version, msg))
    for a in m.assignments:
        out.append(("assignment", a.id, 1, a))
    out.append(("audit", m.audit.id, 1, m.audit))
    return [
        build_event(
            node=env.origin_node,
            service="customer",
            aggregate_type=agg,
            aggregate_id=agg_id,
            version=version,
            message=msg,
            actor=env.actor,
            occurred_at=env.occurred_at,
        )[3]
        for agg, agg_id, version, msg in out
    ]


def _later(payload: bytes) -> bytes:
    env = envelope_pb2.Envelope.FromString(payload)
    m = customer_pb2.CustomersImported.FromString(env.payload)
    for a in m.assignments:
        a.valid_from.seconds += 1
    env.payload = m.SerializeToString()
    return env.SerializeToString()


async def _replica(make_database: Any, name: str) -> str:
    url: str = make_database(name, [MIGRATIONS])
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"TRUNCATE {SCHEMA}.inbox, {SCHEMA}.dead_letter, {SCHEMA}.audit, "
                f"{SCHEMA}.account_manager_assignment, {SCHEMA}.organization, {SCHEMA}.customer CASCADE"
            )
        )
    await engine.dispose()
    return url


async def _apply(url: str, settings: Any, payloads: list[bytes]) -> None:
    db = create_database(url)
    try:
        consumer = customer_consumer(db, settings, nats_url="")
        events = []
        for p in payloads:
            env = envelope_pb2.Envelope.FromString(p)
            subject = f"up.{env.origin_node}.customer.{env.aggregate_type}.{env.aggregate_id}"
            events.append(Event(env, subject, "UP_gd"))
        refused = await consumer._apply_batch(events)
        assert refused == []
    finally:
        await db.dispose()


async def _tables(url: str) -> dict[str, list[Any]]:
    engine = create_async_engine(url)
    queries = {
        "customer": f"SELECT to_jsonb(c) FROM {SCHEMA}.customer c ORDER BY id",
        # the replica's own bookkeeping times differ between two applies
        "organization": f"SELECT to_jsonb(o) - 'created_at' - 'updated_at' FROM {SCHEMA}.organization o ORDER BY id",
        "assignment": f"SELECT to_jsonb(a) FROM {SCHEMA}.account_manager_assignment a ORDER BY id",
        "audit": f"SELECT to_jsonb(a) FROM {SCHEMA}.audit a ORDER BY id",
    }
    try:
        async with engine.connect() as conn:
            return {k: [r[0] for r in await conn.execute(text(q))] for k, q in queries.items()}
    finally:
        await engine.dispose()


async def test_a_batch_event_applied_at_a_replica_equals_the_per_row_events(
    client: httpx.AsyncClient,
    auth: Any,
    rollback_conn: AsyncConnection,
    make_database: Any,
    settings_for: Any,
    jwks: Any,
) -> None:
    # at the owner: a first import, then a second one changing grade and account manager of some rows
    await post_csv(client, auth("gd-gz"), csv_file(40))
    first = [p for _, p in await batch_events(rollback_conn)]
    await post_csv(client, auth("gd-gz"), csv_file(10, start=35, grade="A", manager="am02"))
    second = [p for _, p in await batch_events(rollback_conn)][len(first) :]
    assert first and second

    batch_url = await _replica(make_database, "test_customer_batch_apply")
    rows_url = await _replica(make_database, "test_customer_row_apply")
    settings = settings_for(batch_url, jwks, node="gd")
    # both imports ran in this test's one transaction, so at one time: the second one's assignments are
    # given a later start, as a later import would have
    second = [_later(p) for p in second]
    # in one batch, the newer import first and the older one after it: newest version wins in both
    await _apply(batch_url, settings, second + first)
    await _apply(rows_url, settings, [e for p in second + first for e in _per_row(p)])
    # and once more: idempotent by event id (the inbox), nothing written twice
    await _apply(batch_url, settings, first + second)

    by_batch, by_row = await _tables(batch_url), await _tables(rows_url)
    assert len(by_batch["customer"]) == 45 and len(by_batch["organization"]) == 45
    assert by_batch == by_row
    versions = {c["customer_code"]: (c["version"], c["grade"], c["account_manager"]) for c in by_batch["customer"]}
    assert versions["KAGDGZBAT000036"] == (2, "A", "am02") and versions["KAGDGZBAT000010"] == (1, "B", "am01")
    open_assignments = [a for a in by_batch["assignment"] if a["valid_to"] is None]
    assert len(open_assignments) == 45  # the changed managers closed the earlier record
    closed = [a for a in by_batch["assignment"] if a["valid_to"] is not None]
    assert len(closed) == 5 and {a["account_manager"] for a in closed} == {"am01"}


@pytest.mark.parametrize("outside", ["KAGDSZBAT000001", "KAHQBAT000001"])
async def test_a_batch_event_creating_a_code_outside_the_origins_namespace_is_refused(
    client: httpx.AsyncClient,
    auth: Any,
    rollback_conn: AsyncConnection,
    make_database: Any,
    settings_for: Any,
    jwks: Any,
    outside: str,
) -> None:
    await post_csv(client, auth("gd-gz"), csv_file(2))
    payload = [p for _, p in await batch_events(rollback_conn)][-1]
    env = envelope_pb2.Envelope.FromString(payload)
    m = customer_pb2.CustomersImported.FromString(env.payload)
    m.customers[0].customer_code = outside
    env.payload = m.SerializeToString()
    url = await _replica(make_database, "test_customer_batch_refused")
    db = create_database(url)
    try:
        consumer = customer_consumer(db, settings_for(url, jwks, node="gd"), nats_url="")
        ev = Event(env, f"up.gd-gz.customer.import_chunk.{env.aggregate_id}", "UP_gd")
        refused = await consumer._apply_batch([ev])
        assert len(refused) == 1 and "code namespace" in refused[0][1]
    finally:
        await db.dispose()
    tables = await _tables(url)
    assert tables["customer"] == [] and tables["organization"] == []
