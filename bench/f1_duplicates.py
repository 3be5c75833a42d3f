"""The F1 duplicate scan at hq (issue 14): N customers over the demo nodes with planted duplicates of
known kinds — same credit code under a new name, same normalised name without a credit code (branch
word, full-width digits), both — and traps that are not duplicates (another company at the same
address); then the scan (`POST /api/v1/customer/duplicates/scan` through the customer app in process,
an hq token: JWT, scope, one GROUP BY per signal, the queue written) and, as the floor, a plain
`GROUP BY credit_code`, same database, same run. Reported: time, pairs, precision and recall against
the planted truth (and precision of the pairs scored ≥ 70).

    uv run python bench/f1_duplicates.py [--customers 1000000] [--planted-share 0.02] [--out FILE]

Results go to bench/results/f1_duplicates-<timestamp>-<customers>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from kam_customer.main import MIGRATIONS, create_app
from kam_platform.auth import generate_signing_key, public_jwk, sign_token
from kam_platform.db.migrate import upgrade
from kam_platform.embedded.ports import free_port
from kam_platform.embedded.postgres import EmbeddedPostgres, ensure_database, with_database
from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file

KID = "bench"
RESULTS = Path(__file__).resolve().parent / "results"
OWNERS = "ARRAY['gd-gz','gd-sz','js-nj','gd','js','hq']"
FULL_DIGITS = "translate(%s::text, '0123456789', '０１２３４５６７８９')"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _insert(select: str) -> str:
    return (
        "INSERT INTO customer.customer (id, owner_node, version, customer_code, name, customer_type, mgmt_level,"
        " industry, grade, life_status, recog_status, credit_code, address) " + select
    )


COMMON = "'SINGLE', 'LOCAL', 'FINANCE', 'B', 'ACTIVE', 'CONFIRMED'"


async def load(dsn: str, customers: int, share: float) -> dict[str, Any]:
    planted = max(1, int(customers * share))
    traps = max(1, planted // 2)
    base = customers - planted - traps
    step = max(1, base // planted)
    conn = await asyncpg.connect(dsn)
    t = time.perf_counter()
    try:
        await conn.execute(
            _insert(
                f"SELECT gen_random_uuid(), ({OWNERS})[1 + i % 6], 1, 'KAB' || lpad(i::text, 12, '0'),"
                f" '基准' || i || '科技有限公司', {COMMON}, '91' || lpad(i::text, 16, '0'), '某市某路' || i || '号'"
                " FROM generate_series(1, $1) i"
            ),
            base,
        )
        # planted duplicate j of base customer k = j * step, owned in another province than k:
        #   j % 5 in (0, 1): renamed, same credit code (credit code only, 90)
        #   j % 5 in (2, 3): a branch word or full-width digits, no credit code (normalised name only, 70)
        #   j % 5 = 4: full-width digits and a longer legal form, same credit code (both, 97)
        k = "(j * $2)"
        name = (
            f"CASE WHEN j % 5 < 2 THEN '新名' || {k} || '数据服务'"
            f" WHEN j % 5 = 2 THEN '基准' || {k} || '科技分公司'"
            f" ELSE '基准' || {FULL_DIGITS % k} || '科技股份有限公司' END"
        )
        credit = f"CASE WHEN j % 5 IN (2, 3) THEN NULL ELSE '91' || lpad({k}::text, 16, '0') END"
        await conn.execute(
            _insert(
                f"SELECT gen_random_uuid(), ({OWNERS})[1 + ({k} + 2) % 6], 1, 'KAP' || lpad(j::text, 12, '0'),"
                f" {name}, {COMMON}, {credit}, '另一市' || j || '号' FROM generate_series(1, $1) j"
            ),
            planted,
            step,
        )
        # traps: another company at a base customer's address (shared office building), not a duplicate
        await conn.execute(
            _insert(
                f"SELECT gen_random_uuid(), ({OWNERS})[1 + t % 6], 1, 'KAT' || lpad(t::text, 12, '0'),"
                f" '陷阱' || t || '物流有限公司', {COMMON}, '92' || lpad(t::text, 16, '0'),"
                " '某市某路' || (t * $2 + 1) || '号' FROM generate_series(1, $1) t"
            ),
            traps,
            step,
        )
        await conn.execute("VACUUM ANALYZE customer.customer")
    finally:
        await conn.close()
    return {
        "base": base,
        "planted_duplicates": planted,
        "traps": traps,
        "load_s": round(time.perf_counter() - t, 1),
    }


def truth_of(planted: int, step: int) -> set[tuple[str, str]]:
    return {(f"KAB{j * step:012d}", f"KAP{j:012d}") for j in range(1, planted + 1)}


def score(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, Any]:
    hits = len(found & truth)
    return {
        "pairs": len(found),
        "true_pairs": hits,
        "precision": round(hits / len(found), 4) if found else None,
        "recall": round(hits / len(truth), 4) if truth else None,
    }


def _pair(a: str, b: str) -> tuple[str, str]:
    x, y = sorted((a, b))
    return (x, y)


async def bench_scan(url: str, dsn: str) -> tuple[float, list[tuple[str, str, int]]]:
    key = generate_signing_key()
    settings = Settings(
        node="hq",
        service="customer",
        topology_file=topology_file("demo"),
        database_url=url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        jwks_json=json.dumps({"keys": [public_jwk(key, KID)]}),
    )
    now = int(time.time())
    claims = {
        "sub": "bench",
        "node": "hq",
        "scope_node": "hq",
        "roles": ["ka_dept_manager"],
        "perms": ["customer:read", "customer:merge"],
        "iat": now,
        "exp": now + 86400,
        "aud": "kam",
    }
    headers = {"Authorization": f"Bearer {sign_token(key, KID, claims)}"}
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hq.kam.bench", timeout=3600.0) as c:
            t = time.perf_counter()
            r = await c.post("/api/v1/customer/duplicates/scan", headers=headers)
            elapsed = time.perf_counter() - t
            if r.status_code != 200:
                raise RuntimeError(f"scan: {r.status_code} {r.text[:300]}")
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT a.customer_code AS a, b.customer_code AS b, d.score FROM customer.duplicate_candidate d"
            " JOIN customer.customer a ON a.id = d.customer_a JOIN customer.customer b ON b.id = d.customer_b"
        )
    finally:
        await conn.close()
    return elapsed, [(*_pair(r["a"], r["b"]), r["score"]) for r in rows]


async def bench_group_by(dsn: str) -> tuple[float, set[tuple[str, str]]]:
    conn = await asyncpg.connect(dsn)
    try:
        t = time.perf_counter()
        rows = await conn.fetch(
            "SELECT array_agg(customer_code) AS codes FROM customer.customer"
            " WHERE deleted_at IS NULL AND credit_code IS NOT NULL GROUP BY credit_code HAVING count(*) > 1"
        )
        elapsed = time.perf_counter() - t
    finally:
        await conn.close()
    pairs = set()
    for r in rows:
        codes = sorted(r["codes"])
        pairs.update((a, b) for i, a in enumerate(codes) for b in codes[i + 1 :])
    return elapsed, pairs


async def main(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(),
        "customers": args.customers,
        "planted_share": args.planted_share,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    with tempfile.TemporaryDirectory(prefix="kam-bench-f1dup-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg" / "data", fast=False)
        pg.start()
        try:
            server = pg.dsn()
            ensure_database(server, "kam_bench")
            dsn = with_database(server, "kam_bench")
            url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
            upgrade(url, MIGRATIONS)
            log(f"loading {args.customers} customers, {args.planted_share:.1%} planted duplicates")
            result["load"] = load_info = await load(dsn, args.customers, args.planted_share)
            log(f"  {load_info}")
            step = max(1, load_info["base"] // load_info["planted_duplicates"])
            truth = truth_of(load_info["planted_duplicates"], step)
            result["loadavg_before"] = os.getloadavg()
            log("scan at hq through the app")
            scan_s, found = await bench_scan(url, dsn)
            pairs = {(a, b) for a, b, _ in found}
            strong = {(a, b) for a, b, s in found if s >= 70}
            result["scan"] = {"seconds": round(scan_s, 2), **score(pairs, truth), "score_gte_70": score(strong, truth)}
            log(f"  {result['scan']}")
            log("floor: GROUP BY credit_code")
            floor_s, floor_pairs = await bench_group_by(dsn)
            result["group_by_credit_code"] = {"seconds": round(floor_s, 2), **score(floor_pairs, truth)}
            result["scan_time_ratio_to_floor"] = round(scan_s / floor_s, 1) if floor_s else None
            result["loadavg_after"] = os.getloadavg()
            log(f"  {result['group_by_credit_code']}")
        finally:
            pg.stop()
    result["finished"] = datetime.now(UTC).isoformat()
    return result


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--planted-share", type=float, default=0.02, help="planted duplicates (a share of N)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a terminated run still stops its PostgreSQL
    result = asyncio.run(main(args))
    out = args.out or RESULTS / f"f1_duplicates-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{args.customers}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"wrote {out}")


if __name__ == "__main__":
    cli()
