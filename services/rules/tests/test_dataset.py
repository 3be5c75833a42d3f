"""The rules dataset through the platform's replication consumer (real PostgreSQL, committed batches in
a database of its own): an ancestor's record is accepted from above, a descendant cannot forge one, an
older version never replaces a newer one, every version is kept, the cache drops after the commit, and
a resync request from below republishes the node's own records down."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from kam_contracts import envelope_pb2, rules_pb2
from kam_platform.dataset import dataset_consumers
from kam_platform.ids import uuid7
from kam_platform.outbox import build_event
from kam_platform.replication import Event, ReplicationConsumer
from kam_rules.main import MIGRATIONS
from kam_rules.ruleset.cache import EffectiveCache
from kam_rules.ruleset.handlers import applier

from .conftest import make_settings, sla_params


@pytest.fixture(scope="module")
def ds_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_rules_dataset", [MIGRATIONS])


@pytest.fixture
async def maker(ds_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(ds_url)
    async with engine.begin() as conn:
        for t in ("rule_set", "rule_set_version", "inbox", "dead_letter", "outbox", "audit"):
            await conn.execute(text(f"TRUNCATE rules.{t}"))
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


def _state(rid: uuid.UUID, owner: str, version: int, response_a: int = 30) -> rules_pb2.RuleSetChanged:
    return rules_pb2.RuleSetChanged(
        rule_set=rules_pb2.RuleSetState(
            id=str(rid),
            owner_node=owner,
            version=version,
            kind="sla",
            name="服务时限",
            scope_node=owner,
            valid_from="2026-01-01",
            status="PUBLISHED",
            parameters_json=json.dumps(sla_params(response_a)),
            bounds_json="[]",
            author="a",
            approver="b",
            publisher="a",
        )
    )


def _event(msg: Any, *, origin: str, scope: str | None, stream: str, aggregate: str, agg_id: str) -> Event:
    service = "sync" if aggregate == "resync" else "rules"
    _, subject, _, payload = build_event(
        node=origin,
        service=service,
        aggregate_type=aggregate,
        aggregate_id=agg_id,
        version=1,
        message=msg,
        actor="someone",
        down_scope=scope,
    )
    return Event(envelope_pb2.Envelope.FromString(payload), subject, stream)


def _rule_event(
    rid: uuid.UUID, owner: str, version: int, *, origin: str, scope: str | None, stream: str, response_a: int = 30
) -> Event:
    ev = _event(
        _state(rid, owner, version, response_a),
        origin=origin,
        scope=scope,
        stream=stream,
        aggregate="rule_set",
        agg_id=str(rid),
    )
    ev.envelope.version = version
    return ev


def _consumer(
    maker: async_sessionmaker[AsyncSession], ds_url: str, jwks: dict[str, Any], node: str, cache: EffectiveCache
) -> ReplicationConsumer:
    settings = make_settings(ds_url, jwks, node)
    consumers = dataset_consumers(settings, maker, service="rules", schema="rules", applier=applier(settings, cache))
    down = [c for c in consumers if c.stream.startswith("DOWN_")]
    return down[0] if down else consumers[0]


async def test_ancestor_record_accepted_from_above_forgery_refused(
    maker: async_sessionmaker[AsyncSession], ds_url: str, jwks: dict[str, Any]
) -> None:
    cache = EffectiveCache()
    gd = _consumer(maker, ds_url, jwks, "gd", cache)
    assert gd.stream == "DOWN_gd" and gd.filter_subjects == ["down.*.rules.>", "down.*.sync.>"]
    national, forged_up, forged_down = uuid7(), uuid7(), uuid7()
    events = [
        _rule_event(national, "hq", 3, origin="hq", scope="all", stream="DOWN_gd"),
        # a local network claiming to publish the group's rule, and a sibling province relaying one
        _rule_event(forged_up, "hq", 1, origin="gd-gz", scope=None, stream="DOWN_gd"),
        _rule_event(forged_down, "hq", 1, origin="js", scope="js", stream="DOWN_gd"),
    ]
    generation = cache.generation
    refused = await gd._apply_batch(events)
    assert {e.envelope.aggregate_id for e, _ in refused} == {str(forged_up), str(forged_down)}
    assert cache.generation > generation
    async with maker() as s:
        rows = (await s.execute(text("SELECT id, owner_node, version FROM rules.rule_set"))).all()
        assert [(r[0], r[1], r[2]) for r in rows] == [(national, "hq", 3)]
        dead = (await s.execute(text("SELECT count(*) FROM rules.dead_letter"))).scalar()
        assert dead == 2
    # an older version arriving late never replaces the newer one; every version is kept in history
    await gd._apply_batch([_rule_event(national, "hq", 2, origin="hq", scope="all", stream="DOWN_gd", response_a=99)])
    await gd._apply_batch([_rule_event(national, "hq", 4, origin="hq", scope="all", stream="DOWN_gd", response_a=20)])
    async with maker() as s:
        params, version = (
            await s.execute(text("SELECT parameters, version FROM rules.rule_set WHERE id = :i"), {"i": national})
        ).one()
        assert version == 4 and params["timers"]["A"]["COMPLAINT"]["responseMinutes"] == 20
        versions = (
            (await s.execute(text("SELECT version FROM rules.rule_set_version ORDER BY version"))).scalars().all()
        )
        assert versions == [2, 3, 4]


async def test_group_applies_a_province_refinement_from_below(
    maker: async_sessionmaker[AsyncSession], ds_url: str, jwks: dict[str, Any]
) -> None:
    hq = _consumer(maker, ds_url, jwks, "hq", EffectiveCache())
    assert hq.stream == "UP_ALL"
    refined, forged = uuid7(), uuid7()
    refused = await hq._apply_batch(
        [
            _rule_event(refined, "gd", 1, origin="gd", scope=None, stream="UP_ALL"),
            _rule_event(forged, "js", 1, origin="gd", scope=None, stream="UP_ALL"),  # gd writing js's record
        ]
    )
    assert [e.envelope.aggregate_id for e, _ in refused] == [str(forged)]
    async with maker() as s:
        owners = (await s.execute(text("SELECT owner_node FROM rules.rule_set"))).scalars().all()
        assert owners == ["gd"]


async def test_resync_from_below_republishes_own_records_down(
    maker: async_sessionmaker[AsyncSession], ds_url: str, jwks: dict[str, Any]
) -> None:
    gd = _consumer(maker, ds_url, jwks, "gd", EffectiveCache())
    up_consumer = ReplicationConsumer(
        sessionmaker=maker,
        nats_url="nats://127.0.0.1:1",
        service="rules",
        schema="rules",
        node="gd",
        stream="UP_gd",
        filter_subjects=["up.*.rules.>"],
        apply=gd.apply,
    )
    own, draft = uuid7(), uuid7()
    async with maker() as s, s.begin():
        for rid, status, published in ((own, "PUBLISHED", "now()"), (draft, "DRAFT", "NULL")):
            await s.execute(
                text(
                    "INSERT INTO rules.rule_set (id, owner_node, version, kind, name, scope_node, valid_from, status, "
                    "parameters, bounds, author, created_at, updated_at, published_at) VALUES (:i, 'gd', 2, 'sla', "
                    f"'x', 'gd', :d, :st, '{{}}', '[]', 'a', now(), now(), {published})"
                ),
                {"i": rid, "d": date(2026, 1, 1), "st": status},
            )
    request = envelope_pb2.ResyncRequested(id=str(uuid7()), node="gd-gz", requested_by="ops")
    ev = _event(request, origin="gd-gz", scope=None, stream="UP_gd", aggregate="resync", agg_id=request.id)
    assert await up_consumer._apply_batch([ev]) == []
    async with maker() as s:
        rows = (await s.execute(text("SELECT subject, event_type FROM rules.outbox"))).all()
    assert [tuple(r) for r in rows] == [(f"down.gd.rules.rule_set.{own}", "kam.v1.RuleSetChanged")]


async def test_seed_publishes_national_defaults_once_at_the_root(
    maker: async_sessionmaker[AsyncSession], ds_url: str
) -> None:
    from kam_platform.topology import Topology
    from kam_rules.seed import NATIONAL_DEFAULTS, seed

    from .conftest import DEMO

    topology = Topology.load(DEMO)
    assert await seed(ds_url, "hq", topology) == len(NATIONAL_DEFAULTS)
    assert await seed(ds_url, "hq", topology) == 0
    assert await seed(ds_url, "gd", topology) == 0
    async with maker() as s:
        subjects = (await s.execute(text("SELECT subject FROM rules.outbox"))).scalars().all()
        statuses = (await s.execute(text("SELECT DISTINCT status FROM rules.rule_set"))).scalars().all()
    assert len(subjects) == len(NATIONAL_DEFAULTS) and all(x.startswith("down.all.rules.rule_set.") for x in subjects)
    assert statuses == ["PUBLISHED"]


def test_migrations_match_the_models(ds_url: str) -> None:
    from kam_platform.db.migrate import check

    check(ds_url, MIGRATIONS)  # raises when autogenerate would find a difference
