"""The benchmark table, built only from the result files in bench/results/ (no figure typed by hand).

For every figure: the median and the min–max of ALL recorded runs with the same parameters, how many
runs, and which files they came from. A goal is "yes" only when every run meets it; when the median
meets it but some run does not, the table says so. Result files that no figure reads are listed, so a
run cannot disappear from the table unnoticed.

Usage: uv run python bench/report.py [--results DIR] [--write docs/benchmarks.md | --check docs/benchmarks.md]
(--write replaces the block between the BEGIN/END markers in that file; --check exits 1 when it is stale).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
BEGIN = "<!-- BEGIN bench/report.py: generated from bench/results/*.json, do not edit by hand -->"
END = "<!-- END bench/report.py -->"


class ReportError(Exception):
    """A result file or target document the report cannot use."""


@dataclass(frozen=True)
class Goal:
    op: str  # "<", "<=" or ">="
    limit: float
    unit: str = ""
    # the goal holds only for runs with these parameters (e.g. import time at 1,000,000 customers)
    when: tuple[tuple[str, Any], ...] = ()

    def meets(self, value: float) -> bool:
        if self.op == "<":
            return value < self.limit
        if self.op == "<=":
            return value <= self.limit
        return value >= self.limit

    def applies(self, params: tuple[tuple[str, Any], ...]) -> bool:
        return all(dict(params).get(k) == v for k, v in self.when)

    @property
    def worst(self) -> str:
        return "min" if self.op == ">=" else "max"

    def text(self) -> str:
        op = {"<": "<", "<=": "≤", ">=": "≥"}[self.op]
        return f"{op} {self.limit:g}{' ' + self.unit if self.unit else ''}"


@dataclass(frozen=True)
class Metric:
    section: str
    kind: str  # result file name prefix: customer, federation, scale
    label: str
    path: tuple[str, ...]  # keys into the result JSON
    unit: str
    params: tuple[tuple[str, tuple[str, ...]], ...]  # name → path of the parameters that group runs
    decimals: int = 1
    goal: Goal | None = None


@dataclass
class Row:
    metric: Metric
    params: tuple[tuple[str, Any], ...]
    runs: list[tuple[str, float]] = field(default_factory=list)  # (file name, value)

    @property
    def values(self) -> list[float]:
        return [v for _, v in self.runs]

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    def verdict(self) -> str:
        goal = self.metric.goal
        if goal is None or not goal.applies(self.params):
            return "—"
        meeting = sum(goal.meets(v) for v in self.values)
        n = len(self.values)
        if meeting == n:
            return "yes" if n == 1 else f"yes (all {n} runs)"
        if goal.meets(self.median):
            return f"**no**: median meets, {goal.worst} misses ({meeting} of {n} runs meet)"
        if meeting == 0:
            return "**no**" if n == 1 else f"**no** (none of {n} runs)"
        return f"**no**: median misses ({meeting} of {n} runs meet)"


def _customer_metrics() -> list[Metric]:
    size = (("customers", ("customers",)),)
    creates = (
        ("creates per level", ("create", "n")),
        ("pool", ("create", "pool_size")),
        ("client", ("create", "client")),
        ("customers there", ("create", "base_customers")),
        ("code", ("create", "code")),
    )
    out: list[Metric] = []
    for c in ("1", "8", "32"):
        level = ("create", "levels", c)
        out += [
            Metric(
                "customer", "customer", f"API create over HTTP, {c} clients", (*level, "api_per_second"), "/s", creates
            ),
            Metric("customer", "customer", f"API create, {c} clients, p50", (*level, "api_p50_ms"), "ms", creates),
            Metric("customer", "customer", f"API create, {c} clients, p95", (*level, "api_p95_ms"), "ms", creates),
            Metric(
                "customer",
                "customer",
                f"API create, {c} clients, the server's CPU per create",
                (*level, "api_server_cpu_ms"),
                "ms",
                creates,
                2,
            ),
            Metric(
                "customer",
                "customer",
                f"ceiling: raw asyncpg, the same rows in one transaction, {c} clients",
                (*level, "raw_per_second"),
                "/s",
                creates,
            ),
            Metric("customer", "customer", f"ceiling, {c} clients, p95", (*level, "raw_p95_ms"), "ms", creates),
            Metric(
                "customer",
                "customer",
                f"API create ÷ raw same rows, {c} clients",
                (*level, "ratio_api_to_raw"),
                "",
                creates,
                2,
                Goal(">=", 0.5) if c == "32" else None,
            ),
        ]
    out += [
        Metric(
            "customer",
            "customer",
            "context: single-row INSERT, autocommit, 1 client",
            ("create", "single_insert_per_second"),
            "/s",
            creates,
        ),
        Metric("customer", "customer", "API create, sequential", ("create", "api_per_second"), "/s", size, 1),
        Metric("customer", "customer", "ceiling: raw asyncpg INSERT", ("create", "raw_per_second"), "/s", size, 0),
        Metric(
            "customer",
            "customer",
            "API create ÷ raw INSERT",
            ("create", "ratio_api_to_raw"),
            "",
            size,
            2,
            Goal(">=", 0.5),
        ),
    ]
    for key, fmt in (("import", "CSV"), ("import_xlsx", "XLSX")):
        # the CSV rows keep their labels of before the XLSX import was measured (the runs group by label)
        of = "" if fmt == "CSV" else f" ({fmt})"
        imported = (*size, ("code", (key, "code")))
        out += [
            Metric(
                "customer",
                "customer",
                f"import from {fmt}",
                (key, "import_seconds"),
                "s",
                imported,
                1,
                Goal("<=", 60, "s", (("customers", 1_000_000),)),
            ),
            Metric("customer", "customer", f"import rows/s{of}", (key, "import_rows_per_second"), "/s", imported, 0),
        ]
        if fmt == "CSV":  # one ceiling: the XLSX holds the same rows as the CSV, copied once
            out.append(
                Metric(
                    "customer",
                    "customer",
                    "ceiling: raw COPY of the same file",
                    (key, "raw_copy_seconds"),
                    "s",
                    imported,
                )
            )
        out.append(
            Metric(
                "customer",
                "customer",
                f"raw COPY time ÷ import time{of}",
                (key, "ratio_import_to_raw_copy"),
                "",
                imported,
                3,
                Goal(">=", 0.5),
            )
        )
    for user in ("hq", "gd", "gd-gz"):
        for query in ("list", "q=银行", "q=人民医院"):
            key = f"{user} {query}"
            what = "scoped list with X-Total-Count" if query == "list" else f"search `{query}`"
            listed = (*size, ("code", ("list_code",)))
            counted = (*listed, ("count is", ("list", key, "total_relation")))
            out.append(
                Metric(
                    "customer", "customer", f"{what}, {user}, count answered", ("list", key, "total"), "", counted, 0
                )
            )
            out.append(Metric("customer", "customer", f"{what}, {user}, p50", ("list", key, "p50_ms"), "ms", listed))
            out.append(
                Metric(
                    "customer",
                    "customer",
                    f"{what}, {user}, p95",
                    ("list", key, "p95_ms"),
                    "ms",
                    listed,
                    1,
                    Goal("<", 100, "ms"),
                )
            )
    out += [
        Metric("customer", "customer", "export to XLSX", ("export_xlsx", "seconds"), "s", size),
        Metric(
            "customer",
            "customer",
            "export to XLSX, server peak RSS",
            ("export_xlsx", "server_peak_rss_mb"),
            "MB",
            size,
            1,
            Goal("<", 256, "MB"),
        ),
    ]
    return out


def _federation_metrics() -> list[Metric]:
    lag = (("rate/s", ("e_lag", "target_rate")), ("duration s", ("e_lag", "duration_s")))
    backlog = (("backlog", ("f_catchup", "backlog")), ("code", ("f_catchup", "apply_code")))
    out = [
        Metric("federation", "federation", f"e: local → group lag, {p}", ("e_lag", "lag_ms", p), "ms", lag, 1, goal)
        for p, goal in (("p50", None), ("p95", None), ("p99", Goal("<", 1000, "ms")), ("max", None))
    ]
    out.append(Metric("federation", "federation", "e: events applied at hq", ("e_lag", "applied_at_hq"), "", lag, 0))
    f = "f: catch-up after the province's nats-server was stopped"
    out += [
        Metric(
            "federation",
            "federation",
            f"{f}, restart → first applied",
            ("f_catchup", "resume_to_first_applied_s"),
            "s",
            backlog,
        ),
        Metric(
            "federation",
            "federation",
            f"{f}, restart → converged",
            ("f_catchup", "resume_to_converged_s"),
            "s",
            backlog,
        ),
        Metric("federation", "federation", f"{f}, apply rate", ("f_catchup", "apply_rate_per_s"), "/s", backlog, 0),
        Metric(
            "federation",
            "federation",
            "f: ceiling: JetStream pull + row-by-row upsert (before issue 13)",
            ("f_catchup", "ceiling_consume_upsert_per_s"),
            "/s",
            backlog,
            0,
        ),
        Metric(
            "federation",
            "federation",
            "f: in-federation apply rate ÷ ceiling",
            ("f_catchup", "ratio_to_ceiling"),
            "",
            backlog,
            2,
            Goal(">=", 0.5),
        ),
        Metric(
            "federation",
            "federation",
            "f: ceiling: JetStream pull + set-based upsert (COPY, one INSERT … ON CONFLICT per batch)",
            ("f_catchup", "ceiling_consume_setbased_per_s"),
            "/s",
            backlog,
            0,
        ),
        Metric(
            "federation",
            "federation",
            "f: in-federation apply rate ÷ set-based ceiling",
            ("f_catchup", "ratio_to_setbased_ceiling"),
            "",
            backlog,
            2,
            Goal(">=", 0.5),
        ),
        Metric(
            "federation",
            "federation",
            "f: ceiling: set-based raw upsert of the same events",
            ("f_catchup", "isolated_apply", "raw_setbased_upsert_per_s"),
            "/s",
            backlog,
            0,
        ),
        Metric(
            "federation",
            "federation",
            "f: apply path alone ÷ set-based raw upsert",
            ("f_catchup", "isolated_apply", "ratio_to_setbased"),
            "",
            backlog,
            2,
            Goal(">=", 0.5),
        ),
        Metric(
            "federation",
            "federation",
            "f: apply path alone (isolated_apply)",
            ("f_catchup", "isolated_apply", "service_apply_per_s"),
            "/s",
            backlog,
            0,
        ),
        Metric(
            "federation",
            "federation",
            "f: ceiling: row-by-row raw upsert of the same events (before issue 13)",
            ("f_catchup", "isolated_apply", "raw_upsert_per_s"),
            "/s",
            backlog,
            0,
        ),
        Metric(
            "federation",
            "federation",
            "f: apply path alone ÷ raw upsert",
            ("f_catchup", "isolated_apply", "ratio"),
            "",
            backlog,
            2,
            Goal(">=", 0.5),
        ),
    ]
    return out


def _import_metrics() -> list[Metric]:
    size = (("customers", ("g_import", "customers")), ("code", ("g_import", "apply_code")))
    g = "g: import at gd-gz"
    return [
        Metric("federation", "federation", f"{g}, the import itself", ("g_import", "import_s"), "s", size),
        Metric(
            "federation", "federation", f"{g}, commit → all at hq", ("g_import", "commit_to_all_at_hq_s"), "s", size
        ),
        Metric(
            "federation",
            "federation",
            f"{g}, start → all at hq",
            ("g_import", "start_to_all_at_hq_s"),
            "s",
            size,
            1,
            Goal("<=", 120, "s", (("customers", 1_000_000),)),
        ),
    ]


def _scale_metrics() -> list[Metric]:
    shape = (("nats-servers", ("nodes",)), ("local networks", ("local_networks",)), ("events", ("events",)))
    return [
        Metric("scale", "scale", "events at the group's UP_ALL", ("at_group",), "", shape, 0),
        Metric("scale", "scale", "publish → all at the group", ("all_at_group_s",), "s", shape),
        Metric("scale", "scale", "rate into the group", ("rate_to_group_per_s",), "/s", shape, 0),
        Metric("scale", "scale", "nats-server RSS per server", ("nats_rss_per_server_mb",), "MB", shape),
    ]


def _ka_lookup_metrics() -> list[Metric]:
    size = (("customers", ("customers",)), ("numbers", ("load", "numbers")), ("open tickets", ("load", "tickets")))
    k = "ka_lookup"
    return [
        Metric(k, k, "KA_LOOKUP through the service app, p50", ("lookup", "api_p50_ms"), "ms", size),
        Metric(k, k, "KA_LOOKUP through the service app, p95", ("lookup", "api_p95_ms"), "ms", size),
        Metric(
            k, k, "KA_LOOKUP through the service app, p99", ("lookup", "api_p99_ms"), "ms", size, 1, Goal("<", 20, "ms")
        ),
        Metric(k, k, "ceiling: the same two reads on bare asyncpg, p50", ("lookup", "raw_p50_ms"), "ms", size),
        Metric(k, k, "ceiling: the same two reads on bare asyncpg, p99", ("lookup", "raw_p99_ms"), "ms", size),
        Metric(k, k, "context: load average (1 min) before the calls", ("loadavg_before", "1m"), "", size, 2),
    ]


def _knowledge_metrics() -> list[Metric]:
    # runs before the rank window (issue 12's first measurement) record no rank_window: a row of their own
    size = (("items", ("items",)), ("limit", ("limit",)), ("rank window", ("rank_window",)))
    k = "knowledge"
    out: list[Metric] = []
    for q in ("专线", "等保", "量子密话", "智慧医院 天翼云"):
        s = ("search", q)
        out += [
            Metric(k, k, f"`q={q}`: matches (X-Total-Count)", (*s, "total"), "", size, 0),
            Metric(k, k, f"`q={q}` through the API (uvicorn), p50", (*s, "api_p50_ms"), "ms", size),
            Metric(k, k, f"`q={q}` through the API (uvicorn), p95", (*s, "api_p95_ms"), "ms", size),
            Metric(k, k, f"`q={q}` through the API (uvicorn), p99", (*s, "api_p99_ms"), "ms", size),
            Metric(k, k, f"ceiling: the same SQL on bare asyncpg, `q={q}`, p95", (*s, "raw_p95_ms"), "ms", size),
            Metric(k, k, f"ceiling: the same SQL on bare asyncpg, `q={q}`, p99", (*s, "raw_p99_ms"), "ms", size),
        ]
    out += [
        Metric(k, k, "load: bigram GIN index build", ("load", "index_build_seconds"), "s", size),
        Metric(k, k, "load: bigram GIN index size", ("load", "bigram_index_mb"), "MB", size),
        Metric(k, k, "context: load average (1 min) before the calls", ("loadavg_before", "1m"), "", size, 2),
    ]
    return out


def _sla_metrics() -> list[Metric]:
    run = (("tickets", ("tickets",)), ("code", ("label",)))
    backlog = (*run, ("backlog min", ("backlog_minutes",)))
    k = "sla"
    return [
        Metric(k, k, "tick of 30 s: tickets due per pass, median", ("tick", "due_per_pass_median"), "", run, 1),
        Metric(k, k, "tick of 30 s: one evaluator pass, median", ("tick", "pass_median_s"), "s", run, 3),
        Metric(k, k, "tick of 30 s: one evaluator pass, slowest", ("tick", "pass_max_s"), "s", run, 3),
        Metric(k, k, "tick of 30 s: tickets evaluated per second", ("tick", "evaluated_per_second"), "/s", run, 0),
        Metric(k, k, "ceiling: raw indexed scan, tick, median", ("tick", "raw_scan_median_s"), "s", run, 4),
        Metric(k, k, "backlog: tickets due", ("backlog", "due"), "", backlog, 0),
        Metric(k, k, "backlog: one evaluator pass", ("backlog", "seconds"), "s", backlog, 1),
        Metric(k, k, "backlog: tickets evaluated per second", ("backlog", "evaluated_per_second"), "/s", backlog, 0),
        Metric(k, k, "backlog: steps fired per second", ("backlog", "steps_fired_per_second"), "/s", backlog, 0),
        Metric(
            k, k, "ceiling: raw indexed scan, backlog, rows/s", ("backlog", "raw_rows_per_second"), "/s", backlog, 0
        ),
        Metric(k, k, "evaluator ÷ raw scan, backlog", ("backlog", "ratio_evaluator_to_raw"), "", backlog, 4),
        Metric(k, k, "context: load average (1 min) before the passes", ("loadavg_before", "1m"), "", run, 2),
    ]


def _cli_metrics() -> list[Metric]:
    run = (("code", ("label",)), ("nodes", ("nodes",)))
    out: list[Metric] = []
    for name in ("kam --help", "kam status", "kam status --json", "kam token --node gd-gz"):
        cmd = ("commands", name)
        out += [
            Metric("cli", "cli", f"`{name}`, wall clock, median", (*cmd, "median_s"), "s", run, 2, Goal("<", 1, "s")),
            Metric("cli", "cli", f"`{name}`, wall clock, fastest run", (*cmd, "min_s"), "s", run, 2),
            Metric("cli", "cli", f"`{name}`, wall clock, slowest run", (*cmd, "max_s"), "s", run, 2),
            Metric("cli", "cli", f"`{name}`, CPU time, median", (*cmd, "cpu_median_s"), "s", run, 2),
        ]
    return out


def _sales_metrics() -> list[Metric]:
    # runs that read the roll-up record its size; the first run (before the roll-up) does not
    size = (("opportunities", ("opportunities",)), ("roll-up rows", ("forecast_funnel", "rollup", "rows")))
    g = ("forecast_funnel",)
    out: list[Metric] = []
    for key, what in (
        ("forecast_by_node", "forecast by node"),
        ("forecast_by_account_manager", "forecast by account manager"),
        ("funnel", "funnel"),
    ):
        out += [
            Metric("sales", "sales", f"{what} at hq, one year, p50", (*g, key, "p50_ms"), "ms", size),
            Metric(
                "sales",
                "sales",
                f"{what} at hq, one year, p95",
                (*g, key, "p95_ms"),
                "ms",
                size,
                1,
                Goal("<", 200, "ms"),
            ),
        ]
    for key, what in (
        ("raw_forecast", "ceiling: raw asyncpg, the forecast's aggregate over the opportunities"),
        ("raw_funnel", "ceiling: raw asyncpg, the funnel's aggregate over the opportunities"),
        ("raw_rollup_forecast", "ceiling: raw asyncpg, the forecast's aggregate over the roll-up"),
        ("raw_rollup_funnel", "ceiling: raw asyncpg, the funnel's aggregate over the roll-up"),
    ):
        out.append(Metric("sales", "sales", f"{what}, p95", (*g, key, "p95_ms"), "ms", size))
    out += [
        Metric(
            "sales",
            "sales",
            "raw roll-up aggregate ÷ API, forecast by node (p95)",
            (*g, "ratio_raw_rollup_to_api_forecast_by_node_p95"),
            "",
            size,
            3,
        ),
        Metric(
            "sales",
            "sales",
            "raw roll-up aggregate ÷ API, funnel (p95)",
            (*g, "ratio_raw_rollup_to_api_funnel_p95"),
            "",
            size,
            3,
        ),
        Metric(
            "sales",
            "sales",
            "roll-up rows differing from a fresh aggregate after the load",
            (*g, "rollup", "rows_differing_from_a_fresh_aggregate"),
            "",
            size,
            0,
            Goal("<=", 0),
        ),
    ]
    pub = (("offerings", ("h_publication", "offerings")), ("rate/s", ("h_publication", "rate_per_s")))
    lag = ("h_publication", "lag_ms")
    c = "sales-catalog"
    out += [
        Metric("sales", c, "catalogue publication hq → slowest local network, p50", (*lag, "p50"), "ms", pub),
        Metric("sales", c, "catalogue publication, p95", (*lag, "p95"), "ms", pub),
        Metric("sales", c, "catalogue publication, p99", (*lag, "p99"), "ms", pub, 1, Goal("<", 1000, "ms")),
        Metric(
            "sales",
            c,
            "catalogue publication, offerings visible everywhere",
            ("h_publication", "visible_everywhere"),
            "",
            pub,
            0,
        ),
    ]
    return out


METRICS: tuple[Metric, ...] = (
    *_customer_metrics(),
    *_federation_metrics(),
    *_import_metrics(),
    *_scale_metrics(),
    *_ka_lookup_metrics(),
    *_knowledge_metrics(),
    *_sla_metrics(),
    *_cli_metrics(),
    *_sales_metrics(),
)
SECTIONS = {
    "customer": "Customer service (`bench/run.py`)",
    "federation": "Federation, three real nodes hq → gd → gd-gz (`bench/federation.py`)",
    "scale": "Stream layout at scale, nats-servers only (`bench/scale.py`)",
    "cli": "The `kam` command, demo federation (`bench/cli.py`; a fresh process per run, after one warm-up)",
    "ka_lookup": "KA_LOOKUP at a local network, the 10000 interface (`bench/ka_lookup.py`)",
    "knowledge": "Knowledge search at a province, bigram index (`bench/knowledge.py`)",
    "sla": "SLA evaluator at a local network (`bench/sla.py`; the service's evaluator, its clock moved on)",
    "sales": "Sales: forecast and funnel at hq (`bench/sales.py`), catalogue publication (`bench/sales_catalog.py`)",
}


def _lookup(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def load(results: Path) -> dict[str, dict[str, Any]]:
    """file name → parsed result, every *.json in `results`."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(results.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ReportError(f"{path}: not a readable JSON result file ({exc})") from exc
        if not isinstance(data, dict):
            raise ReportError(f"{path}: a result file holds one JSON object, not {type(data).__name__}")
        out[path.name] = data
    return out


