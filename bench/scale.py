"""How the stream layout scales: a simulated national topology of nats-servers only (no services)
— one group, P provinces, L local networks per province — each a leafnode of its parent with the
streams the sync service declares. Every local network publishes E events into its own stream; we
measure how long until the group's UP_ALL holds all of them, and the servers' memory.

Usage: uv run python bench/scale.py [--provinces 6] [--locals 5] [--events 2000]
Results: bench/results/scale-<timestamp>.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import psutil

from kam_platform.embedded.nats import NatsNode
from kam_platform.federation import declare
from kam_platform.topology import Topology

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"


def topology(provinces: int, locals_per: int) -> Topology:
    nodes: list[dict[str, Any]] = [{"code": "hq", "tier": "group"}]
    for p in range(provinces):
        pc = f"p{p:02d}"
        nodes.append({"code": pc, "tier": "province", "parent": "hq"})
        nodes += [{"code": f"{pc}-l{q:02d}", "tier": "local", "parent": pc} for q in range(locals_per)]
    return Topology.from_dict({"nodes": nodes})


async def run(topo: Topology, base: Path, events: int) -> dict[str, Any]:
    servers: dict[str, NatsNode] = {}
    t0 = time.monotonic()
    for node in topo.ordered():
        parent = servers[node.parent].leaf_url if node.parent else None
        srv = NatsNode(
            node.code, base / node.code, accept_leafnodes=bool(topo.children(node.code)), parent_leaf_url=parent
        )
        srv.start()
        servers[node.code] = srv
    started = time.monotonic() - t0
    try:
        conns = {c: await nats.connect(s.url) for c, s in servers.items()}
        for code, nc in conns.items():
            await declare(nc.jetstream(), topo, code)
        locals_ = [n.code for n in topo if not topo.children(n.code)]
        total = events * len(locals_)
        t1 = time.monotonic()

        async def publish(code: str) -> None:
            js = conns[code].jetstream()
            futs = [
                js.publish(f"up.{code}.customer.customer.{i}", b"x" * 300, headers={"Nats-Msg-Id": f"{code}-{i}"})
                for i in range(events)
            ]
            for k in range(0, len(futs), 500):
                await asyncio.gather(*futs[k : k + 500])

        await asyncio.gather(*(publish(c) for c in locals_))
        published = time.monotonic() - t1
        hq = conns["hq"].jetstream()
        while (await hq.stream_info("UP_ALL")).state.messages < total:
            if time.monotonic() - t1 > 600:
                break
            await asyncio.sleep(0.2)
        arrived = time.monotonic() - t1
        count = (await hq.stream_info("UP_ALL")).state.messages
        rss = sum(psutil.Process(s.pid).memory_info().rss for s in servers.values() if s.pid)
        for nc in conns.values():
            await nc.close()
        return {
            "nodes": len(servers),
            "local_networks": len(locals_),
            "events": total,
            "at_group": count,
            "servers_start_s": round(started, 1),
            "publish_s": round(published, 1),
            "all_at_group_s": round(arrived, 1),
            "rate_to_group_per_s": round(count / arrived),
            "nats_rss_total_mb": round(rss / 2**20),
            "nats_rss_per_server_mb": round(rss / 2**20 / len(servers), 1),
        }
    finally:
        for s in servers.values():
            s.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--provinces", type=int, default=6)
    ap.add_argument("--locals", type=int, default=5)
    ap.add_argument("--events", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kam-scale-") as tmp:
        result = asyncio.run(run(topology(args.provinces, args.locals), Path(tmp), args.events))
    result["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform()}
    print(json.dumps(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"scale-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
