"""How long a federation test's federation takes to start, phase by phase (docs/testing.md).

Starts the trio (hq → gd → gd-gz) exactly as the federation tests' `running()` does — `Federation(...,
process_per="node", use_environment=False, pg_fast=True).start()`, then the org staff and the national
rules seeded on every node — `--runs` times in fresh temporary directories, and times each phase with
`time.perf_counter`:

- `initdb` (EmbeddedPostgres.initdb), `pg_start` (pg_ctl start and the databases created), `nats`
  (every nats-server up and the leafnode links), `migrate` (every service's migrations on every node;
  per service and node below), `after_migrate` (the hooks, e.g. org's permission registry),
  `clone` (with `clone_databases`: each node's database created from the migrated template),
  `spawn` + `ready` (the node processes started, until every /ready and /health answers 200),
  `seed`, `stop`; `start` = initdb … ready, as `Federation.start()` measures it.

Beside each wall-clock figure the CPU used is recorded: this process and its waited-for children
(`getrusage`), the node processes and the PostgreSQL server (psutil; the postmaster and every backend
it reaped). The machine is shared: the load average before and after each run is recorded too.

Usage: uv run python bench/federation_start.py [--runs 3] [--label before] [--topology trio]
Results: bench/results/federation-start-<label>-<timestamp>.json; a summary (median [min–max]) is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def own_cpu() -> float:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def tree_cpu(pid: int | None) -> float:
    """CPU of a process, its live children and the children it reaped."""
    if pid is None:
        return 0.0
    try:
        p = psutil.Process(pid)
        t = p.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in p.children(recursive=True):
            with_child = child.cpu_times()
            total += with_child.user + with_child.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


class Timer:
    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t0, c0 = time.perf_counter(), own_cpu()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - t0
            self.cpu[name] += own_cpu() - c0

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.phase(name):
                return fn(*args, **kwargs)

        return timed


def one_run(topology: Path, clone: bool) -> dict[str, Any]:
    from kam_cli.runtime import Federation, default_migrate
    from kam_org.seed import seed as seed_org
    from kam_platform.embedded import postgres as pgmod
    from kam_rules.seed import seed as seed_rules

    timer = Timer()
    per_migration: dict[str, float] = defaultdict(float)  # "<service>@<node db>" → s
    scripts: dict[str, str] = {}

    def migrate(url: str, script: str) -> None:
        t0 = time.perf_counter()
        default_migrate(url, script)
        per_migration[f"{scripts.get(script, script)}@{url.rsplit('/', 1)[-1]}"] += time.perf_counter() - t0

    import kam_cli.runtime as runtime_module

    original_clone = getattr(runtime_module, "create_database_from", None)
    if original_clone is not None:
        runtime_module.create_database_from = timer.wrap("clone", original_clone)  # type: ignore[attr-defined]
    original_initdb = pgmod.EmbeddedPostgres.initdb
    pgmod.EmbeddedPostgres.initdb = timer.wrap("initdb", original_initdb)  # type: ignore[method-assign]
    base = Path(tempfile.mkdtemp(prefix="kam-benchstart-"))
    # what the federation tests pass (older checkouts have no such option: each node migrated)
    options = (
        {"clone_databases": True} if clone and "clone_databases" in inspect.signature(Federation).parameters else {}
    )
    load_before = os.getloadavg()
    try:
        fed = Federation(
            topology, base / "run", process_per="node", use_environment=False, pg_fast=True, migrate=migrate, **options
        )
        scripts.update({spec.migrations: name for name, spec in fed.specs.items() if spec.migrations})
        for method, name in [
            ("_start_postgres", "pg_start+initdb"),
            ("_start_nats", "nats"),
            ("_migrate", "migrate+after_migrate"),
            ("_start_services", "spawn"),
            ("wait_ready", "ready"),
        ]:
            setattr(fed, method, timer.wrap(name, getattr(fed, method)))
        t0 = time.perf_counter()
        try:
            fed.start()
            start_s = time.perf_counter() - t0
            pg_pid = fed.postgres.pid if fed.postgres else None
            node_cpu = sum(tree_cpu(pid) for pid in fed.pids() if pid != pg_pid and not _is_nats(pid))
            pg_cpu_ready = tree_cpu(pg_pid)
            with timer.phase("seed"):
                for node in fed.topology.ordered():
                    asyncio.run(seed_org(fed.database_url(node.code), node.code, fed.topology))
                    asyncio.run(seed_rules(fed.database_url(node.code), node.code, fed.topology))
        finally:
            with timer.phase("stop"):
                fed.stop()
    finally:
        pgmod.EmbeddedPostgres.initdb = original_initdb  # type: ignore[method-assign]
        if original_clone is not None:
            runtime_module.create_database_from = original_clone  # type: ignore[attr-defined]
        shutil.rmtree(base, ignore_errors=True)
    wall = dict(timer.wall)
    cpu = dict(timer.cpu)
    wall["pg_start"] = wall.pop("pg_start+initdb") - wall.get("initdb", 0.0)
    cpu["pg_start"] = cpu.pop("pg_start+initdb") - cpu.get("initdb", 0.0)
    migrations = sum(per_migration.values())
    wall["migrate"] = migrations
    wall["after_migrate"] = wall.pop("migrate+after_migrate") - migrations - wall.get("clone", 0.0)
    cpu["migrate+after_migrate"] = cpu.pop("migrate+after_migrate")
    per_service: dict[str, float] = defaultdict(float)
    for key, value in per_migration.items():
        per_service[key.split("@", 1)[0]] += value
    return {
        "start_s": round(start_s, 3),
        "wall_s": {k: round(v, 3) for k, v in wall.items()},
        "cpu_s": {k: round(v, 3) for k, v in cpu.items()},
        "cpu_at_ready_s": {"node_processes": round(node_cpu, 3), "postgres": round(pg_cpu_ready, 3)},
        "migrations_s": {k: round(v, 3) for k, v in sorted(per_migration.items())},
        "migrations_per_service_s": {k: round(v, 3) for k, v in per_service.items()},
        "clone_databases": bool(options),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }


def _is_nats(pid: int) -> bool:
    try:
        return "nats-server" in " ".join(psutil.Process(pid).cmdline())
    except psutil.NoSuchProcess:
        return False


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} [{min(values):.2f}–{max(values):.2f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--label", default="run")
    parser.add_argument("--topology", default="trio")
    parser.add_argument(
        "--migrate-each",
        action="store_true",
        help="every node's database migrated (kam up), not cloned from the template",
    )
    args = parser.parse_args()
    topology = ROOT / "deploy" / "topologies" / f"{args.topology}.yaml"
    runs = []
    for i in range(args.runs):
        result = one_run(topology, clone=not args.migrate_each)
        runs.append(result)
        print(f"run {i + 1}: start {result['start_s']:.1f} s {json.dumps(result['wall_s'])}", flush=True)
    keys = sorted({k for r in runs for k in r["wall_s"]})
    print(f"\n{args.topology}, {args.runs} runs: median [min–max] s (wall; cpu of this process)")
    print(f"{'start':24} {summary([r['start_s'] for r in runs])}")
    for key in keys:
        line = f"{key:24} {summary([r['wall_s'].get(key, 0.0) for r in runs])}"
        cpu_key = "migrate+after_migrate" if key == "migrate" else key
        if all(cpu_key in r["cpu_s"] for r in runs):
            line += f"   cpu {summary([r['cpu_s'][cpu_key] for r in runs])}" + (
                " (with after_migrate)" if cpu_key != key else ""
            )
        print(line)
    for key in sorted({k for r in runs for k in r["migrations_per_service_s"]}):
        print(f"  migrate {key:15} {summary([r['migrations_per_service_s'][key] for r in runs])}")
    for key in ("node_processes", "postgres"):
        print(f"cpu at ready: {key:10} {summary([r['cpu_at_ready_s'][key] for r in runs])}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"federation-start-{args.label}-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "label": args.label,
                "topology": args.topology,
                "cpus": os.cpu_count(),
                "python": sys.version,
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\n→ {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