def build(files: dict[str, dict[str, Any]], metrics: Iterable[Metric] = METRICS) -> tuple[list[Row], list[str]]:
    """The rows (one per metric and parameter set that has runs) and the files no row used."""
    rows: dict[tuple[int, tuple[tuple[str, Any], ...]], Row] = {}
    used: set[str] = set()
    for index, metric in enumerate(metrics):
        for name, data in files.items():
            if not name.startswith(metric.kind + "-"):
                continue
            value = _lookup(data, metric.path)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            params = tuple((label, _lookup(data, path)) for label, path in metric.params)
            row = rows.setdefault((index, params), Row(metric, params))
            row.runs.append((name, float(value)))
            used.add(name)
    ordered = sorted(rows.items(), key=lambda item: (item[0][0], [_sort_key(v) for _, v in item[0][1]]))
    return [row for _, row in ordered], sorted(set(files) - used)


def _sort_key(value: Any) -> tuple[int, float, str]:
    return (0, float(value), "") if isinstance(value, int | float) else (1, 0.0, str(value))


def _number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit.startswith("/") else f"{text} {unit}"


def _params_text(params: tuple[tuple[str, Any], ...]) -> str:
    def show(v: Any) -> str:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return f"{v:,}" if isinstance(v, int) else str(v)

    # a parameter a result file does not record (an older file) is left out
    return ", ".join(f"{k} {show(v)}" for k, v in params if v is not None)


