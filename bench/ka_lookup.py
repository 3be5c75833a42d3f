"""KA_LOOKUP (大客户识别, the 10000 interface) at a local network: calling number → customer, grade,
account manager and open tickets, at N customers with M service numbers each and a share of them with
open tickets, through the service app (in process: JWT, scope clause, two indexed reads, response
model) and, as the ceiling, the same two queries on a bare asyncpg connection. Goal p99 < 20 ms at
1,000,000 customers / 10,000,000 numbers (REQUIREMENTS.md §5.2 via issue 12).

    uv run python bench/ka_lookup.py [--customers 1000000] [--numbers-per 10] [--tickets-share 0.1]
                                     [--calls 5000] [--out FILE]

Results go to bench/results/ka_lookup-<timestamp>-<customers>.json (the table in docs/benchmarks.md is
regenerated from them by bench/report.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from kam_platform.auth import generate_signing_key, public_jwk, sign_token
from kam_platform.db.migrate import upgrade
from kam_platform.embedded.ports import free_port
from kam_platform.embedded.postgres import EmbeddedPostgres, ensure_database, with_database
from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_service.main import MIGRATIONS, create_app

NODE = "gd-gz"
KID = "bench"
RESULTS = Path(__file__).resolve().parent / "results"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def lat(values: list[float]) -> dict[str, float]:
    return {f"p{p}_ms": round(pct(values, p), 2) for p in (50, 95, 99)}


def loadavg() -> dict[str, float]:
    return dict(zip(("1m", "5m", "15m"), (round(x, 2) for x in os.getloadavg()), strict=True))


def number_of(i: int) -> str:
    return f"139{i:08d}"


FILL = {
    "uuid": "gen_random_uuid()",
    "character varying": "'x'",
    "text": "''",
    "integer": "0",
    "bigint": "1",
    "boolean": "false",
    "timestamp with time zone": "now()",
    "jsonb": "'[]'::jsonb",
    "date": "current_date",
    "ARRAY": "'{}'",
}


async def load(dsn: str, customers: int, per: int, ticket_share: float) -> dict[str, Any]:
    """Numbers and open tickets by INSERT … SELECT generate_series (set-based, in the server), the
    secondary indexes dropped for the load and rebuilt as the migration defines them, then ANALYZE."""
    conn = await asyncpg.connect(dsn)
    try:
        t0 = time.perf_counter()
        idx = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'service' "
            "AND tablename IN ('cs_service_number', 'trouble_ticket') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = indexname)"
        )
        for r in idx:
            await conn.execute(f'DROP INDEX service."{r["indexname"]}"')
        n = customers * per
        await conn.execute(
            "INSERT INTO service.cs_service_number (id, owner_node, version, number, customer_id, customer_code, "
            "customer_name, grade, account_manager, priority_routing, status, created_at, updated_at) "
            "SELECT gen_random_uuid(), $1, 1, '139' || lpad(g::text, 8, '0'), md5('c' || (g / $3))::uuid, "
            "'KAB' || lpad((g / $3)::text, 9, '0'), '客户' || (g / $3), (ARRAY['A','B','C'])[1 + (g / $3) % 3], "
            "'am-' || ((g / $3) % 500), true, 'ACTIVE', now(), now() FROM generate_series(0, $2 - 1) g",
            NODE,
            n,
            per,
        )
        numbers_s = time.perf_counter() - t0
        cols = await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'service' "
            "AND table_name = 'trouble_ticket' AND is_nullable = 'NO' AND column_default IS NULL"
        )
        given = {
            "id": "gen_random_uuid()",
            "owner_node": f"'{NODE}'",
            "status": "'acknowledged'",
            "customer_id": f"md5('c' || (g * {max(1, round(1 / ticket_share))}))::uuid",
            "name": "'故障 ' || g",
            "created_at": "now() - (g || ' seconds')::interval",
        }
        names = [c["column_name"] for c in cols] + [k for k in given if k not in {c["column_name"] for c in cols}]
        values = [given.get(c["column_name"], FILL[c["data_type"]]) for c in cols]
        values += [given[k] for k in names[len(cols) :]]
        tickets = int(customers * ticket_share)
        await conn.execute(
            f"INSERT INTO service.trouble_ticket ({', '.join(names)}) "
            f"SELECT {', '.join(values)} FROM generate_series(0, {tickets} - 1) g"
        )
        t1 = time.perf_counter()
        for r in idx:
            await conn.execute(r["indexdef"])
        index_s = time.perf_counter() - t1
        await conn.execute("VACUUM ANALYZE service.cs_service_number")
        await conn.execute("VACUUM ANALYZE service.trouble_ticket")
        return {
            "numbers": n,
            "tickets": tickets,
            "load_seconds": round(time.perf_counter() - t0, 1),
            "numbers_insert_seconds": round(numbers_s, 1),
            "index_build_seconds": round(index_s, 1),
        }
    finally:
        await conn.close()


def token(key: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "cs10000",
        "node": NODE,
        "scope_node": NODE,
        "roles": ["service_agent"],
        "perms": ["service.cs10000:call"],
        "iat": now,
        "exp": now + 86400,
        "aud": "kam",
    }
    return sign_token(key, KID, claims)


def picks(rng: random.Random, n: int, calls: int) -> list[str]:
    """90 % numbers of key accounts, 10 % unknown callers."""
    return [
        number_of(rng.randrange(n)) if rng.random() < 0.9 else f"188{rng.randrange(10**8):08d}" for _ in range(calls)
    ]


async def bench_api(url: str, numbers: list[str]) -> dict[str, Any]:
    key = generate_signing_key()
    settings = Settings(
        node=NODE,
        service="service",
        topology_file=topology_file("demo"),
        database_url=url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        jwks_json=json.dumps({"keys": [public_jwk(key, KID)]}),
    )
    app = create_app(settings, evaluate_every=None)
    headers = {"Authorization": f"Bearer {token(key)}"}
    found = 0
    times: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gd-gz.kam.bench") as c:
            for number in numbers[:200]:  # warm-up: connections, plans, caches
                await c.get("/api/v1/service/cs10000/lookup", params={"callingNumber": number}, headers=headers)
            for number in numbers:
                t = time.perf_counter()
                r = await c.get("/api/v1/service/cs10000/lookup", params={"callingNumber": number}, headers=headers)
                times.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    raise RuntimeError(f"lookup {number}: {r.status_code} {r.text[:300]}")
                found += bool(r.json()["found"])
    return {**{f"api_{k}": v for k, v in lat(times).items()}, "hit_rate": round(found / len(numbers), 3)}


async def bench_raw(dsn: str, numbers: list[str]) -> dict[str, Any]:
    """The ceiling: the same two reads (number in scope; the customer's open tickets) on one connection."""
    conn = await asyncpg.connect(dsn)
    q_number = await conn.prepare(
        "SELECT * FROM service.cs_service_number WHERE owner_node = ANY($2::text[]) AND number = $1 "
        "AND status = 'ACTIVE'"
    )
    q_tickets = await conn.prepare(
        "SELECT * FROM service.trouble_ticket WHERE owner_node = ANY($2::text[]) AND customer_id = $1 "
        "AND status NOT IN ('closed', 'rejected', 'cancelled') ORDER BY created_at DESC LIMIT 20"
    )
    scope = [NODE]
    times: list[float] = []
    try:
        for number in numbers[:200] + numbers:
            t = time.perf_counter()
            row = await q_number.fetchrow(number, scope)
            if row is not None:
                await q_tickets.fetch(row["customer_id"], scope)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        await conn.close()
    return {f"raw_{k}": v for k, v in lat(times[200:]).items()}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(),
        "customers": args.customers,
        "numbers_per_customer": args.numbers_per,
        "tickets_share": args.tickets_share,
        "calls": args.calls,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "goal_p99_ms": 20,
    }
    with tempfile.TemporaryDirectory(prefix="kam-bench-lookup-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg" / "data", fast=False)
        pg.start()
        try:
            server = pg.dsn()
            ensure_database(server, "kam_bench")
            dsn = with_database(server, "kam_bench")
            url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
            upgrade(url, MIGRATIONS)
            log(f"loading {args.customers} customers x {args.numbers_per} numbers")
            result["load"] = await load(dsn, args.customers, args.numbers_per, args.tickets_share)
            log(f"  {result['load']}")
            numbers = picks(random.Random(7), args.customers * args.numbers_per, args.calls)
            log(f"KA_LOOKUP through the app, {args.calls} calls")
            # the machine is shared: its load beside the figures says how quiet it was
            result["loadavg_before"] = loadavg()
            result["lookup"] = await bench_api(url, numbers)
            result["lookup"].update(await bench_raw(dsn, numbers))
            result["loadavg_after"] = loadavg()
            log(f"  {result['lookup']}")
        finally:
            pg.stop()
    result["finished"] = datetime.now(UTC).isoformat()
    return result


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--numbers-per", type=int, default=10)
    p.add_argument("--tickets-share", type=float, default=0.1, help="open tickets per customer (a share)")
    p.add_argument("--calls", type=int, default=5000)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    # a terminated run still stops its PostgreSQL (SystemExit unwinds through the finally)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = asyncio.run(main(args))
    out = args.out or RESULTS / f"ka_lookup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{args.customers}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"wrote {out}")


if __name__ == "__main__":
    cli()
