"""How long the `kam` command takes to answer (issue 10: "CLI commands answer in under 1 s").

Each command is run as a user runs it — `./kam …` from the repository root, a fresh Python process each
time — `--runs` times after one untimed warm-up run (page cache), and timed with `time.perf_counter`
around `subprocess.run`: wall-clock from fork to exit, interpreter start-up and imports included.
Per command the result file records every sample, the median, the min and the max, and the exit code
of every run (a run that failed is recorded, not hidden). The CPU time the command used (user + system
of the process and its children, from `getrusage(RUSAGE_CHILDREN)`) is recorded beside it: on a shared,
loaded machine the wall-clock time depends on the other work, the CPU time much less. The load average
before and after is recorded too.

The federation is started for the run in a temporary directory (`./kam up --detach` with the given
topology, then `./kam admin create` at every node, so `kam token` and the replication part of `kam status`
have their `admin`) and stopped at the end, or an already running one is measured with `--attach RUN_DIR`.

Usage: uv run python bench/cli.py [--topology deploy/topologies/demo.yaml] [--runs 7] [--label after]
       [--attach RUN_DIR]
Results: bench/results/cli-<timestamp>.json (docs/benchmarks.md quotes them through bench/report.py)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KAM = ROOT / "kam"
RESULTS = ROOT / "bench" / "results"
DEMO = ROOT / "deploy" / "topologies" / "demo.yaml"


def commands(leaf: str) -> dict[str, list[str]]:
    """Name (as the table shows it) → argv after `./kam`; `--run-dir` is added to those that take it."""
    return {
        "kam --help": ["--help"],
        "kam status": ["status"],
        "kam status --json": ["status", "--json"],
        f"kam token --node {leaf}": ["token", "--node", leaf, "--user", "admin"],
    }


def kam(args: list[str], *, check: bool = True, timeout: float = 900.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KAM), *args], cwd=ROOT, capture_output=True, text=True, check=check, timeout=timeout)


def time_command(argv: list[str], runs: int) -> dict[str, Any]:
    subprocess.run([str(KAM), *argv], cwd=ROOT, capture_output=True, check=False, timeout=300)  # warm-up
    samples: list[float] = []
    cpu: list[float] = []
    codes: list[int] = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([str(KAM), *argv], cwd=ROOT, capture_output=True, check=False, timeout=300)
        samples.append(round(time.perf_counter() - start, 4))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 4))
        codes.append(done.returncode)
    return {
        "argv": argv,
        "samples_s": samples,
        "exit_codes": codes,
        "median_s": round(statistics.median(samples), 4),
        "min_s": min(samples),
        "max_s": max(samples),
        "cpu_samples_s": cpu,
        "cpu_median_s": round(statistics.median(cpu), 4),
        "cpu_min_s": min(cpu),
        "cpu_max_s": max(cpu),
    }


def leaf_of(topology: Path) -> tuple[str, int]:
    """A local network of the topology (as the `kam up` banner names one) and the number of nodes."""
    from kam_platform.topology import Topology

    topo = Topology.load(topology)
    nodes = topo.ordered()
    leaf = next((n.code for n in nodes if not topo.children(n.code)), nodes[0].code)
    return leaf, len(nodes)


def nodes_of(topology: Path) -> list[str]:
    from kam_platform.topology import Topology

    return [n.code for n in Topology.load(topology).ordered()]


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--topology", type=Path, default=DEMO)
    ap.add_argument("--runs", type=int, default=7, help="timed runs per command (after one warm-up)")
    ap.add_argument("--label", default="", help="what code was measured, e.g. before / after (in the table)")
    ap.add_argument("--attach", type=Path, metavar="RUN_DIR", help="measure a federation already running there")
    ap.add_argument("--out", type=Path, help="result file (default bench/results/cli-<timestamp>.json)")
    args = ap.parse_args()

    topology = args.topology.absolute()
    leaf, n_nodes = leaf_of(topology)
    tmp: Path | None = None
    if args.attach is not None:
        run_dir = args.attach.absolute()
        state = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        topology = Path(state["topology_file"])
        leaf, n_nodes = leaf_of(topology)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="kam-bench-cli-"))
        run_dir = tmp / "run"
        print(f"starting the federation ({topology.name}) in {run_dir} …", flush=True)
        kam(["up", "--detach", "--topology", str(topology), "--run-dir", str(run_dir)])
        for code in nodes_of(topology):
            kam(["admin", "create", "--node", code, "--run-dir", str(run_dir)])
    try:
        load_before = os.getloadavg()
        measured: dict[str, Any] = {}
        for name, argv in commands(leaf).items():
            full = argv if argv == ["--help"] else [*argv, "--run-dir", str(run_dir)]
            measured[name] = time_command(full, args.runs)
            m = measured[name]
            print(
                f"{name:28} median {m['median_s']:.3f} s ({m['min_s']:.3f}–{m['max_s']:.3f}), "
                f"CPU {m['cpu_median_s']:.3f} s, exit {m['exit_codes']}",
                flush=True,
            )
        load_after = os.getloadavg()
    finally:
        if tmp is not None:
            kam(["down", "--purge", "--run-dir", str(run_dir)], check=False)
            shutil.rmtree(tmp, ignore_errors=True)

    now = datetime.now(UTC)
    result = {
        "kind": "cli",
        "label": args.label or git_commit(),
        "commit": git_commit(),
        "at": now.isoformat(timespec="seconds"),
        "topology": topology.name,
        "nodes": n_nodes,
        "runs": args.runs,
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
        },
        "commands": measured,
    }
    out = args.out or RESULTS / f"cli-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
