"""Org records applied at an ancestor (issue 8 §2), with real PostgreSQL and the real migrations: the
consumer's one-transaction batch path (inbox dedupe, the platform's integrity screen, the org applier)
is driven with events as the owner node writes them. Idempotent, newest version wins, forged events
refused with the reason and dead-lettered, replicas hold no password hash and cannot log in, a resync
request makes a node republish its own records.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf.message import Message
from sqlalchemy import select, text

from kam_contracts import customer_pb2, envelope_pb2, org_pb2
from kam_org.auth import service as auth_service
from kam_org.auth.service import LoginFailed
from kam_org.main import MIGRATIONS
from kam_org.models import SCHEMA, Outbox
from kam_org.replication.handlers import OrgApplier
from kam_org.seed import system_caller
from kam_org.staff import service as staff_service
from kam_org.staff.schemas import StaffUpdate
from kam_platform.db import Database, create_database
from kam_platform.errors import NotOwner
from kam_platform.outbox import build_event, ts
from kam_platform.replication import Event, ReplicationConsumer

from .conftest import TOPO, make_staff, settings_for


@dataclass
class Node:
    """A node's org database and its apply consumer for one inbound stream (not connected to NATS:
    batches are handed to it as the stream would deliver them)."""

    code: str
    db: Database
    consumer: ReplicationConsumer

    async def apply(self, *events: Event) -> list[str]:
        """Apply one batch; the reasons of the refused events, in the batch's order."""
        refused = {ev.event_id: reason for ev, reason in await self.consumer._apply_batch(list(events))}
        return [refused[ev.event_id] for ev in events if ev.event_id in refused]

    async def one(self, sql: str, **params: Any) -> Any:
        async with self.db.sessionmaker() as session:
            return (await session.execute(text(sql), params)).first()


async def _node(make_database: Any, nats_url: str, code: str, stream: str) -> Node:
    url = make_database(f"test_org_replication_{code.replace('-', '_')}", [MIGRATIONS])
    settings = settings_for(code, url, nats_url)
    db = create_database(url)
    applier = OrgApplier(settings)
    consumer = ReplicationConsumer(
        sessionmaker=db.sessionmaker,
        nats_url=nats_url,
        service="org",
        schema=SCHEMA,
        node=code,
        stream=stream,
        filter_subjects=["up.*.org.>"],
        apply=applier,
        claims=applier.claims,
        topology=TOPO,
    )
    return Node(code, db, consumer)


@pytest.fixture
async def hq(make_database: Any, nats_url: str) -> AsyncIterator[Node]:
    node = await _node(make_database, nats_url, "hq", "UP_ALL")
    yield node
    await node.db.dispose()


@pytest.fixture
async def gdgz(make_database: Any, nats_url: str) -> AsyncIterator[Node]:
    node = await _node(make_database, nats_url, "gd-gz", "DOWN_gd-gz")
    yield node
    await node.db.dispose()


def event(
    origin: str,
    aggregate_type: str,
    aggregate_id: uuid.UUID | str,
    version: int,
    message: Message,
    *,
    stream: str = "UP_ALL",
    down: str | None = None,
    subject_origin: str | None = None,
) -> Event:
    """An event as `origin`'s outbox writes it (a forger may put another origin in the subject)."""
    _, subject, _, payload = build_event(
        node=origin,
        service="sync" if aggregate_type == "resync" else "org",
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        version=version,
        message=message,
        actor="tester",
        down_scope=down,
    )
    if subject_origin is not None:
        subject = subject.replace(f"up.{origin}.", f"up.{subject_origin}.", 1)
    return Event(envelope_pb2.Envelope.FromString(payload), subject, stream)


def staff(sid: uuid.UUID, owner: str, version: int, name: str, **kw: Any) -> org_pb2.StaffChanged:
    return org_pb2.StaffChanged(
        id=str(sid),
        owner_node=owner,
        version=version,
        username=kw.pop("username", f"u{sid.hex[:8]}"),
        display_name=name,
        roles=kw.pop("roles", ["account_manager"]),
        is_active=True,
        phone="13900000000",
        email="am@example.cn",
        created_at=ts(),
        updated_at=ts(),
        **kw,
    )


async def staff_row(node: Node, sid: uuid.UUID) -> Any:
    return await node.one(
        "SELECT display_name, version, owner_node, password_hash, phone, email, "
        "(SELECT array_agg(r.code ORDER BY r.code) FROM org.staff_role sr JOIN org.role r ON r.id = sr.role_id "
        " WHERE sr.staff_id = s.id) AS roles FROM org.staff s WHERE s.id = :i",
        i=sid,
    )


