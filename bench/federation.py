"""KAM federation benchmarks (issue: sync), each against a ceiling measured in the same run.

(e) local→group end-to-end lag: customer changes committed at `gd-gz` (customer row + outbox event in
    one transaction, as the service writes them) at a sustained rate for a duration; lag = when the
    group's apply committed the event (hq inbox `applied_at`) minus when it was written (the UUIDv7
    timestamp of its event id). p50/p95/p99.
(f) catch-up: the province's nats-server is stopped while `gd-gz` writes a backlog of N events, then
    restarted; time from restart until the province applied all of them, apply rate, and the ceiling:
    a bare JetStream pull + set-based PostgreSQL upsert (COPY into a staging table, one INSERT … SELECT
    … ON CONFLICT … WHERE version < per batch) of the same events in the same run (no service).
(g) import: N customers imported from CSV at gd-gz (CustomersImported batch events) until hq holds all
    of them; goal: at hq within 120 s (at 1M).

Runs a real three-node federation (hq → gd → gd-gz; one process per node) with the same code as `kam up`.
Usage: uv run python bench/federation.py [--rate 1000] [--duration 60] [--backlog 100000]
Results: bench/results/federation-<timestamp>.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import nats

from kam_cli.runtime import Federation
from kam_contracts import customer_pb2, envelope_pb2
from kam_platform.outbox import build_event, channel

ROOT = Path(__file__).resolve().parents[1]
TRIO = ROOT / "deploy" / "topologies" / "trio.yaml"
RESULTS = ROOT / "bench" / "results"
# What the catch-up and the import run (f and g) ran with (result keys f_catchup.apply_code and
# g_import.apply_code; the report groups runs by it). Files before issue 13's consumer change have none:
# one multi-filter durable per stream, the hub queueing event by event, analyze on traffic.
# "…; import records from the payload, analyze beside the apply": the code of 4 December, before the
# assignments were applied by their batch's records (not a scan of the open ones); "…, upserts without
# RETURNING" (federation-20261208T001524Z): before an assignment applied after a later one was closed;
# "…; a late assignment closed by the held later one": before the screen's claims were named tuples.
APPLY_CODE = (
    "single-filter durables, batched hub, analyze on growth; import records from the payload, analyze beside the apply"
    "; assignments by the batch's records, upserts without RETURNING; a late assignment closed by the held later one"
    "; claims as named tuples"
)


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def uuid7_ms(u: uuid.UUID) -> int:
    return u.int >> 80


CEILING_COLS = [
    "id",
    "owner_node",
    "version",
    "customer_code",
    "name",
    "customer_type",
    "mgmt_level",
    "industry",
    "grade",
    "life_status",
    "recog_status",
    "created_at",
    "updated_at",
]
CEILING_SET = ", ".join(f"{c} = EXCLUDED.{c}" for c in CEILING_COLS[1:])
CEILING_SQL = (
    f"INSERT INTO public.bench_ceiling ({', '.join(CEILING_COLS)}) "
    f"SELECT {', '.join(CEILING_COLS)} FROM bench_stage ON CONFLICT (id) DO UPDATE SET {CEILING_SET} "
    "WHERE bench_ceiling.version < EXCLUDED.version"
)


async def ceiling_table(conn: asyncpg.Connection) -> None:
    """A table shaped and indexed like the customer table, for the raw-upsert ceiling, and the staging
    table its batches are copied into."""
    await conn.execute("DROP TABLE IF EXISTS public.bench_ceiling")
    await conn.execute("CREATE TABLE public.bench_ceiling (LIKE customer.customer INCLUDING ALL)")
    await conn.execute("DROP TABLE IF EXISTS bench_stage")
    cols = ", ".join(CEILING_COLS)
    await conn.execute(f"CREATE TEMP TABLE bench_stage AS SELECT {cols} FROM public.bench_ceiling WITH NO DATA")


async def ceiling_upsert(conn: asyncpg.Connection, payloads: list[bytes]) -> None:
    """Decode a batch of envelopes and upsert the newest state per customer by version, set-based: COPY
    into a staging table, one INSERT … SELECT … ON CONFLICT … WHERE version < per batch. Raw asyncpg,
    no inbox, no service code — the physical ceiling of applying these events."""
    now = datetime.now(UTC)
    rows: dict[str, tuple[Any, ...]] = {}
    for data in payloads:
        env = envelope_pb2.Envelope.FromString(data)
        c = customer_pb2.CustomerUpdated.FromString(env.payload).customer
        old = rows.get(c.id)
        if old is not None and old[2] >= c.version:
            continue
        rows[c.id] = (
            uuid.UUID(c.id),
            c.owner_node,
            c.version,
            c.customer_code,
            c.name,
            c.customer_type,
            c.mgmt_level,
            c.industry,
            c.grade,
            c.life_status,
            c.recog_status,
            now,
            now,
        )
    async with conn.transaction():
        await conn.copy_records_to_table("bench_stage", records=list(rows.values()), columns=CEILING_COLS)
        await conn.execute(CEILING_SQL)
        await conn.execute("TRUNCATE bench_stage")


async def make_customers(conn: asyncpg.Connection, n: int, node: str, prefix: str) -> dict[uuid.UUID, str]:
    from kam_platform.ids import uuid7

    ids = [uuid7() for _ in range(n)]
    now = datetime.now(UTC)
    await conn.copy_records_to_table(
        "customer",
        schema_name="customer",
        columns=[
            "id",
            "owner_node",
            "version",
            "customer_code",
            "name",
            "customer_type",
            "mgmt_level",
            "industry",
            "grade",
            "life_status",
            "recog_status",
            "created_at",
            "updated_at",
        ],
        records=[
            (
                i,
                node,
                1,
                f"{prefix}{k:08d}",
                f"基准测试客户{prefix}{k:08d}",
                "SINGLE",
                "LOCAL",
                "FINANCE",
                "B",
                "ACTIVE",
                "CONFIRMED",
                now,
                now,
            )
            for k, i in enumerate(ids)
        ],
    )
    return {i: f"{prefix}{k:08d}" for k, i in enumerate(ids)}


async def write_changes(
    conn: asyncpg.Connection,
    node: str,
    codes: dict[uuid.UUID, str],
    versions: dict[uuid.UUID, int],
    batch: list[uuid.UUID],
) -> None:
    """One transaction like the service's: bump each customer, append its state event to the outbox."""
    rows = []
    for cid in batch:
        versions[cid] += 1
        v = versions[cid]
        state = customer_pb2.CustomerState(
            id=str(cid),
            owner_node=node,
            version=v,
            customer_code=codes[cid],
            name=f"基准测试客户{codes[cid]}",
            customer_type="SINGLE",
            mgmt_level="LOCAL",
            industry="FINANCE",
            grade="A" if v % 2 else "B",
            life_status="ACTIVE",
            recog_status="CONFIRMED",
        )
        eid, subject, etype, payload = build_event(
            node=node,
            service="customer",
            aggregate_type="customer",
            aggregate_id=str(cid),
            version=v,
            message=customer_pb2.CustomerUpdated(customer=state, changed_fields=["grade"]),
            actor="bench",
        )
        rows.append((eid, subject, etype, str(cid), v, payload))
    async with conn.transaction():
        await conn.executemany(
            "UPDATE customer.customer SET version = $2, grade = $3, updated_at = now() WHERE id = $1",
            [(cid, versions[cid], "A" if versions[cid] % 2 else "B") for cid in batch],
        )
        await conn.copy_records_to_table(
            "outbox",
            schema_name="customer",
            columns=["id", "subject", "event_type", "aggregate_id", "version", "payload"],
            records=rows,
        )
        await conn.execute("SELECT pg_notify($1, '')", channel("customer"))


