"""KAM catalogue publication benchmark (issue 11).

(h) national offerings published at hq through the API (`POST …/productOffering`, active) on the demo
    federation (six nodes, one process per node, durable PostgreSQL); the visibility lag of each at each
    local network = when that node's sales apply committed the event (its `sales.inbox.applied_at`) minus
    when hq wrote it (the UUIDv7 time of the event id); per offering the slowest local network counts
    ("visible at every local network"). p50/p95/p99. Goal p99 < 1 s.

Usage: uv run python bench/sales_catalog.py [--offerings 200] [--rate 10]
Results: bench/results/sales-catalog-<timestamp>.json
"""

from __future__ import annotations

import argparse
import asyncio
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
import httpx

from kam_cli.runtime import Federation

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "deploy" / "topologies" / "demo.yaml"
RESULTS = ROOT / "bench" / "results"
OFFERINGS = "/tmf-api/productCatalogManagement/v4/productOffering"
EVENT = "kam.v1.CatalogItemChanged"


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def uuid7_ms(u: uuid.UUID) -> int:
    return u.int >> 80


async def run(fed: Federation, n: int, rate: float) -> dict[str, Any]:
    from kam_org.seed import seed as seed_org
    from kam_org.tokens import issue_token

    await seed_org(fed.database_url("hq"), "hq", fed.topology)
    token = await issue_token(fed.database_url("hq"), "hq", "admin", fed.topology)
    locals_ = [x.code for x in fed.topology.ordered() if not fed.topology.children(x.code)]
    hq = await asyncpg.connect(dsn(fed.database_url("hq")))
    started = time.time()
    ids = []
    async with httpx.AsyncClient(
        base_url=fed.node_url("hq"), headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        t0 = time.monotonic()
        for i in range(n):
            body = {"name": f"基准产品 {i}", "lifecycleStatus": "active", "validFor": {"startDateTime": "2026-01-01"}}
            r = await http.post(OFFERINGS, json=body)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
            await asyncio.sleep(max(0.0, t0 + (i + 1) / rate - time.monotonic()))
    events = {
        r["id"]: r["aggregate_id"]
        for r in await hq.fetch(
            "SELECT id, aggregate_id FROM sales.outbox WHERE event_type = $1 AND aggregate_id = ANY($2::text[]) "
            "AND subject LIKE 'down.%'",  # the root's own upward copy (for its /hub) goes nowhere
            EVENT,
            ids,
        )
    }
    await hq.close()
    applied: dict[str, dict[uuid.UUID, float]] = {}
    deadline = time.monotonic() + 300
    for node in locals_:
        conn = await asyncpg.connect(dsn(fed.database_url(node)))
        try:
            while True:
                rows = await conn.fetch(
                    "SELECT event_id, applied_at FROM sales.inbox WHERE event_id = ANY($1::uuid[])", list(events)
                )
                if len(rows) >= len(events) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            applied[node] = {r["event_id"]: r["applied_at"].timestamp() * 1000 for r in rows}
        finally:
            await conn.close()
    lags = []
    for ev in events:
        at = [applied[node].get(ev) for node in locals_]
        if all(a is not None for a in at):
            lags.append(max(a for a in at if a is not None) - uuid7_ms(ev))
    return {
        "offerings": n,
        "rate_per_s": rate,
        "local_networks": locals_,
        "events": len(events),
        "visible_everywhere": len(lags),
        "wall_s": round(time.time() - started, 1),
        "lag_ms": {f"p{p}": round(pct(lags, p), 1) for p in (50, 95, 99)} | {"max": round(max(lags, default=0), 1)},
        "goal_p99_ms": 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--offerings", type=int, default=int(os.environ.get("KAM_BENCH_OFFERINGS", 200)))
    ap.add_argument("--rate", type=float, default=10.0)
    args = ap.parse_args()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "started_at": datetime.now(UTC).isoformat(),
        "load_average_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="kam-bench-catalog-") as tmp:
        fed = Federation(DEMO, Path(tmp) / "run", process_per="node", use_environment=False, pg_fast=False)
        try:
            fed.start()
            results["h_publication"] = asyncio.run(run(fed, args.offerings, args.rate))
            print("h", json.dumps(results["h_publication"], ensure_ascii=False))
        finally:
            fed.stop()
    results["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"sales-catalog-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
