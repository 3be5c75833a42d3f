"""A resync repairs every divergence of org records (issue 7), with real PostgreSQL and the real
migrations, through the consumer's one-transaction batch path: the owner's snapshot overwrites a
replica of the same version (a live event of that version does not); a node restored from an older
backup gets its records back from its parent as restore copies, applied only where newer and only
within the receiving node's subtree (a sibling skips them, neither applying nor refusing them); the
requester answers its own resync request.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, text

from kam_contracts import envelope_pb2, org_pb2
from kam_org.models import Outbox
from kam_platform.outbox import build_event, ts
from kam_platform.replication import Event

from .conftest import make_staff
from .test_org_replication import Node, _node, event, staff, staff_row


@pytest.fixture
async def hq(make_database: Any, nats_url: str) -> AsyncIterator[Node]:
    node = await _node(make_database, nats_url, "hq", "UP_ALL")
    yield node
    await node.db.dispose()


@pytest.fixture
async def gd(make_database: Any, nats_url: str) -> AsyncIterator[Node]:
    node = await _node(make_database, nats_url, "gd", "UP_gd")
    yield node
    await node.db.dispose()


@pytest.fixture
async def gdgz(make_database: Any, nats_url: str) -> AsyncIterator[Node]:
    node = await _node(make_database, nats_url, "gd-gz", "DOWN_gd-gz")
    yield node
    await node.db.dispose()


@pytest.fixture
async def gdsz(make_database: Any, nats_url: str) -> AsyncIterator[Node]:
    node = await _node(make_database, nats_url, "gd-sz", "DOWN_gd-sz")
    yield node
    await node.db.dispose()


def snapshot(origin: str, sid: uuid.UUID, version: int, name: str, **kw: Any) -> Event:
    """The owner's resync snapshot of a staff record (``snapshot=true``)."""
    _, subject, _, payload = build_event(
        node=origin,
        service="org",
        aggregate_type="staff",
        aggregate_id=str(sid),
        version=version,
        message=staff(sid, origin, version, name, **kw),
        actor="system:resync",
        snapshot=True,
    )
    return Event(envelope_pb2.Envelope.FromString(payload), subject, kw.get("stream", "UP_ALL"))


def restore_copy(parent: str, owner: str, sid: uuid.UUID, version: int, name: str, *, stream: str) -> Event:
    """`parent`'s replica of `owner`'s staff record, sent down as a restore copy."""
    _, subject, _, payload = build_event(
        node=parent,
        service="org",
        aggregate_type="staff",
        aggregate_id=str(sid),
        version=version,
        message=staff(sid, owner, version, name, username=f"u{sid.hex[:8]}"),
        actor="system:resync",
        down_scope=parent,
        restore=True,
    )
    return Event(envelope_pb2.Envelope.FromString(payload), subject, stream)


async def test_an_owner_snapshot_overwrites_an_equal_version_a_live_event_does_not(hq: Node) -> None:
    sid = uuid.uuid4()
    assert await hq.apply(event("gd-gz", "staff", sid, 2, staff(sid, "gd-gz", 2, "原名", username="eqv"))) == []
    async with hq.db.sessionmaker() as session, session.begin():  # the replica diverges at the same version
        await session.execute(text("UPDATE org.staff SET display_name = '坏了' WHERE id = :i"), {"i": sid})

    live = event("gd-gz", "staff", sid, 2, staff(sid, "gd-gz", 2, "原名", username="eqv"))
    assert await hq.apply(live) == []
    assert (await staff_row(hq, sid)).display_name == "坏了"  # newest version wins: equal is not newer

    assert await hq.apply(snapshot("gd-gz", sid, 2, "原名", username="eqv")) == []
    got = await staff_row(hq, sid)
    assert (got.display_name, got.version) == ("原名", 2)  # the owner's snapshot is authoritative

    assert await hq.apply(snapshot("gd-gz", sid, 1, "更旧", username="eqv")) == []
    assert (await staff_row(hq, sid)).display_name == "原名"  # an older snapshot never replaces


