"""A resync repairs every divergence of a platform dataset (issue 7), on the rules dataset through the
platform's replication consumer (real PostgreSQL): the owner's snapshot overwrites a replica of the same
version, a live event of that version does not; a province restored from an older backup takes the
group's restore copies of its own rule sets only where newer, its sibling skips them; the group answers
a restore request of a child with its replicas of the child's subtree's rule sets, down."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from kam_contracts import envelope_pb2
from kam_platform.dataset import dataset_consumers
from kam_platform.ids import uuid7
from kam_platform.outbox import build_event, ts
from kam_platform.replication import Event, ReplicationConsumer
from kam_rules.main import MIGRATIONS
from kam_rules.ruleset.cache import EffectiveCache
from kam_rules.ruleset.handlers import applier

from .conftest import make_settings
from .test_dataset import _state


@pytest.fixture(scope="module")
def ds_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_rules_dataset_resync", [MIGRATIONS])


@pytest.fixture
async def maker(ds_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(ds_url)
    async with engine.begin() as conn:
        for t in ("rule_set", "rule_set_version", "inbox", "dead_letter", "outbox", "audit"):
            await conn.execute(text(f"TRUNCATE rules.{t}"))
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


def consumer(
    maker: async_sessionmaker[AsyncSession], ds_url: str, jwks: dict[str, Any], node: str, stream: str
) -> ReplicationConsumer:
    settings = make_settings(ds_url, jwks, node)
    consumers = dataset_consumers(
        settings, maker, service="rules", schema="rules", applier=applier(settings, EffectiveCache())
    )
    (found,) = [c for c in consumers if c.stream == stream]
    return found


def rule(
    rid: uuid.UUID,
    owner: str,
    version: int,
    *,
    origin: str,
    scope: str | None,
    stream: str,
    response_a: int = 30,
    snapshot: bool = False,
    restore: bool = False,
) -> Event:
    _, subject, _, payload = build_event(
        node=origin,
        service="rules",
        aggregate_type="rule_set",
        aggregate_id=str(rid),
        version=version,
        message=_state(rid, owner, version, response_a),
        actor="someone",
        snapshot=snapshot,
        restore=restore,
        down_scope=scope,
    )
    return Event(envelope_pb2.Envelope.FromString(payload), subject, stream)


async def one(maker: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> Any:
    async with maker() as s:
        return (await s.execute(text(sql), params)).first()


async def response_minutes(maker: async_sessionmaker[AsyncSession], rid: uuid.UUID) -> Any:
    got = await one(maker, "SELECT version, parameters FROM rules.rule_set WHERE id = :i", i=rid)
    return None if got is None else (got.version, got.parameters["timers"]["A"]["COMPLAINT"]["responseMinutes"])


async def test_an_owner_snapshot_overwrites_an_equal_version_a_live_event_does_not(
    maker: async_sessionmaker[AsyncSession], ds_url: str, jwks: dict[str, Any]
) -> None:
    gd = consumer(maker, ds_url, jwks, "gd", "DOWN_gd")
    rid = uuid7()
    assert await gd._apply_batch([rule(rid, "hq", 3, origin="hq", scope="all", stream="DOWN_gd")]) == []
    async with maker() as s, s.begin():  # the replica diverges at the same version
        await s.execute(
            text(
                "UPDATE rules.rule_set SET parameters = jsonb_set(parameters, '{timers,A,COMPLAINT,responseMinutes}', '999')"
            )
        )
    assert await response_minutes(maker, rid) == (3, 999)
    live = rule(rid, "hq", 3, origin="hq", scope="all", stream="DOWN_gd")
    assert await gd._apply_batch([live]) == []
    assert await response_minutes(maker, rid) == (3, 999)  # newest version wins: equal is not newer
    snap = rule(rid, "hq", 3, origin="hq", scope="all", stream="DOWN_gd", snapshot=True)
    assert await gd._apply_batch([snap]) == []
    assert await response_minutes(maker, rid) == (3, 30)  # the owner's snapshot is authoritative
    older = rule(rid, "hq", 2, origin="hq", scope="all", stream="DOWN_gd", snapshot=True, response_a=5)
    assert await gd._apply_batch([older]) == []
    assert await response_minutes(maker, rid) == (3, 30)


async def test_restore_copies_apply_at_the_restored_province_only_where_newer(
    maker: async_sessionmaker[AsyncSession], ds_url: str, jwks: dict[str, Any]
) -> None:
    gd = consumer(maker, ds_url, jwks, "gd", "DOWN_gd")
    rid = uuid7()
    # gd as restored from an older backup: its own refinement at version 1
    async with maker() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO rules.rule_set (id, owner_node, version, kind, name, scope_node, valid_from, status, "
                "parameters, bounds, author, created_at, updated_at) VALUES (:i, 'gd', 1, 'sla', '旧', 'gd', "
                '\'2026-01-01\', \'PUBLISHED\', \'{"timers": {"A": {"COMPLAINT": {"responseMinutes": 60}}}}\', '
                "'[]', 'a', now(), now())"
            ),
            {"i": rid},
        )
    copy = rule(rid, "gd", 4, origin="hq", scope="all", stream="DOWN_gd", restore=True, response_a=15)
    assert await gd._apply_batch([copy]) == []
    assert await response_minutes(maker, rid) == (4, 15)
    same = rule(rid, "gd", 4, origin="hq", scope="all", stream="DOWN_gd", restore=True, response_a=1)
    assert await gd._apply_batch([same]) == []  # a restore copy is not authoritative: equal is not newer
    assert await response_minutes(maker, rid) == (4, 15)

    # the sibling province hears the same copy on the group's downward stream: skipped, not refused
    js = consumer(maker, ds_url, jwks, "js", "DOWN_js")
    other = uuid7()
    sibling = rule(other, "gd", 2, origin="hq", scope="all", stream="DOWN_js", restore=True)
    assert await js._apply_batch([sibling]) == []
    assert await response_minutes(maker, other) is None
    assert (await one(maker, "SELECT count(*) AS n FROM rules.dead_letter")).n == 0

    # without the restore marker, a record of gd sent down by hq is a forgery
    forged = rule(other, "gd", 2, origin="hq", scope="all", stream="DOWN_gd", snapshot=True)
    (refused,) = await gd._apply_batch([forged])
    assert "only the owner publishes" in refused[1]


async def test_the_group_answers_a_restore_request_with_its_replicas_of_the_subtree(
    maker: async_sessionmaker[AsyncSession], ds_url: str, jwks: dict[str, Any]
) -> None:
    hq = consumer(maker, ds_url, jwks, "hq", "UP_ALL")
    gds, jss = uuid7(), uuid7()
    assert await hq._apply_batch([rule(gds, "gd", 5, origin="gd", scope=None, stream="UP_ALL")]) == []
    assert await hq._apply_batch([rule(jss, "js", 2, origin="js", scope=None, stream="UP_ALL")]) == []
    async with maker() as s, s.begin():  # published (drafts never leave their node)
        await s.execute(text("UPDATE rules.rule_set SET published_at = now() WHERE id = ANY(:a)"), {"a": [gds, jss]})
    rid = uuid7()
    request = envelope_pb2.ResyncRequested(id=str(rid), node="gd", requested_by="gd-admin", requested_at=ts())
    request.restore = True
    _, subject, _, payload = build_event(
        node="gd",
        service="sync",
        aggregate_type="resync",
        aggregate_id=str(rid),
        version=1,
        message=request,
        actor="gd-admin",
    )
    assert await hq._apply_batch([Event(envelope_pb2.Envelope.FromString(payload), subject, "UP_ALL")]) == []
    async with maker() as s:
        rows = (
            await s.execute(
                text("SELECT subject, payload FROM rules.outbox WHERE aggregate_id = ANY(:a)"),
                {"a": [str(gds), str(jss)]},
            )
        ).all()
    assert [r.subject for r in rows] == [f"down.all.rules.rule_set.{gds}"]  # gd's subtree only
    env = envelope_pb2.Envelope.FromString(rows[0].payload)
    assert (env.restore, env.snapshot, env.version, env.origin_node) == (True, True, 5, "hq")