async def lag_run(fed: Federation, rate: int, duration: float) -> dict[str, Any]:
    gz = await asyncpg.connect(dsn(fed.database_url("gd-gz")))
    hq = await asyncpg.connect(dsn(fed.database_url("hq")))
    codes = await make_customers(gz, 5000, "gd-gz", "BLAG")
    ids = list(codes)
    versions = {i: 1 for i in ids}
    start_ms = int(time.time() * 1000)
    tick = 0.1
    per_tick = max(1, int(rate * tick))
    t0 = time.monotonic()
    written = 0
    k = 0
    while time.monotonic() - t0 < duration:
        batch = [ids[(k + j) % len(ids)] for j in range(per_tick)]
        k += per_tick
        await write_changes(gz, "gd-gz", codes, versions, batch)
        written += len(batch)
        next_at = t0 + (written / rate)
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    achieved = written / (time.monotonic() - t0)
    # wait until hq applied everything written
    deadline = time.monotonic() + 300
    applied = 0
    while time.monotonic() < deadline:
        applied = await hq.fetchval(
            "SELECT count(*) FROM customer.inbox i WHERE i.applied_at >= to_timestamp($1 / 1000.0)", start_ms
        )
        if applied >= written:
            break
        await asyncio.sleep(0.5)
    rows = await hq.fetch(
        "SELECT event_id, applied_at FROM customer.inbox WHERE applied_at >= to_timestamp($1/1000.0)", start_ms
    )
    lags = [r["applied_at"].timestamp() * 1000 - uuid7_ms(r["event_id"]) for r in rows]
    await gz.close()
    await hq.close()
    return {
        "target_rate": rate,
        "achieved_rate": round(achieved, 1),
        "duration_s": duration,
        "events": written,
        "applied_at_hq": len(rows),
        "lag_ms": {
            "p50": round(pct(lags, 50), 1),
            "p95": round(pct(lags, 95), 1),
            "p99": round(pct(lags, 99), 1),
            "max": round(max(lags), 1),
        },
    }


