"""The SLA evaluator (升级, issue 12) at a local network with N open tickets: the service's scheduled
evaluator (`Evaluator.run_once()` of the app, its injectable clock moved forward) against the ceiling
of a plain indexed scan of the same deadlines on a bare asyncpg connection (`SELECT * … WHERE
owner_node = $1 AND next_due_at <= $2 ORDER BY next_due_at`, the evaluator's partial index).

    uv run python bench/sla.py [--tickets 1000000] [--days 7] [--ticks 10] [--backlog-minutes 60] [--out FILE]

N open tickets of gd-gz, accepted uniformly over the last `--days` days under the national SLA rule
(kam_rules.seed: response 30/60/120 min by grade A/B/C, resolution 8×, escalation steps after 60 and 240
min), are loaded by COPY in the state the evaluator leaves them at the load's instant `t0`: steps due
by then fired (and their `escalation_fired` rows), breaches flagged, `next_due_at` computed by the
service's `terms.refresh_next_due`; pending tickets are paused, resolved ones await the revisit. The
secondary indexes are dropped for the load and rebuilt as the migrations define them, then
`VACUUM ANALYZE`. Then `--ticks` evaluator passes at t0 + 30 s, + 60 s, … (the service's interval: the
share of tickets due in a tick of steady state) and one pass after `--backlog-minutes` without a pass
(a node that was down): per pass the tickets due, the steps fired, the breaches recorded and the time,
each after the raw scan of the same instant. Results: bench/results/sla-<timestamp>-<tickets>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import asyncpg

from kam_platform.db.migrate import upgrade
from kam_platform.embedded.ports import free_port
from kam_platform.embedded.postgres import EmbeddedPostgres, ensure_database, with_database
from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_service.main import MIGRATIONS, create_app
from kam_service.models import TroubleTicket
from kam_service.sla import terms

NODE = "gd-gz"
TICK = 30.0  # seconds: the evaluator's interval (kam_service.main create_app evaluate_every)
RESULTS = Path(__file__).resolve().parent / "results"
RESPONSE = {"A": 30, "B": 60, "C": 120}  # the national default (kam_rules.seed), resolution 8×
LADDER = ((60, "ka_dept_manager"), (240, "province"))
RULE_ID = uuid.UUID("6f1c2a4e-0000-4000-8000-000000000012")
RAW_SCAN = "SELECT * FROM service.trouble_ticket WHERE owner_node = $1 AND next_due_at <= $2 ORDER BY next_due_at"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg() -> dict[str, float]:
    return dict(zip(("1m", "5m", "15m"), (round(x, 2) for x in os.getloadavg()), strict=True))


def ticket(rng: random.Random, i: int, t0: datetime, days: float) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """One open ticket in the state the evaluator leaves it at t0, and its escalation_fired rows."""
    created = t0 - timedelta(seconds=rng.uniform(0, days * 86400))
    grade = rng.choices("ABC", weights=(20, 30, 50))[0]
    kind = rng.choices(("FAULT", "COMPLAINT", "CONSULTATION", "CHANGE_REQUEST"), weights=(45, 20, 25, 10))[0]
    status = rng.choices(("acknowledged", "inProgress", "pending", "resolved"), weights=(8, 70, 12, 10))[0]
    age = (t0 - created).total_seconds()
    response_minutes = RESPONSE[grade]
    resolve_minutes = response_minutes * 8
    response_due = created + timedelta(minutes=response_minutes)
    resolve_due = created + timedelta(minutes=resolve_minutes)
    responded = None
    if status != "acknowledged":
        responded = created + timedelta(seconds=min(age, rng.uniform(60, response_minutes * 60 * 1.3)))
    paused = created + timedelta(seconds=rng.uniform(age / 2, age)) if status == "pending" else None
    resolved = created + timedelta(seconds=rng.uniform(age / 2, age)) if status == "resolved" else None
    stopped = paused or resolved
    if responded is not None and stopped is not None and responded > stopped:  # responded first
        responded = stopped
    horizon = paused or resolved or t0  # the evaluator last saw the ticket running then
    ladder, fired = [], []
    for step, (after, to) in enumerate(LADDER, start=1):
        due = created + timedelta(minutes=after)
        at = due + timedelta(seconds=rng.uniform(0, TICK)) if due <= horizon else None
        ladder.append({"step": step, "afterMinutes": after, "to": to, "dueAt": due.isoformat(), "firedAt": None})
        if at is not None:
            ladder[-1]["firedAt"] = at.isoformat()
            fired.append((None, step, NODE, to, f"agent{i % 300}", due, at))
    row: dict[str, Any] = {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "owner_node": NODE,
        "version": 2 + len(fired),
        "ticket_type": kind,
        "channel": rng.choice(("HOTLINE", "CS_10000", "ACCOUNT_MANAGER", "EMAIL", "WEB")),
        "priority": rng.choice(("CRITICAL", "HIGH", "MEDIUM", "LOW")),
        "name": f"{rng.choice(('专线中断', '网速慢', '账单疑问', '业务变更', '投诉处理时长'))} {i}",
        "description": "客户来电反映问题，已受理并派单处理。",
        "status": status,
        "customer_id": uuid.UUID(int=rng.randrange(1_000_000), version=4),
        "customer_code": f"KAB{rng.randrange(1_000_000):09d}",
        "customer_name": f"客户{rng.randrange(1_000_000)}",
        "customer_grade": grade,
        "account_manager": f"am-{rng.randrange(500)}",
        "handler": f"agent{i % 300}",
        "sla_rule_id": RULE_ID,
        "sla_rule_version": 1,
        "sla_calendar": "24x7",
        "response_minutes": response_minutes,
        "resolve_minutes": resolve_minutes,
        "response_due_at": response_due,
        "resolve_due_at": resolve_due,
        "responded_at": responded,
        "resolved_at": resolved,
        "paused_since": paused,
        "paused_minutes": 0,
        "response_breached": (responded or horizon) > response_due,
        "resolve_breached": (resolved or horizon) > resolve_due,
        "escalation_level": len(fired),
        "escalation": ladder,
        "reopen_count": 0,
        "status_change": [
            {"status": "acknowledged", "fromStatus": None, "at": created.isoformat(), "actor": "agent", "reason": None}
        ],
        "created_at": created,
        "updated_at": max([created, *(f[6] for f in fired)]),
        "handler_version": 0,
    }
    # what the evaluator has to do next: the service's own computation
    probe = SimpleNamespace(**row)
    terms.refresh_next_due(cast(TroubleTicket, probe))
    row["next_due_at"] = probe.next_due_at
    row["escalation"] = json.dumps(ladder, ensure_ascii=False)
    row["status_change"] = json.dumps(row["status_change"], ensure_ascii=False)
    return row, [(row["id"], *f[1:]) for f in fired]


async def load(dsn: str, n: int, days: float, t0: datetime) -> dict[str, Any]:
    rng = random.Random(12)
    conn = await asyncpg.connect(dsn)
    try:
        t_start = time.perf_counter()
        idx = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'service' "
            "AND tablename IN ('trouble_ticket', 'escalation_fired') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = indexname)"
        )
        for r in idx:
            await conn.execute(f'DROP INDEX service."{r["indexname"]}"')
        generate_s = copy_s = 0.0
        fired_n = 0
        cols: list[str] = []
        for start in range(0, n, 100_000):  # in chunks: a million rows of Python objects at once is a lot
            t1 = time.perf_counter()
            rows, fired = [], []
            for i in range(start, min(n, start + 100_000)):
                row, f = ticket(rng, i, t0, days)
                rows.append(row)
                fired += f
            cols = list(rows[0])
            generate_s += time.perf_counter() - t1
            t2 = time.perf_counter()
            await conn.copy_records_to_table(
                "trouble_ticket",
                schema_name="service",
                columns=cols,
                records=[tuple(r[c] for c in cols) for r in rows],
            )
            await conn.copy_records_to_table(
                "escalation_fired",
                schema_name="service",
                columns=["ticket_id", "step", "owner_node", "notified", "handler", "due_at", "fired_at"],
                records=fired,
            )
            copy_s += time.perf_counter() - t2
            fired_n += len(fired)
        t3 = time.perf_counter()
        for r in idx:
            await conn.execute(r["indexdef"])
        index_s = time.perf_counter() - t3
        await conn.execute("VACUUM ANALYZE service.trouble_ticket")
        await conn.execute("VACUUM ANALYZE service.escalation_fired")
        by_status = {
            r["status"]: r["n"]
            for r in await conn.fetch("SELECT status, count(*) AS n FROM service.trouble_ticket GROUP BY 1 ORDER BY 1")
        }
        with_due = await conn.fetchval("SELECT count(*) FROM service.trouble_ticket WHERE next_due_at IS NOT NULL")
        return {
            "tickets": n,
            "by_status": by_status,
            "with_next_due": with_due,
            "escalation_fired_rows": fired_n,
            "generate_seconds": round(generate_s, 1),
            "copy_seconds": round(copy_s, 1),
            "index_build_seconds": round(index_s, 1),
            "load_seconds": round(time.perf_counter() - t_start, 1),
        }
    finally:
        await conn.close()


async def raw_scan(conn: asyncpg.Connection, now: datetime) -> tuple[int, float]:
    t = time.perf_counter()
    rows = await conn.fetch(RAW_SCAN, NODE, now)
    return len(rows), time.perf_counter() - t


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    r = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE response_breached) AS response_breached, "
        "count(*) FILTER (WHERE resolve_breached) AS resolve_breached, "
        "(SELECT count(*) FROM service.escalation_fired) AS fired, "
        "(SELECT count(*) FROM service.outbox) AS outbox FROM service.trouble_ticket"
    )
    return dict(r)


async def explain(conn: asyncpg.Connection, sql: str, *params: Any) -> str:
    """EXPLAIN ANALYZE in a transaction that is rolled back (the evaluator's scan locks rows)."""
    tr = conn.transaction()
    await tr.start()
    try:
        plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
    finally:
        await tr.rollback()
    return "\n".join(r[0] for r in plan)


async def passes(url: str, dsn: str, t0: datetime, ticks: int, backlog_minutes: float) -> dict[str, Any]:
    from sqlalchemy import event

    clock = [t0]
    settings = Settings(
        node=NODE,
        service="service",
        topology_file=topology_file("demo"),
        database_url=url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        jwks_json='{"keys": []}',
    )
    app = create_app(settings, clock=lambda: clock[0], evaluate_every=None, care_every=None)
    conn = await asyncpg.connect(dsn)
    scans: list[tuple[str, tuple[Any, ...]]] = []
    out: dict[str, Any] = {}
    try:
        async with app.router.lifespan_context(app):
            evaluator = app.state.evaluator

            def record(c: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
                if "SKIP LOCKED" in statement and not scans:
                    scans.append((statement, tuple(parameters)))

            event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", record)

            async def one(now: datetime) -> dict[str, Any]:
                clock[0] = now
                due, scan_s = await raw_scan(conn, now)
                before = await counts(conn)
                t = time.perf_counter()
                fired = await evaluator.run_once()
                seconds = time.perf_counter() - t
                after = await counts(conn)
                left, _ = await raw_scan(conn, now)
                return {
                    "due": due,
                    "left_due_after": left,
                    "steps_fired": sum(len(v) for v in fired.values()),
                    "breaches": after["response_breached"]
                    - before["response_breached"]
                    + after["resolve_breached"]
                    - before["resolve_breached"],
                    "events_written": after["outbox"] - before["outbox"],
                    "seconds": round(seconds, 4),
                    "raw_scan_seconds": round(scan_s, 4),
                }

            out["warmup_at_t0"] = await one(t0)
            ticks_out = [await one(t0 + timedelta(seconds=TICK * k)) for k in range(1, ticks + 1)]
            due = sum(p["due"] for p in ticks_out)
            secs = sum(p["seconds"] for p in ticks_out)
            raw_secs = sum(p["raw_scan_seconds"] for p in ticks_out)
            out["tick"] = {
                "passes": ticks_out,
                "due_per_pass_median": statistics.median(p["due"] for p in ticks_out),
                "pass_median_s": round(statistics.median(p["seconds"] for p in ticks_out), 4),
                "pass_max_s": round(max(p["seconds"] for p in ticks_out), 4),
                "evaluated_per_second": round(due / secs, 1) if secs else None,
                "raw_scan_median_s": round(statistics.median(p["raw_scan_seconds"] for p in ticks_out), 4),
                "raw_rows_per_second": round(due / raw_secs, 1) if raw_secs else None,
            }
            log(f"  ticks: {json.dumps({k: v for k, v in out['tick'].items() if k != 'passes'})}")
            at = t0 + timedelta(seconds=TICK * ticks + backlog_minutes * 60)
            b = await one(at)
            b["evaluated_per_second"] = round(b["due"] / b["seconds"], 1)
            b["steps_fired_per_second"] = round(b["steps_fired"] / b["seconds"], 1)
            b["raw_rows_per_second"] = round(b["due"] / b["raw_scan_seconds"], 1)
            b["ratio_evaluator_to_raw"] = round(b["evaluated_per_second"] / b["raw_rows_per_second"], 4)
            out["backlog"] = {"minutes": backlog_minutes, **b}
            log(f"  backlog: {out['backlog']}")
            # the plans, at an instant with a backlog again (an hour later)
            later = at + timedelta(hours=1)
            out["explain"] = {"raw_scan": await explain(conn, RAW_SCAN, NODE, later)}
            if scans:
                sql, params = scans[0]
                params = tuple(later if isinstance(p, datetime) else p for p in params)
                out["explain"]["evaluator_scan"] = await explain(conn, sql, *params)
                out["evaluator_scan_sql"] = sql
    finally:
        await conn.close()
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    t0 = datetime.now(UTC).replace(microsecond=0)
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(),
        "tickets": args.tickets,
        "days": args.days,
        "ticks": args.ticks,
        "tick_seconds": TICK,
        "backlog_minutes": args.backlog_minutes,
        "node": NODE,
        "label": args.label,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "sla": {"response_minutes": RESPONSE, "resolve": "8 x response", "ladder": [list(s) for s in LADDER]},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    with tempfile.TemporaryDirectory(prefix="kam-bench-sla-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg" / "data", fast=False)
        pg.start()
        try:
            server = pg.dsn()
            ensure_database(server, "kam_bench")
            dsn = with_database(server, "kam_bench")
            url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
            upgrade(url, MIGRATIONS)
            log(f"loading {args.tickets} open tickets by COPY")
            result["load"] = await load(dsn, args.tickets, args.days, t0)
            log(f"  {result['load']}")
            log(f"evaluator passes: {args.ticks} ticks of {TICK:g} s, then {args.backlog_minutes:g} min of backlog")
            # the machine is shared: its load beside the figures says how quiet it was
            result["loadavg_before"] = loadavg()
            result.update(await passes(url, dsn, t0, args.ticks, args.backlog_minutes))
            result["loadavg_after"] = loadavg()
        finally:
            pg.stop()
    result["finished"] = datetime.now(UTC).isoformat()
    return result


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--days", type=float, default=7.0, help="open tickets accepted over the last DAYS days")
    p.add_argument("--ticks", type=int, default=10)
    p.add_argument("--backlog-minutes", type=float, default=60.0)
    p.add_argument("--label", default=None, help="what code this is (e.g. before / after a change)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    # a terminated run still stops its PostgreSQL (SystemExit unwinds through the finally)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = asyncio.run(main(args))
    out = args.out or RESULTS / f"sla-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{args.tickets}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"wrote {out}")


if __name__ == "__main__":
    cli()