async def test_staff_of_gd_gz_applies_at_hq_once_with_its_roles_and_no_password(hq: Node) -> None:
    sid = uuid.uuid4()
    ev = event("gd-gz", "staff", sid, 1, staff(sid, "gd-gz", 1, "张三", roles=["account_manager", "ka_dept_manager"]))
    assert await hq.apply(ev) == []
    row = await staff_row(hq, sid)
    assert (row.display_name, row.version, row.owner_node) == ("张三", 1, "gd-gz")
    assert (row.phone, row.email, row.roles) == ("13900000000", "am@example.cn", ["account_manager", "ka_dept_manager"])
    assert row.password_hash is None  # hashes never leave the owner

    # the same event again (a redelivery) and a snapshot of the same version change nothing
    assert await hq.apply(ev) == []
    again = event("gd-gz", "staff", sid, 1, staff(sid, "gd-gz", 1, "快照", roles=[]))
    assert await hq.apply(again) == []
    assert await staff_row(hq, sid) == row
    inbox = await hq.one("SELECT count(*) AS n FROM org.inbox WHERE event_id = ANY(:ids)", ids=[ev.event_id])
    assert inbox.n == 1


async def test_the_newest_version_wins_in_a_batch_and_across_batches(hq: Node) -> None:
    sid = uuid.uuid4()
    batch = [event("gd-gz", "staff", sid, v, staff(sid, "gd-gz", v, f"v{v}")) for v in (2, 4, 3)]
    assert await hq.apply(*batch) == []
    assert (await staff_row(hq, sid)).display_name == "v4"
    assert await hq.apply(event("gd-gz", "staff", sid, 3, staff(sid, "gd-gz", 3, "late v3", roles=[]))) == []
    row = await staff_row(hq, sid)
    assert (row.display_name, row.version, row.roles) == ("v4", 4, ["account_manager"])
    assert await hq.apply(event("gd-gz", "staff", sid, 5, staff(sid, "gd-gz", 5, "v5", roles=[]))) == []
    row = await staff_row(hq, sid)
    assert (row.display_name, row.version, row.roles) == ("v5", 5, None)


async def test_org_units_teams_and_their_deletes_replicate(hq: Node) -> None:
    unit_id, team_id, a, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    unit = org_pb2.OrgUnitChanged(
        id=str(unit_id), owner_node="gd-sz", version=1, code=f"U{unit_id.hex[:6]}", name="大客户部", kind="大客户部"
    )
    team = org_pb2.TeamChanged(
        id=str(team_id),
        owner_node="gd-sz",
        version=1,
        code=f"T{team_id.hex[:6]}",
        name="金融团队",
        kind="行业专家团队",
        org_unit_id=str(unit_id),
        leader_id=str(a),
        member_ids=[str(a), str(b)],
    )
    # the team arrives before its members and its unit: each aggregate applies on its own
    assert await hq.apply(event("gd-sz", "team", team_id, 1, team)) == []
    assert await hq.apply(event("gd-sz", "org_unit", unit_id, 1, unit)) == []
    row = await hq.one(
        "SELECT t.name, t.org_unit_id, t.leader_id, (SELECT count(*) FROM org.team_member m WHERE m.team_id = t.id) AS n "
        "FROM org.team t WHERE t.id = :i",
        i=team_id,
    )
    assert (row.name, row.org_unit_id, row.leader_id, row.n) == ("金融团队", unit_id, a, 2)

    deleted = org_pb2.TeamDeleted(id=str(team_id), owner_node="gd-sz", version=2, code=team.code)
    unit_deleted = org_pb2.OrgUnitDeleted(id=str(unit_id), owner_node="gd-sz", version=2, code=unit.code)
    assert await hq.apply(event("gd-sz", "team", team_id, 2, deleted)) == []
    assert await hq.apply(event("gd-sz", "org_unit", unit_id, 2, unit_deleted)) == []
    assert await hq.one("SELECT 1 FROM org.team WHERE id = :i", i=team_id) is None
    assert await hq.one("SELECT 1 FROM org.team_member WHERE team_id = :i", i=team_id) is None
    assert await hq.one("SELECT 1 FROM org.org_unit WHERE id = :i", i=unit_id) is None


async def test_audit_rows_replicate_as_written(hq: Node) -> None:
    aid, sid = uuid.uuid4(), uuid.uuid4()
    msg = customer_pb2.AuditRecorded(
        id=str(aid),
        owner_node="js-nj",
        entity_type="staff",
        entity_id=str(sid),
        action="update",
        actor="nj-admin",
        at=ts(),
        changes_json='{"display_name": ["a", "b"]}',
        note="备注",
    )
    assert await hq.apply(event("js-nj", "audit", aid, 1, msg)) == []
    row = await hq.one("SELECT owner_node, actor, changes, note FROM org.audit WHERE id = :i", i=aid)
    assert (row.owner_node, row.actor, row.changes, row.note) == (
        "js-nj",
        "nj-admin",
        {"display_name": ["a", "b"]},
        "备注",
    )