async def catchup_run(fed: Federation, backlog: int) -> dict[str, Any]:
    gz = await asyncpg.connect(dsn(fed.database_url("gd-gz")))
    gd = await asyncpg.connect(dsn(fed.database_url("gd")))
    codes = await make_customers(gz, 10000, "gd-gz", "BCAT")
    ids = list(codes)
    versions = {i: 1 for i in ids}
    # wait until the seeded rows settled (no unsent outbox), then take the province away
    fed.stop_nats("gd")
    before = await gd.fetchval("SELECT count(*) FROM customer.inbox")
    written = 0
    k = 0
    while written < backlog:
        batch = [ids[(k + j) % len(ids)] for j in range(1000)]
        k += 1000
        await write_changes(gz, "gd-gz", codes, versions, batch)
        written += len(batch)
    while await gz.fetchval("SELECT count(*) FROM customer.outbox WHERE sent_at IS NULL"):
        await asyncio.sleep(0.5)  # the backlog is in gd-gz's own stream, the province is away
    t_resume = time.monotonic()
    await asyncio.get_running_loop().run_in_executor(None, fed.restart_nats, "gd")
    t_first: float | None = None
    timeline: list[dict[str, Any]] = []
    gd_nc = await nats.connect(fed.nats_url("gd"), max_reconnect_attempts=-1)
    gd_js = gd_nc.jetstream()
    up_gd_before: int | None = None
    last_sample = 0.0
    while True:
        applied = await gd.fetchval("SELECT count(*) FROM customer.inbox") - before
        now = time.monotonic()
        if applied and t_first is None:
            t_first = now
        if now - last_sample >= 2.0 or applied >= written:
            # where the time goes: how far the province's stream has sourced the backlog from gd-gz,
            # and how far its apply consumer is behind that stream
            last_sample = now
            sample: dict[str, Any] = {"t": round(now - t_resume, 1), "applied": applied}
            with contextlib.suppress(Exception):
                info = await gd_js.stream_info("UP_gd")
                if up_gd_before is None:
                    up_gd_before = info.state.messages
                sample["sourced"] = info.state.messages - up_gd_before
                ci = await gd_js.consumer_info("UP_gd", "customer-apply-UP_gd")
                sample["apply_pending"] = ci.num_pending
                sample["apply_ack_pending"] = ci.num_ack_pending
            timeline.append(sample)
        if applied >= written:
            break
        if now - t_resume > 900:
            break
        await asyncio.sleep(0.25)
    elapsed = time.monotonic() - t_resume
    await gd_nc.close()
    # ceiling: bare JetStream consume of the same events from gd-gz's stream + PostgreSQL upsert
    nc = await nats.connect(fed.nats_url("gd-gz"))
    js = nc.jetstream()
    await ceiling_table(gz)
    sub = await js.pull_subscribe("up.gd-gz.customer.customer.*", durable=None, stream="UP_gd-gz")
    t0 = time.monotonic()
    got = 0
    while got < written:
        try:
            msgs = await sub.fetch(500, timeout=2)
        except nats.errors.TimeoutError:
            break
        await ceiling_upsert(gz, [m.data for m in msgs])
        for m in msgs:
            await m.ack()
        got += len(msgs)
    ceiling_elapsed = time.monotonic() - t0
    isolated = await isolated_apply(fed, js, written)
    await nc.close()
    await gz.close()
    await gd.close()
    applying = elapsed - ((t_first or t_resume) - t_resume)
    rate = written / max(elapsed - ((t_first or t_resume) - t_resume), 1e-9)
    ceiling = got / ceiling_elapsed if ceiling_elapsed else float("nan")
    return {
        "backlog": written,
        "apply_code": APPLY_CODE,
        "resume_to_converged_s": round(elapsed, 1),
        "resume_to_first_applied_s": round((t_first or t_resume) - t_resume, 1),
        "applying_s": round(applying, 1),
        "apply_rate_per_s": round(rate),
        # set-based (COPY + one INSERT … SELECT … ON CONFLICT per batch of 500); files before issue 13
        # hold ceiling_consume_upsert_per_s, a row-by-row upsert
        "ceiling_consume_setbased_per_s": round(ceiling),
        "ceiling_events": got,
        "ratio_to_setbased_ceiling": round(rate / ceiling, 2) if ceiling else None,
        "isolated_apply": isolated,
        # every 2 s from the restart: events applied at gd, backlog sourced into UP_gd, apply consumer lag
        "timeline": timeline,
    }


