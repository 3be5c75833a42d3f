"""bench/report.py: every recorded run is in the table, goals are met only when every run meets them,
and docs/benchmarks.md carries the table the committed result files give."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kam_bench_report", REPO / "bench" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


report = _load_report()


def _write(results: Path, name: str, data: dict[str, Any]) -> None:
    results.mkdir(exist_ok=True)
    (results / name).write_text(json.dumps(data), encoding="utf-8")


def _list_run(customers: int, hq_p95: float) -> dict[str, Any]:
    return {"customers": customers, "list": {"hq list": {"total": customers, "p50_ms": 10.0, "p95_ms": hq_p95}}}


def _row(rows: list[Any], label: str, **params: Any) -> Any:
    found = [r for r in rows if r.metric.label == label and all(dict(r.params).get(k) == v for k, v in params.items())]
    assert len(found) == 1, [(r.metric.label, r.params) for r in rows]
    return found[0]


def test_median_and_range_cover_every_recorded_run(tmp_path: Path) -> None:
    for name, rate in (("a", 41.5), ("b", 96.8), ("c", 135.0)):
        _write(tmp_path, f"customer-{name}.json", {"customers": 100000, "create": {"api_per_second": rate}})
    rows, unused = report.build(report.load(tmp_path))
    row = _row(rows, "API create, sequential", customers=100000)
    assert sorted(row.values) == [41.5, 96.8, 135.0]
    assert row.median == 96.8
    assert [name for name, _ in row.runs] == ["customer-a.json", "customer-b.json", "customer-c.json"]
    line = next(line for line in report.render(rows, unused).splitlines() if "API create, sequential" in line)
    assert "| 96.8/s | 41.5–135.0/s | 3 |" in line
    assert "`customer-a.json`, `customer-b.json`, `customer-c.json`" in line


def test_a_goal_is_not_met_when_any_run_misses_it(tmp_path: Path) -> None:
    for name, p95 in (("a", 61.0), ("b", 67.0), ("c", 103.9)):
        _write(tmp_path, f"customer-{name}.json", _list_run(1000000, p95))
    rows, _ = report.build(report.load(tmp_path))
    verdict = _row(rows, "scoped list with X-Total-Count, hq, p95").verdict()
    assert not verdict.startswith("yes")
    assert "median meets, max misses" in verdict and "2 of 3 runs meet" in verdict


def test_a_higher_is_better_goal_names_the_minimum(tmp_path: Path) -> None:
    for name, ratio in (("a", 0.78), ("b", 0.69), ("c", 0.2)):
        _write(
            tmp_path, f"federation-{name}.json", {"f_catchup": {"backlog": 30000, "isolated_apply": {"ratio": ratio}}}
        )
    rows, _ = report.build(report.load(tmp_path))
    verdict = _row(rows, "f: apply path alone ÷ raw upsert").verdict()
    assert "median meets, min misses" in verdict


def test_goal_is_yes_only_when_every_run_meets_it(tmp_path: Path) -> None:
    for name, p99 in (("a", 218.2), ("b", 504.3)):
        _write(
            tmp_path,
            f"federation-{name}.json",
            {"e_lag": {"target_rate": 1000, "duration_s": 60.0, "lag_ms": {"p99": p99}}},
        )
    rows, _ = report.build(report.load(tmp_path))
    assert _row(rows, "e: local → group lag, p99").verdict() == "yes (all 2 runs)"


def test_runs_with_different_parameters_are_not_pooled(tmp_path: Path) -> None:
    _write(tmp_path, "customer-small.json", _list_run(100000, 51.1))
    _write(tmp_path, "customer-large.json", _list_run(1000000, 496.4))
    rows, _ = report.build(report.load(tmp_path))
    small = _row(rows, "scoped list with X-Total-Count, hq, p95", customers=100000)
    large = _row(rows, "scoped list with X-Total-Count, hq, p95", customers=1000000)
    assert small.values == [51.1] and large.values == [496.4]


def test_a_goal_limited_to_a_size_is_not_judged_at_other_sizes(tmp_path: Path) -> None:
    _write(tmp_path, "customer-small.json", {"customers": 100000, "import": {"import_seconds": 90.0}})
    _write(tmp_path, "customer-large.json", {"customers": 1000000, "import": {"import_seconds": 230.8}})
    rows, _ = report.build(report.load(tmp_path))
    assert _row(rows, "import from CSV", customers=100000).verdict() == "—"
    assert _row(rows, "import from CSV", customers=1000000).verdict() == "**no**"


def test_result_files_no_figure_reads_are_listed(tmp_path: Path) -> None:
    _write(tmp_path, "customer-a.json", _list_run(1000, 5.0))
    _write(tmp_path, "customer-empty.json", {"customers": 1000})
    _write(tmp_path, "other-x.json", {"create": {"api_per_second": 1.0}})
    rows, unused = report.build(report.load(tmp_path))
    assert unused == ["customer-empty.json", "other-x.json"]
    assert "Result files no figure reads: `customer-empty.json`, `other-x.json`" in report.render(rows, unused)


def test_an_unreadable_result_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "customer-bad.json").write_text("{not json", encoding="utf-8")
    assert report.main(["--results", str(tmp_path)], out=lambda _: None) == 2
    assert "customer-bad.json: not a readable JSON result file" in capsys.readouterr().err


def test_write_replaces_only_the_generated_block(tmp_path: Path) -> None:
    results = tmp_path / "results"
    _write(results, "customer-a.json", _list_run(1000, 5.0))
    doc = tmp_path / "bench.md"
    doc.write_text(
        f"# title\n\nprose before\n\n{report.BEGIN}\nold table\n{report.END}\n\nprose after\n", encoding="utf-8"
    )
    assert report.main(["--results", str(results), "--write", str(doc)], out=lambda _: None) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# title\n\nprose before\n\n" + report.BEGIN)
    assert text.endswith(report.END + "\n\nprose after\n")
    assert "old table" not in text and "`customer-a.json`" in text
    assert report.main(["--results", str(results), "--check", str(doc)], out=lambda _: None) == 0
    _write(results, "customer-b.json", _list_run(1000, 7.0))
    assert report.main(["--results", str(results), "--check", str(doc)], out=lambda _: None) == 1


def test_a_document_without_the_markers_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    _write(results, "customer-a.json", _list_run(1000, 5.0))
    doc = tmp_path / "bench.md"
    doc.write_text("# no markers\n", encoding="utf-8")
    assert report.main(["--results", str(results), "--write", str(doc)], out=lambda _: None) == 2
    assert doc.read_text(encoding="utf-8") == "# no markers\n"
    assert "no generated block" in capsys.readouterr().err


def test_docs_benchmarks_table_is_the_one_the_result_files_give() -> None:
    # a result file added (or a figure edited by hand) without regenerating the table fails here
    assert report.main(["--check", str(REPO / "docs" / "benchmarks.md")], out=lambda _: None) == 0