async def test_forged_org_events_are_refused_with_the_reason_and_dead_lettered(hq: Node) -> None:
    sid, other, another = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert await hq.apply(event("gd-gz", "staff", sid, 1, staff(sid, "gd-gz", 1, "真"))) == []
    forged = {
        # js-nj writes a record it says gd-gz owns
        "outside": event("js-nj", "staff", other, 1, staff(other, "gd-gz", 1, "x")),
        # js-nj takes over gd-gz's staff member (owner change without a transfer)
        "takeover": event("js-nj", "staff", sid, 2, staff(sid, "js-nj", 2, "伪")),
        # js-nj publishes under gd-gz's subject
        "subject": event("js-nj", "staff", sid, 3, staff(sid, "gd-gz", 3, "伪"), subject_origin="gd-gz"),
        # a staff payload on a team subject
        "type": event("gd-gz", "team", sid, 4, staff(sid, "gd-gz", 4, "伪")),
        # org records never flow down
        "down": event("gd", "staff", sid, 5, staff(sid, "gd", 5, "伪"), stream="DOWN_gd-gz", down="gd"),
        # a child writes a record owned by its ancestor
        "above": event("gd-gz", "staff", another, 1, staff(another, "gd", 1, "x")),
    }
    reasons = await hq.apply(*forged.values())
    assert len(reasons) == len(forged), reasons
    text_of = dict(zip(forged, reasons, strict=True))
    assert "outside origin js-nj's subtree" in text_of["outside"]
    assert "owner of staff" in text_of["takeover"]
    assert "differs from the subject's origin" in text_of["subject"]
    assert "writes staff, but the envelope names a team" in text_of["type"]
    assert "downward event from gd, which is not above hq" in text_of["down"]
    assert "outside origin gd-gz's subtree" in text_of["above"]
    row = await staff_row(hq, sid)
    assert (row.display_name, row.version, row.owner_node) == ("真", 1, "gd-gz")
    dead = await hq.one(
        "SELECT count(*) AS n FROM org.dead_letter WHERE payload = ANY(:p)",
        p=[e.envelope.SerializeToString() for e in forged.values()],
    )
    assert dead.n == len(forged)


async def test_org_records_sent_down_by_an_ancestor_are_refused(gdgz: Node) -> None:
    sid = uuid.uuid4()
    down = event("gd", "staff", sid, 1, staff(sid, "gd", 1, "省公司"), stream="DOWN_gd-gz", down="gd")
    (reason,) = await gdgz.apply(down)
    assert "org records flow up the tree only" in reason
    assert await staff_row(gdgz, sid) is None


async def test_an_unknown_org_event_type_is_refused(hq: Node) -> None:
    role = org_pb2.RoleChanged(code="custom", owner_node="gd-gz", version=1, name_zh="自定义", name_en="custom")
    (reason,) = await hq.apply(event("gd-gz", "role", "custom", 1, role))
    assert "declares no claims here" in reason


async def test_a_replica_cannot_log_in_nor_be_written_at_the_ancestor(hq: Node) -> None:
    sid = uuid.uuid4()
    username = f"am{sid.hex[:6]}"
    assert await hq.apply(event("gd-gz", "staff", sid, 1, staff(sid, "gd-gz", 1, "客户经理", username=username))) == []
    async with hq.db.sessionmaker() as session:
        with pytest.raises(LoginFailed):
            await auth_service.password_grant(
                session, node="hq", topology=TOPO, username=username, password="anything-at-all"
            )
        with pytest.raises(NotOwner) as refused:
            await staff_service.update_staff(
                session,
                caller=system_caller("hq", TOPO),
                staff_id=sid,
                patch=StaffUpdate(display_name="改"),
                present={"display_name"},
            )
        assert refused.value.owner_node == "gd-gz"


async def test_a_resync_request_from_above_republishes_the_nodes_own_records(gdgz: Node) -> None:
    async with gdgz.db.sessionmaker() as session, session.begin():
        own = await make_staff(session, "gd-gz", f"rs{uuid.uuid4().hex[:6]}", ["account_manager"])
    rid = uuid.uuid4()
    request = envelope_pb2.ResyncRequested(id=str(rid), node="gd", requested_by="gd-admin", requested_at=ts())
    resync = event("gd", "resync", rid, 1, request, stream="DOWN_gd-gz", down="gd")
    assert await gdgz.apply(resync) == []
    async with gdgz.db.sessionmaker() as session:
        rows = (
            await session.scalars(select(Outbox).where(Outbox.aggregate_id == str(own.id)).order_by(Outbox.created_at))
        ).all()
    assert [r.subject for r in rows] == [f"up.gd-gz.org.staff.{own.id}"] * 2  # the write, then the snapshot
    env = envelope_pb2.Envelope.FromString(rows[-1].payload)
    assert env.snapshot and env.version == own.version
    assert org_pb2.StaffChanged.FromString(env.payload).roles == ["account_manager"]

    # a forged resync: gd-sz asks on gd's behalf
    forged = envelope_pb2.ResyncRequested(id=str(rid), node="gd", requested_by="x", requested_at=ts())
    (reason,) = await gdgz.apply(event("gd-sz", "resync", uuid.uuid4(), 1, forged, stream="DOWN_gd-gz", down="gd-sz"))
    assert "not above gd-gz" in reason