async def isolated_apply(fed: Federation, js: Any, count: int) -> dict[str, Any]:
    """The service's apply path alone (inbox, newest version, versioned upsert; no NATS wait, no other
    node competing for the two cores) on the same events, against a bare upsert of them, both into a
    fresh database on the same PostgreSQL."""
    from kam_customer.replication.handlers import CustomerApplier
    from kam_platform.db import create_database
    from kam_platform.db.migrate import upgrade
    from kam_platform.embedded.postgres import ensure_database, plain_dsn, with_database
    from kam_platform.replication import Event, ReplicationConsumer
    from kam_platform.settings import Settings

    server = plain_dsn(fed.database_url("gd")).rsplit("/", 1)[0] + "/postgres"
    ensure_database(server, "kam_bench_apply")
    url = "postgresql+asyncpg://" + with_database(server, "kam_bench_apply").split("://", 1)[1]
    await asyncio.get_running_loop().run_in_executor(None, upgrade, url, "kam_customer:migrations")
    sub = await js.pull_subscribe("up.gd-gz.customer.customer.*", durable=None, stream="UP_gd-gz")
    events: list[Event] = []
    while len(events) < count:
        try:
            msgs = await sub.fetch(1000, timeout=2)
        except nats.errors.TimeoutError:
            break
        for m in msgs:
            events.append(Event(envelope_pb2.Envelope.FromString(m.data), m.subject, "UP_gd"))
            await m.ack()
    settings = Settings(node="gd", topology_file=TRIO, database_url=url)
    db = create_database(url)
    consumer = ReplicationConsumer(
        sessionmaker=db.sessionmaker,
        nats_url="",
        service="customer",
        schema="customer",
        node="gd",
        stream="UP_gd",
        filter_subjects=[],
        apply=CustomerApplier(settings),
    )
    t0 = time.monotonic()
    for i in range(0, len(events), 500):
        await consumer._apply_batch(events[i : i + 500])
    service_s = time.monotonic() - t0
    # the statistics refresh runs beside the apply: let a last one finish before the ceiling's run
    await consumer.statistics_refreshed()
    await db.dispose()
    conn = await asyncpg.connect(dsn(url))
    await ceiling_table(conn)
    t0 = time.monotonic()
    for i in range(0, len(events), 500):
        await ceiling_upsert(conn, [e.envelope.SerializeToString() for e in events[i : i + 500]])
    ceiling_s = time.monotonic() - t0
    await conn.close()
    return {
        "events": len(events),
        "service_apply_per_s": round(len(events) / service_s),
        "raw_setbased_upsert_per_s": round(len(events) / ceiling_s),
        "ratio_to_setbased": round(ceiling_s / service_s, 2),
    }


