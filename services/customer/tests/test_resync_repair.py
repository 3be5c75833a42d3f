"""A resync repairs every divergence of customer records (issue 7), with real PostgreSQL and the real
migrations, through the consumer's one-transaction batch path (inbox, the platform's `Screen`, the
customer applier): the owner's snapshot overwrites a replica of the same version, a live event of that
version does not; an F1 record (a platform dataset) the same; a restored node takes its parent's
restore copies only where newer, a sibling skips them; the parent answers a restore request with its
replicas of the requester's subtree.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf.message import Message
from sqlalchemy import select, text

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.models import Outbox
from kam_platform.db import Database, create_database
from kam_platform.ids import uuid7
from kam_platform.outbox import build_event, ts
from kam_platform.replication import Event, ReplicationConsumer

from .consumers import customer_consumer


@dataclass
class Node:
    code: str
    db: Database
    consumer: ReplicationConsumer

    async def apply(self, *events: Event) -> list[str]:
        """One batch; the reasons of the refused events."""
        return [reason for _, reason in await self.consumer._apply_batch(list(events))]

    async def one(self, sql: str, **params: Any) -> Any:
        async with self.db.sessionmaker() as session:
            return (await session.execute(text(sql), params)).first()

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.db.sessionmaker() as session, session.begin():
            await session.execute(text(sql), params)


async def _node(make_database: Any, settings_for: Any, jwks: Any, code: str, stream: str) -> AsyncIterator[Node]:
    from kam_customer.main import MIGRATIONS

    url = make_database(f"test_resync_repair_{code.replace('-', '_')}", [MIGRATIONS])
    db = create_database(url)
    consumer = customer_consumer(
        db,
        settings_for(url, jwks, node=code),
        stream=stream,
        filter_subjects=["up.*.customer.>", "down.*.customer.>"],
        nats_url="nats://127.0.0.1:1",  # never connected: batches are handed to it
    )
    yield Node(code, db, consumer)
    await db.dispose()


@pytest.fixture
async def hq(make_database: Any, settings_for: Any, jwks: Any) -> AsyncIterator[Node]:
    async for n in _node(make_database, settings_for, jwks, "hq", "UP_ALL"):
        yield n


@pytest.fixture
async def gd(make_database: Any, settings_for: Any, jwks: Any) -> AsyncIterator[Node]:
    async for n in _node(make_database, settings_for, jwks, "gd", "UP_gd"):
        yield n


@pytest.fixture
async def gdgz(make_database: Any, settings_for: Any, jwks: Any) -> AsyncIterator[Node]:
    async for n in _node(make_database, settings_for, jwks, "gd-gz", "DOWN_gd-gz"):
        yield n


@pytest.fixture
async def gdsz(make_database: Any, settings_for: Any, jwks: Any) -> AsyncIterator[Node]:
    async for n in _node(make_database, settings_for, jwks, "gd-sz", "DOWN_gd-sz"):
        yield n


def ev(
    origin: str,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    version: int,
    message: Message,
    *,
    stream: str,
    snapshot: bool = False,
    restore: bool = False,
    down: str | None = None,
    service: str = "customer",
) -> Event:
    _, subject, _, payload = build_event(
        node=origin,
        service=service,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        version=version,
        message=message,
        actor="tester",
        snapshot=snapshot,
        restore=restore,
        down_scope=down if down else (origin if restore else None),
    )
    return Event(envelope_pb2.Envelope.FromString(payload), subject, stream)


def updated(cid: uuid.UUID, owner: str, version: int, name: str) -> customer_pb2.CustomerUpdated:
    return customer_pb2.CustomerUpdated(
        customer=customer_pb2.CustomerState(
            id=str(cid),
            owner_node=owner,
            version=version,
            customer_code=f"KA{owner.upper().replace('-', '')}{cid.hex[-8:].upper()}",
            name=name,
            customer_type="SINGLE",
            mgmt_level="LOCAL",
            industry="FINANCE",
            grade="B",
            life_status="ACTIVE",
            recog_status="CONFIRMED",
        )
    )


async def customer(node: Node, cid: uuid.UUID) -> Any:
    return await node.one("SELECT name, version, owner_node, deleted_at FROM customer.customer WHERE id = :i", i=cid)


async def test_an_owner_snapshot_overwrites_an_equal_version_a_live_event_does_not(hq: Node) -> None:
    cid = uuid7()
    assert await hq.apply(ev("gd-gz", "customer", cid, 3, updated(cid, "gd-gz", 3, "广州银行"), stream="UP_ALL")) == []
    await hq.execute("UPDATE customer.customer SET name = '被改坏' WHERE id = :i", i=cid)  # same version

    live = ev("gd-gz", "customer", cid, 3, updated(cid, "gd-gz", 3, "广州银行"), stream="UP_ALL")
    assert await hq.apply(live) == []
    assert (await customer(hq, cid)).name == "被改坏"  # a live event: newest version wins, equal is not newer

    snap = ev("gd-gz", "customer", cid, 3, updated(cid, "gd-gz", 3, "广州银行"), stream="UP_ALL", snapshot=True)
    assert await hq.apply(snap) == []
    got = await customer(hq, cid)
    assert (got.name, got.version) == ("广州银行", 3)  # the owner's snapshot is authoritative

    older = ev("gd-gz", "customer", cid, 2, updated(cid, "gd-gz", 2, "旧名"), stream="UP_ALL", snapshot=True)
    assert await hq.apply(older) == []
    assert (await customer(hq, cid)).name == "广州银行"

    # a deletion snapshot of the same version deletes a replica that still shows the record live
    gone = customer_pb2.CustomerDeleted(id=str(cid), owner_node="gd-gz", version=3, customer_code="x")
    assert await hq.apply(ev("gd-gz", "customer", cid, 3, gone, stream="UP_ALL")) == []
    assert (await customer(hq, cid)).deleted_at is None  # live, equal version: not applied
    assert await hq.apply(ev("gd-gz", "customer", cid, 3, gone, stream="UP_ALL", snapshot=True)) == []
    assert (await customer(hq, cid)).deleted_at is not None


async def test_a_designation_snapshot_from_the_group_repairs_an_equal_version(gdgz: Node) -> None:
    did = uuid7()

    def designation(grade: str, *, snapshot: bool) -> Event:
        state = customer_pb2.DesignationState(
            id=str(did),
            owner_node="hq",
            version=2,
            customer_id=str(uuid7()),
            customer_code="KAX1",
            customer_name="工行广州",
            customer_owner_node="gd-gz",
            grade=grade,
            status="ACTIVE",
            designated_by="hq-admin",
            updated_at=ts(),
        )
        msg = customer_pb2.DesignationChanged(designation=state)
        return ev("hq", "designation", did, 2, msg, stream="DOWN_gd-gz", down="all", snapshot=snapshot)

    assert await gdgz.apply(designation("A", snapshot=False)) == []
    await gdgz.execute("UPDATE customer.designation SET grade = 'C' WHERE id = :i", i=did)
    assert await gdgz.apply(designation("A", snapshot=False)) == []
    assert (await gdgz.one("SELECT grade FROM customer.designation WHERE id = :i", i=did)).grade == "C"
    assert await gdgz.apply(designation("A", snapshot=True)) == []
    assert (await gdgz.one("SELECT grade FROM customer.designation WHERE id = :i", i=did)).grade == "A"


async def test_restore_copies_apply_at_the_restored_node_only_where_newer(gdgz: Node, gdsz: Node) -> None:
    cid, lost = uuid7(), uuid7()
    # gd-gz as restored from an older backup: its own customer at version 2
    code = f"KAGDGZ{cid.hex[-8:].upper()}"
    await gdgz.execute(
        "INSERT INTO customer.customer (id, owner_node, version, customer_code, name, customer_type, mgmt_level, "
        "industry, grade, life_status, recog_status) VALUES (:i, 'gd-gz', 2, :c, '备份里的名字', 'SINGLE', 'LOCAL', "
        "'FINANCE', 'B', 'ACTIVE', 'CONFIRMED')",
        i=cid,
        c=code,
    )

    def copy(record: uuid.UUID, version: int, name: str, stream: str = "DOWN_gd-gz") -> Event:
        return ev(
            "gd", "customer", record, version, updated(record, "gd-gz", version, name), stream=stream, restore=True
        )

    assert await gdgz.apply(copy(cid, 4, "最新的名字"), copy(lost, 1, "备份后新建")) == []
    got = await customer(gdgz, cid)
    assert (got.name, got.version, got.owner_node) == ("最新的名字", 4, "gd-gz")
    assert (await customer(gdgz, lost)).owner_node == "gd-gz"  # created after the backup, back again

    assert await gdgz.apply(copy(cid, 4, "同版本")) == []  # equal: a restore copy is not authoritative
    assert await gdgz.apply(copy(cid, 3, "更旧")) == []
    assert (await customer(gdgz, cid)).name == "最新的名字"

    # the sibling hears the same copies on gd's downward stream: skipped, neither applied nor refused
    assert await gdsz.apply(copy(cid, 4, "最新的名字", stream="DOWN_gd-sz")) == []
    assert await customer(gdsz, cid) is None
    assert (await gdsz.one("SELECT count(*) AS n FROM customer.dead_letter")).n == 0


async def test_a_restore_request_makes_the_parent_send_its_replicas_of_the_subtree_down(gd: Node) -> None:
    mine, sibling = uuid7(), uuid7()
    assert await gd.apply(ev("gd-gz", "customer", mine, 5, updated(mine, "gd-gz", 5, "广州"), stream="UP_gd")) == []
    assert (
        await gd.apply(ev("gd-sz", "customer", sibling, 2, updated(sibling, "gd-sz", 2, "深圳"), stream="UP_gd")) == []
    )
    rid = uuid7()
    request = envelope_pb2.ResyncRequested(id=str(rid), node="gd-gz", requested_by="admin", requested_at=ts())
    request.restore = True
    assert await gd.apply(ev("gd-gz", "resync", rid, 1, request, stream="UP_gd", service="sync")) == []
    async with gd.db.sessionmaker() as session:
        rows = (await session.scalars(select(Outbox).where(Outbox.aggregate_id.in_([str(mine), str(sibling)])))).all()
    assert [r.subject for r in rows] == [f"down.gd.customer.customer.{mine}"]
    env = envelope_pb2.Envelope.FromString(rows[0].payload)
    assert (env.restore, env.snapshot, env.version, env.origin_node) == (True, True, 5, "gd")

    # a plain request (no restore) sends none of them down
    rid2 = uuid7()
    plain = envelope_pb2.ResyncRequested(id=str(rid2), node="gd-gz", requested_by="admin", requested_at=ts())
    assert await gd.apply(ev("gd-gz", "resync", rid2, 1, plain, stream="UP_gd", service="sync")) == []
    async with gd.db.sessionmaker() as session:
        again = (await session.scalars(select(Outbox).where(Outbox.aggregate_id == str(mine)))).all()
    assert len(again) == 1