async def test_restore_copies_apply_at_the_restored_node_only_where_newer(gdgz: Node, gdsz: Node) -> None:
    async with gdgz.db.sessionmaker() as session, session.begin():
        own = await make_staff(session, "gd-gz", f"rb{uuid.uuid4().hex[:6]}", ["account_manager"])
    sid = own.id
    username = own.username
    hash_before = (await staff_row(gdgz, sid)).password_hash
    lost = uuid.uuid4()  # created at gd-gz after the backup it was restored from: only gd still holds it

    def copy(version: int, name: str, record: uuid.UUID = sid, stream: str = "DOWN_gd-gz") -> Event:
        ev = restore_copy("gd", "gd-gz", record, version, name, stream=stream)
        msg = org_pb2.StaffChanged.FromString(ev.envelope.payload)
        if record == sid:
            msg.username = username
        ev.envelope.payload = msg.SerializeToString()
        return Event(ev.envelope, ev.subject, ev.stream)

    assert await gdgz.apply(copy(own.version + 3, "新名字"), copy(1, "丢失的人", lost)) == []
    got = await staff_row(gdgz, sid)
    assert (got.display_name, got.version, got.owner_node) == ("新名字", own.version + 3, "gd-gz")
    assert got.password_hash == hash_before  # a replica's copy carries no hash; the owner keeps its own
    assert (await staff_row(gdgz, lost)).display_name == "丢失的人"

    assert await gdgz.apply(copy(own.version + 3, "同版本")) == []  # equal: not newer, not applied
    assert await gdgz.apply(copy(own.version + 1, "更旧")) == []
    assert (await staff_row(gdgz, sid)).display_name == "新名字"

    # the sibling hears the same copies on gd's downward stream: skipped, neither applied nor refused
    assert await gdsz.apply(copy(own.version + 3, "新名字", stream="DOWN_gd-sz")) == []
    assert await staff_row(gdsz, sid) is None
    dead = await gdsz.one("SELECT count(*) AS n FROM org.dead_letter WHERE subject LIKE :s", s=f"%{sid}")
    assert dead.n == 0


async def test_a_restore_copy_is_accepted_only_from_above(gd: Node) -> None:
    sid = uuid.uuid4()
    forged = build_event(
        node="gd-gz",
        service="org",
        aggregate_type="staff",
        aggregate_id=str(sid),
        version=1,
        message=staff(sid, "gd-gz", 1, "伪造"),
        actor="x",
        restore=True,
    )
    ev = Event(envelope_pb2.Envelope.FromString(forged[3]), forged[1], "UP_gd")
    assert ev.subject.startswith("up.gd-gz.")
    (reason,) = await gd.apply(ev)
    assert "not a downward snapshot" in reason
    assert await staff_row(gd, sid) is None


async def test_a_restore_request_makes_the_parent_send_its_replicas_of_the_subtree_down(gd: Node) -> None:
    sid, other = uuid.uuid4(), uuid.uuid4()
    assert await gd.apply(event("gd-gz", "staff", sid, 5, staff(sid, "gd-gz", 5, "广州"), stream="UP_gd")) == []
    assert await gd.apply(event("gd-sz", "staff", other, 2, staff(other, "gd-sz", 2, "深圳"), stream="UP_gd")) == []
    rid = uuid.uuid4()
    request = envelope_pb2.ResyncRequested(
        id=str(rid), node="gd-gz", requested_by="gdgz-admin", requested_at=ts(), restore=True
    )
    assert await gd.apply(event("gd-gz", "resync", rid, 1, request, stream="UP_gd")) == []
    async with gd.db.sessionmaker() as session:
        rows = (await session.scalars(select(Outbox).where(Outbox.aggregate_id.in_([str(sid), str(other)])))).all()
    assert [r.subject for r in rows] == [f"down.gd.org.staff.{sid}"]  # gd-gz's subtree only, not gd-sz's
    env = envelope_pb2.Envelope.FromString(rows[0].payload)
    assert (env.restore, env.snapshot, env.version, env.origin_node) == (True, True, 5, "gd")


async def test_the_requester_republishes_its_own_records_for_its_own_request(gdgz: Node) -> None:
    async with gdgz.db.sessionmaker() as session, session.begin():
        own = await make_staff(session, "gd-gz", f"rq{uuid.uuid4().hex[:6]}", ["account_manager"])
    rid = uuid.uuid4()
    request = envelope_pb2.ResyncRequested(id=str(rid), node="gd-gz", requested_by="gdgz-admin", requested_at=ts())
    # its own request, as its downward stream captures it (down.gd-gz.sync…): not skipped as "our own"
    own_request = event("gd-gz", "resync", rid, 1, request, stream="DOWN_gd-gz", down="gd-gz")
    async with gdgz.db.sessionmaker() as session:
        before = len((await session.scalars(select(Outbox).where(Outbox.aggregate_id == str(own.id)))).all())
    assert gdgz.consumer._own_resync(own_request.envelope, own_request.subject)
    assert not gdgz.consumer._own_resync(own_request.envelope, f"down.gd-gz.org.staff.{own.id}")
    assert await gdgz.apply(own_request) == []
    async with gdgz.db.sessionmaker() as session:
        rows = (
            await session.scalars(select(Outbox).where(Outbox.aggregate_id == str(own.id)).order_by(Outbox.created_at))
        ).all()
    assert len(rows) == before + 1
    env = envelope_pb2.Envelope.FromString(rows[-1].payload)
    assert rows[-1].subject == f"up.gd-gz.org.staff.{own.id}" and env.snapshot and not env.restore