async def import_run(fed: Federation, n: int, workdir: Path) -> dict[str, Any]:
    """(g) N customers imported from CSV at gd-gz (the import service in process on gd-gz's database;
    gd-gz's own relay publishes its CustomersImported events) until hq holds all of them."""
    import httpx
    import run as customer_bench  # bench/run.py: the same CSV and token helpers

    from kam_customer.main import create_app
    from kam_platform.settings import Settings

    path = workdir / "import.csv"
    customer_bench.write_csv(path, n)
    auth = customer_bench.Auth()
    settings = Settings(
        node="gd-gz",
        service="customer",
        topology_file=TRIO,
        database_url=fed.database_url("gd-gz"),
        nats_url=fed.nats_url("gd-gz"),
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        jwks_json=auth.jwks,
    )
    app = create_app(settings)
    hq = await asyncpg.connect(dsn(fed.database_url("hq")))
    gd = await asyncpg.connect(dsn(fed.database_url("gd")))
    gz = await asyncpg.connect(dsn(fed.database_url("gd-gz")))

    async def blocks() -> Any:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                yield block

    counted = "SELECT count(*) FROM customer.customer WHERE customer_code LIKE 'KAGDGZ0%'"
    try:
        before = await hq.fetchval(counted)
        before_gd = await gd.fetchval(counted)
        t0 = time.monotonic()
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gd-gz.bench", timeout=7200) as c,
        ):
            r = await c.post(
                "/api/v1/customer/imports",
                content=blocks(),
                headers={**auth.headers("gd-gz"), "Content-Type": "text/csv"},
            )
        committed = time.monotonic()
        if r.status_code != 200 or r.json().get("created") != n:
            raise RuntimeError(f"import failed: {r.status_code} {r.text[:300]}")
        at_hq = 0
        # where the rows are, every 5 s after the commit: still in gd-gz's outbox, applied at gd, at hq
        timeline: list[dict[str, Any]] = []
        unsent = "SELECT count(*) FROM customer.outbox WHERE sent_at IS NULL"
        sampled = committed
        while at_hq < n and time.monotonic() - committed < 1800:
            await asyncio.sleep(0.5)
            at_hq = await hq.fetchval(counted) - before
            if time.monotonic() - sampled >= 5 or at_hq >= n:
                sampled = time.monotonic()
                timeline.append(
                    {
                        "s": round(sampled - committed, 1),
                        "unsent_events_at_gd_gz": await gz.fetchval(unsent),
                        "at_gd": await gd.fetchval(counted) - before_gd,
                        "at_hq": at_hq,
                    }
                )
        converged = time.monotonic()
    finally:
        await hq.close()
        await gd.close()
        await gz.close()
    return {
        "customers": n,
        "import_s": round(committed - t0, 1),
        "commit_to_all_at_hq_s": round(converged - committed, 1),
        "start_to_all_at_hq_s": round(converged - t0, 1),
        "at_hq": at_hq,
        "goal_at_hq_s": 120,
        "apply_code": APPLY_CODE,
        "timeline": timeline,
    }


def loadavg() -> dict[str, float]:
    one, five, fifteen = os.getloadavg()
    return {"1m": round(one, 2), "5m": round(five, 2), "15m": round(fifteen, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=int(os.environ.get("KAM_BENCH_RATE", 1000)))
    ap.add_argument("--duration", type=float, default=float(os.environ.get("KAM_BENCH_DURATION", 60)))
    ap.add_argument("--backlog", type=int, default=int(os.environ.get("KAM_BENCH_BACKLOG", 100_000)))
    ap.add_argument("--import-n", type=int, default=int(os.environ.get("KAM_BENCH_IMPORT_N", 1_000_000)))
    ap.add_argument("--only", default="e,f,g")
    args = ap.parse_args()
    only = set(args.only.split(","))
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "started_at": datetime.now(UTC).isoformat(),
        # the machine is shared: its load when the run started and ended
        "loadavg_before": loadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="kam-bench-fed-") as tmp:
        fed = Federation(TRIO, Path(tmp) / "run", process_per="node", use_environment=False, pg_fast=False)
        try:
            fed.start()
            if "e" in only:
                results["e_lag"] = asyncio.run(lag_run(fed, args.rate, args.duration))
                print("e", json.dumps(results["e_lag"]))
            if "f" in only:
                results["f_catchup"] = asyncio.run(catchup_run(fed, args.backlog))
                print("f", json.dumps(results["f_catchup"]))
            if "g" in only:
                results["g_import"] = asyncio.run(import_run(fed, args.import_n, Path(tmp)))
                print("g", json.dumps(results["g_import"]))
        finally:
            fed.stop()
    results["loadavg_after"] = loadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"federation-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