def render(rows: Sequence[Row], unused: Sequence[str]) -> str:
    lines: list[str] = []
    for section, title in SECTIONS.items():
        mine = [r for r in rows if r.metric.section == section]
        if not mine:
            continue
        lines += [
            f"### {title}",
            "",
            "| figure | parameters | median | min–max | runs | goal | met? | result files |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in mine:
            m = r.metric
            lo, hi = min(r.values), max(r.values)
            span = _number(lo, m.decimals) if lo == hi else f"{_number(lo, m.decimals)}–{_number(hi, m.decimals)}"
            goal = m.goal.text() if m.goal is not None and m.goal.applies(r.params) else "—"
            files = ", ".join(f"`{name}`" for name, _ in r.runs)
            lines.append(
                f"| {m.label} | {_params_text(r.params)} | {_with_unit(_number(r.median, m.decimals), m.unit)} "
                f"| {_with_unit(span, m.unit)} | {len(r.runs)} | {goal} | {r.verdict()} | {files} |"
            )
        lines.append("")
    if unused:
        lines += ["Result files no figure reads: " + ", ".join(f"`{n}`" for n in unused), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def splice(document: str, table: str) -> str:
    """`document` with the text between BEGIN and END replaced by `table`."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < 0 or end < start:
        raise ReportError(f"the document has no generated block (a line {BEGIN!r} and, after it, {END!r})")
    return document[: start + len(BEGIN)] + "\n\n" + table + "\n" + document[end:]


def main(argv: Sequence[str] | None = None, out: Callable[[str], object] = sys.stdout.write) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--results", type=Path, default=RESULTS, help="directory of result JSON files")
    target = ap.add_mutually_exclusive_group()
    target.add_argument("--write", type=Path, metavar="DOC", help="replace the generated block in DOC")
    target.add_argument("--check", type=Path, metavar="DOC", help="exit 1 when DOC's generated block is stale")
    args = ap.parse_args(argv)
    try:
        rows, unused = build(load(args.results))
        table = render(rows, unused)
        doc = args.write or args.check
        if doc is None:
            out(table)
            return 0
        try:
            current = doc.read_text(encoding="utf-8")
        except OSError as exc:
            raise ReportError(f"{doc}: {exc}") from exc
        updated = splice(current, table)
    except ReportError as exc:
        print(f"bench/report.py: {exc}", file=sys.stderr)
        return 2
    if args.check is not None:
        if updated != current:
            print(
                f"{doc}: the benchmark table is stale; run: uv run python bench/report.py --write {doc}",
                file=sys.stderr,
            )
            return 1
        return 0
    if updated != current:
        doc.write_text(updated, encoding="utf-8")
    out(table)
    out(f"(written to {doc})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
