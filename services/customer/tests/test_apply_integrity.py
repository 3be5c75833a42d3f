"""The apply path trusts nothing (issue 6, finding 1): through the real consumer (real nats-server,
real PostgreSQL), every record type refuses an owner outside the origin's subtree and an owner change
without a transfer — dead-lettered with the reason, counted on the DLQ stream, the replica unchanged —
while legitimate changes and transfers still apply.

Two receivers: ``hq`` applies upward events (as from UP_ALL), ``gd-gz`` downward ones (as from
DOWN_gd-gz). Each reads its own stream of a nats-server started for this module, so the test can
publish as any node would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats
import pytest
from google.protobuf.message import Message
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kam_contracts import customer_pb2, envelope_pb2
from kam_platform.db import create_database
from kam_platform.ids import uuid7
from kam_platform.outbox import build_event
from kam_platform.replication import ReplicationConsumer
from kam_platform.testing.plugin import wait_for

from .consumers import customer_consumer

UP_STREAM, DOWN_STREAM = "IN_HQ", "IN_GDGZ"


@dataclass
class Receiver:
    node: str
    url: str
    engine: AsyncEngine

    async def row(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).first()

    async def dead(self, payload: bytes, timeout: float = 30) -> str:
        """The dead-letter reason of the event published as `payload` (waits for it)."""
        got = await wait_for(
            lambda: self.row("SELECT error FROM customer.dead_letter WHERE payload = :p", p=payload), timeout=timeout
        )
        return str(got.error)


@dataclass
class World:
    hq: Receiver
    gdgz: Receiver
    js: Any

    async def publish(self, subject: str, payload: bytes) -> None:
        await self.js.publish(subject, payload)

    async def dlq_count(self, node: str) -> int:
        info = await self.js.stream_info("DLQ_TEST", subjects_filter=f"dlq.{node}.customer")
        return int(sum((info.state.subjects or {}).values()))


@pytest.fixture(scope="module")
async def world(private_nats_url: str, make_database: Any, settings_for: Any, jwks: Any) -> AsyncIterator[World]:
    from kam_customer.main import MIGRATIONS

    nc = await nats.connect(private_nats_url)
    js = nc.jetstream()
    await js.add_stream(name=UP_STREAM, subjects=["up.>"])
    await js.add_stream(name=DOWN_STREAM, subjects=["down.>"])
    await js.add_stream(name="DLQ_TEST", subjects=["dlq.>"])
    receivers: dict[str, Receiver] = {}
    consumers: list[ReplicationConsumer] = []
    dbs = []
    for node, stream, filters in (
        (("hq", UP_STREAM, ["up.*.customer.>", "up.*.sync.>"])),
        ("gd-gz", DOWN_STREAM, ["down.*.customer.>", "down.*.sync.>"]),
    ):
        url = make_database(f"test_apply_integrity_{node.replace('-', '_')}", [MIGRATIONS])
        settings = settings_for(url, jwks, node=node, nats_url=private_nats_url)
        db = create_database(url)
        dbs.append(db)
        consumers.append(
            customer_consumer(
                db,
                settings,
                stream=stream,
                filter_subjects=filters,
                nats_url=private_nats_url,
                max_deliver=2,
                backoff=(0.1,),
            )
        )
        receivers[node] = Receiver(node, url, create_async_engine(url))
    tasks = [asyncio.create_task(c.run()) for c in consumers]
    try:
        yield World(receivers["hq"], receivers["gd-gz"], js)
    finally:
        for c in consumers:
            c.stop()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for r in receivers.values():
            await r.engine.dispose()
        for db in dbs:
            await db.dispose()
        await nc.close()


# --- events as each node would write them ---------------------------------------------------------


def event(
    origin: str,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    version: int,
    message: Message,
    *,
    down: str | None = None,
    subject_origin: str | None = None,
) -> tuple[str, bytes]:
    _, subject, _, payload = build_event(
        node=origin,
        service="customer",
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        version=version,
        message=message,
        actor="tester",
        down_scope=down,
    )
    if subject_origin is not None:  # a forger publishing under its own subject, claiming another origin
        subject = subject.replace(f"up.{origin}.", f"up.{subject_origin}.", 1)
    return subject, payload


def customer_state(cid: uuid.UUID, owner: str, version: int, name: str, code: str | None = None) -> Any:
    return customer_pb2.CustomerState(
        id=str(cid),
        owner_node=owner,
        version=version,
        customer_code=code or f"KA{owner.upper().replace('-', '')}{cid.hex[-8:].upper()}",
        name=name,
        customer_type="SINGLE",
        mgmt_level="LOCAL",
        industry="FINANCE",
        grade="B",
        life_status="ACTIVE",
        recog_status="CONFIRMED",
    )


def contact_state(xid: uuid.UUID, cid: uuid.UUID, owner: str, version: int, name: str) -> Any:
    return customer_pb2.ContactState(
        id=str(xid), owner_node=owner, version=version, customer_id=str(cid), full_name=name, phone="13800000000"
    )


def customer_updated(cid: uuid.UUID, owner: str, version: int, name: str, code: str | None = None) -> Message:
    return customer_pb2.CustomerUpdated(customer=customer_state(cid, owner, version, name, code))


def make(kind: str, rid: uuid.UUID, owner: str, version: int, label: str, parent: uuid.UUID) -> tuple[str, Message]:
    """(aggregate type, message) of a change of one record of `kind` as its owner would emit it."""
    if kind == "customer":
        return "customer", customer_updated(rid, owner, version, label)
    if kind == "contact":
        return "contact", customer_pb2.ContactChanged(contact=contact_state(rid, parent, owner, version, label))
    if kind == "organization":
        return "organization", customer_pb2.OrganizationChanged(
            organization=customer_pb2.OrganizationState(id=str(rid), owner_node=owner, version=version, name=label)
        )
    if kind == "assignment":
        return "assignment", customer_pb2.AccountManagerAssigned(
            id=str(rid), owner_node=owner, customer_id=str(parent), account_manager=label, assigned_by="tester"
        )
    if kind == "audit":
        return "audit", customer_pb2.AuditRecorded(
            id=str(rid), owner_node=owner, entity_type="customer", entity_id=str(parent), action=label, actor="t"
        )
    if kind == "designation":
        return "designation", customer_pb2.DesignationChanged(
            designation=customer_pb2.DesignationState(
                id=str(rid),
                owner_node=owner,
                version=version,
                customer_id=str(parent),
                customer_code="KAGDGZ00000001",
                customer_name="客户",
                customer_owner_node="gd-gz",
                grade=label,
                status="ACTIVE",
                designated_by="hq-admin",
            )
        )
    if kind == "designation_response":
        return "designation_response", customer_pb2.DesignationResponseChanged(
            response=customer_pb2.DesignationResponseState(
                id=str(rid),
                owner_node=owner,
                version=version,
                designation_id=str(parent),
                status=label,
                responded_by="t",
            )
        )
    raise AssertionError(kind)


# (table, label column) per record kind, to read the replica back
TABLES = {
    "customer": ("customer", "name"),
    "contact": ("contact", "full_name"),
    "organization": ("organization", "name"),
    "assignment": ("account_manager_assignment", "account_manager"),
    "audit": ("audit", "action"),
    "designation": ("designation", "grade"),
    "designation_response": ("designation_response", "status"),
}
UPWARD = ["customer", "contact", "organization", "assignment", "audit", "designation_response"]


async def label_and_owner(r: Receiver, kind: str, rid: uuid.UUID) -> Any:
    table, col = TABLES[kind]
    return await r.row(f"SELECT {col} AS label, owner_node FROM customer.{table} WHERE id = :i", i=rid)


async def seed(world: World, kind: str, rid: uuid.UUID, parent: uuid.UUID) -> Receiver:
    """A record of js-nj (upward kinds, held at hq) or of hq (designations, held at gd-gz), applied."""
    if kind == "designation":
        agg, msg = make(kind, rid, "hq", 1, "A", parent)
        await world.publish(*event("hq", agg, rid, 1, msg, down="all"))
        receiver = world.gdgz
    else:
        if kind in ("contact", "assignment", "audit"):  # attached to a customer of js-nj
            await world.publish(*event("js-nj", "customer", parent, 1, customer_updated(parent, "js-nj", 1, "南京")))
        agg, msg = make(kind, rid, "js-nj", 1, "ORIGINAL", parent)
        await world.publish(*event("js-nj", agg, rid, 1, msg))
        receiver = world.hq
    await wait_for(lambda: label_and_owner(receiver, kind, rid), timeout=30)
    return receiver


# --- upward: the attack, for every record type -------------------------------------------


@pytest.mark.parametrize("kind", UPWARD)
async def test_owner_outside_the_origins_subtree_is_dead_lettered_and_the_replica_unchanged(
    world: World, kind: str
) -> None:
    rid, parent = uuid7(), uuid7()
    hq = await seed(world, kind, rid, parent)
    before = await label_and_owner(hq, kind, rid)
    dlq_before = await world.dlq_count("hq")
    # gd-gz, on its own subject, claims js-nj's record is js-nj's, at a far newer version
    agg, msg = make(kind, rid, "js-nj", 1_000_001, "FORGED", parent)
    subject, forged = event("gd-gz", agg, rid, 1_000_001, msg)
    await world.publish(subject, forged)
    reason = await hq.dead(forged)
    assert "owner js-nj claimed for" in reason and f"{TABLES[kind][0]} {rid}" in reason, reason
    assert "outside origin gd-gz's subtree" in reason
    assert await label_and_owner(hq, kind, rid) == before
    assert await wait_for(lambda: _grew(world, "hq", dlq_before), timeout=30)


@pytest.mark.parametrize("kind", UPWARD)
async def test_owner_change_without_a_transfer_is_refused(world: World, kind: str) -> None:
    rid, parent = uuid7(), uuid7()
    hq = await seed(world, kind, rid, parent)
    before = await label_and_owner(hq, kind, rid)
    # gd-gz claims the record for itself (an owner in its own subtree, but not the record's owner)
    agg, msg = make(kind, rid, "gd-gz", 1_000_002, "STOLEN", parent)
    subject, forged = event("gd-gz", agg, rid, 1_000_002, msg)
    await world.publish(subject, forged)
    reason = await hq.dead(forged)
    if kind in ("contact", "assignment"):  # it also hangs off js-nj's customer: either refusal is right
        assert "js-nj" in reason and ("without a transfer" in reason or "attaches to customer" in reason), reason
    else:
        assert f"owner of {TABLES[kind][0]} {rid} is js-nj here" in reason and "without a transfer" in reason, reason
    assert await label_and_owner(hq, kind, rid) == before


async def test_envelope_origin_other_than_the_subjects_is_refused(world: World) -> None:
    cid = uuid7()
    await seed(world, "customer", cid, uuid7())
    # gd-gz may only publish under up.gd-gz; it writes js-nj into the envelope
    subject, forged = event(
        "js-nj", "customer", cid, 50, customer_updated(cid, "js-nj", 50, "冒名"), subject_origin="gd-gz"
    )
    await world.publish(subject, forged)
    reason = await world.hq.dead(forged)
    assert "envelope origin js-nj differs from the subject's origin gd-gz" in reason
    assert (await label_and_owner(world.hq, "customer", cid)).label == "ORIGINAL"


async def test_event_type_without_claims_is_refused_not_applied(world: World) -> None:
    rid = uuid7()
    env = envelope_pb2.Envelope(
        event_id=str(uuid7()),
        event_type="kam.v1.SomethingNew",
        origin_node="js-nj",
        service="customer",
        aggregate_type="customer",
        aggregate_id=str(rid),
        version=1,
        payload=customer_updated(rid, "js-nj", 1, "x").SerializeToString(),
    )
    payload = env.SerializeToString()
    await world.publish(f"up.js-nj.customer.customer.{rid}", payload)
    reason = await world.hq.dead(payload)
    assert "kam.v1.SomethingNew declares no claims" in reason


async def test_forged_resync_request_for_another_node_is_refused(world: World) -> None:
    rid = uuid7()
    _, _, _, payload = build_event(
        node="gd-gz",
        service="sync",
        aggregate_type="resync",
        aggregate_id=str(rid),
        version=1,
        message=envelope_pb2.ResyncRequested(id=str(rid), node="js-nj", requested_by="x"),
        actor="x",
    )
    await world.publish(f"up.gd-gz.sync.resync.{rid}", payload)
    assert "a node asks only for itself" in await world.hq.dead(payload)


# --- the exact attack, then the owner's next real update ----------------------------------


async def test_forged_rename_and_move_are_refused_and_the_owners_next_update_still_applies(world: World) -> None:
    cid = uuid7()
    hq = await seed(world, "customer", cid, uuid7())
    code = (await hq.row("SELECT customer_code FROM customer.customer WHERE id = :i", i=cid)).customer_code
    rename = event("gd-gz", "customer", cid, 1_000_001, customer_updated(cid, "js-nj", 1_000_001, "被改名", code))
    move = event("gd-gz", "customer", cid, 1_000_002, customer_updated(cid, "gd-gz", 1_000_002, "被挪走", code))
    for subject, payload in (rename, move):
        await world.publish(subject, payload)
    assert "outside origin gd-gz's subtree" in await hq.dead(rename[1])
    assert "without a transfer from js-nj" in await hq.dead(move[1])
    await world.publish(*event("js-nj", "customer", cid, 2, customer_updated(cid, "js-nj", 2, "南京v2", code)))
    got = await wait_for(
        lambda: hq.row("SELECT name, owner_node, version FROM customer.customer WHERE id = :i AND version = 2", i=cid),
        timeout=30,
    )
    assert (got.name, got.owner_node) == ("南京v2", "js-nj")


# --- transfers ------------------------------------------------------------------------------------


def transfer(cid: uuid.UUID, xid: uuid.UUID, src: str, dst: str, version: int, code: str) -> Message:
    return customer_pb2.CustomerOwnershipTransferred(
        customer=customer_state(cid, dst, version, "转移后", code),
        from_node=src,
        to_node=dst,
        contacts=[contact_state(xid, cid, dst, version, "联系人")],
    )


async def test_legitimate_transfer_moves_the_owner_and_the_new_owner_then_writes(world: World) -> None:
    cid, xid = uuid7(), uuid7()
    hq = await seed(world, "customer", cid, uuid7())
    await world.publish(*event("js-nj", "contact", xid, 1, make("contact", xid, "js-nj", 1, "联系人", cid)[1]))
    await wait_for(lambda: label_and_owner(hq, "contact", xid), timeout=30)
    code = (await hq.row("SELECT customer_code FROM customer.customer WHERE id = :i", i=cid)).customer_code
    await world.publish(*event("js-nj", "customer", cid, 2, transfer(cid, xid, "js-nj", "js", 2, code)))
    # the new owner's first change may ride in the same batch as the transfer
    await world.publish(*event("js", "customer", cid, 3, customer_updated(cid, "js", 3, "江苏接手", code)))
    got = await wait_for(
        lambda: hq.row("SELECT name, owner_node FROM customer.customer WHERE id = :i AND version = 3", i=cid),
        timeout=30,
    )
    assert (got.name, got.owner_node) == ("江苏接手", "js")
    assert (await label_and_owner(hq, "contact", xid)).owner_node == "js"
    # and the old owner can no longer write it
    subject, late = event("js-nj", "customer", cid, 9, customer_updated(cid, "js-nj", 9, "旧主人", code))
    await world.publish(subject, late)
    assert "owner of customer" in await hq.dead(late)


async def test_transfer_not_from_the_current_owner_is_refused(world: World) -> None:
    cid, xid = uuid7(), uuid7()
    hq = await seed(world, "customer", cid, uuid7())
    code = (await hq.row("SELECT customer_code FROM customer.customer WHERE id = :i", i=cid)).customer_code
    # gd-gz "transfers" js-nj's customer to itself, once naming js-nj and once itself as the giver
    a = event("gd-gz", "customer", cid, 5, transfer(cid, xid, "js-nj", "gd-gz", 5, code))
    b = event("gd-gz", "customer", cid, 6, transfer(cid, xid, "gd-gz", "gd-gz", 6, code))
    for subject, payload in (a, b):
        await world.publish(subject, payload)
    assert "transfer of customer" in (ra := await hq.dead(a[1])) and "outside origin gd-gz's subtree" in ra
    assert "but its owner here is js-nj" in await hq.dead(b[1])
    assert (await label_and_owner(hq, "customer", cid)).owner_node == "js-nj"


async def test_transfer_relayed_down_by_the_common_ancestor_reaches_the_new_owner(world: World) -> None:
    cid, xid = uuid7(), uuid7()
    code = f"KAJSNJ{cid.hex[-8:].upper()}"
    await world.publish(*event("hq", "customer", cid, 4, transfer(cid, xid, "js-nj", "gd-gz", 4, code), down="all"))
    got = await wait_for(lambda: label_and_owner(world.gdgz, "customer", cid), timeout=30)
    assert got.owner_node == "gd-gz"
    assert (await label_and_owner(world.gdgz, "contact", xid)).owner_node == "gd-gz"


# --- downward: reference data is owned above ------------------------------------------------------


async def test_designation_from_a_province_claiming_the_group_is_refused(world: World) -> None:
    did, parent = uuid7(), uuid7()
    gdgz = await seed(world, "designation", did, parent)
    before = await label_and_owner(gdgz, "designation", did)
    agg, msg = make("designation", did, "hq", 1_000_001, "C", parent)
    subject, forged = event("gd", agg, did, 1_000_001, msg, down="gd")
    await world.publish(subject, forged)
    assert "owner hq claimed for designation" in (reason := await gdgz.dead(forged))
    assert "outside origin gd's subtree" in reason
    agg, msg = make("designation", did, "gd", 1_000_002, "C", parent)
    subject, stolen = event("gd", agg, did, 1_000_002, msg, down="gd")
    await world.publish(subject, stolen)
    assert f"owner of designation {did} is hq here" in await gdgz.dead(stolen)
    assert await label_and_owner(gdgz, "designation", did) == before


async def test_downward_event_with_a_foreign_publisher_is_refused(world: World) -> None:
    did, parent = uuid7(), uuid7()
    agg, msg = make("designation", did, "hq", 1, "A", parent)
    subject, forged = event("hq", agg, did, 1, msg, down="gd")  # hq's envelope on gd's scope
    await world.publish(subject, forged)
    assert "differs from the publisher of scope 'gd'" in await world.gdgz.dead(forged)
    assert await label_and_owner(world.gdgz, "designation", did) is None


async def _grew(world: World, node: str, before: int) -> bool:
    return await world.dlq_count(node) > before


# --- customer codes (finding 5) -----------------------------------------------------------------


async def test_customer_created_with_a_code_outside_the_origins_namespace_is_refused(world: World) -> None:
    squat, own = uuid7(), uuid7()
    created = customer_pb2.CustomerCreated(customer=customer_state(squat, "gd-gz", 1, "抢注", "KAJSNJ77770001"))
    subject, forged = event("gd-gz", "customer", squat, 1, created)
    await world.publish(subject, forged)
    reason = await world.hq.dead(forged)
    assert "customer code KAJSNJ77770001" in reason and "outside the code namespace of origin gd-gz's subtree" in reason
    assert "lies in js-nj's" in reason
    assert await label_and_owner(world.hq, "customer", squat) is None
    # a province relays its local networks' creations: a code of its subtree is theirs to assign
    mine = customer_pb2.CustomerCreated(customer=customer_state(own, "js-nj", 1, "南京新客户", "KAJSNJ77770002"))
    await world.publish(*event("js-nj", "customer", own, 1, mine))
    assert (await wait_for(lambda: label_and_owner(world.hq, "customer", own), timeout=30)).owner_node == "js-nj"


async def test_code_collision_at_an_ancestor_is_dead_lettered_naming_both_records(world: World, caplog: Any) -> None:
    original, clash = uuid7(), uuid7()
    code = "KAJSNJ88880001"
    created = customer_pb2.CustomerCreated(customer=customer_state(original, "js-nj", 1, "原主", code))
    await world.publish(*event("js-nj", "customer", original, 1, created))
    await wait_for(lambda: label_and_owner(world.hq, "customer", original), timeout=30)
    dlq_before = await world.dlq_count("hq")
    # gd-gz's record carrying js-nj's code (an update, which the namespace check at creation does not see)
    subject, payload = event("gd-gz", "customer", clash, 3, customer_updated(clash, "gd-gz", 3, "撞码", code))
    await world.publish(subject, payload)
    reason = await world.hq.dead(payload)
    assert f"customer_code {code} of customer {clash} (owner gd-gz, from gd-gz)" in reason, reason
    assert f"collides with customer {original} (owner js-nj) held here" in reason
    assert await label_and_owner(world.hq, "customer", clash) is None
    assert (await label_and_owner(world.hq, "customer", original)).label == "原主"
    assert await wait_for(lambda: _grew(world, "hq", dlq_before), timeout=30)
    assert any(
        r.levelname == "ERROR" and f"collides with customer {original}" in r.getMessage() for r in caplog.records
    )


async def test_an_assignment_arriving_after_its_successor_is_closed_where_the_successor_begins(world: World) -> None:
    """Assignments are aggregates of their own: the relay may publish a customer's second assignment
    before its first. The first is then closed at the second's start, as at the owner."""
    from google.protobuf.timestamp_pb2 import Timestamp

    cid, first, second = uuid7(), uuid7(), uuid7()
    await world.publish(*event("js-nj", "customer", cid, 1, customer_updated(cid, "js-nj", 1, "南京乱序")))

    def assigned(aid: uuid.UUID, manager: str, seconds: int) -> Message:
        return customer_pb2.AccountManagerAssigned(
            id=str(aid),
            owner_node="js-nj",
            customer_id=str(cid),
            account_manager=manager,
            assigned_by="tester",
            valid_from=Timestamp(seconds=seconds),
        )

    await world.publish(*event("js-nj", "assignment", second, 1, assigned(second, "am02", 1_800_000_100)))
    await wait_for(lambda: label_and_owner(world.hq, "assignment", second), timeout=30)
    await world.publish(*event("js-nj", "assignment", first, 1, assigned(first, "am01", 1_800_000_000)))
    await wait_for(lambda: label_and_owner(world.hq, "assignment", first), timeout=30)
    sql = "SELECT valid_to FROM customer.account_manager_assignment WHERE id = :i"
    assert (await world.hq.row(sql, i=second)).valid_to is None
    closed = (await world.hq.row(sql, i=first)).valid_to
    assert closed is not None and int(closed.timestamp()) == 1_800_000_100
