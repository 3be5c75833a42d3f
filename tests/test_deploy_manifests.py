"""deploy/ (issue 15): what can be checked without docker or helm on this machine — every file parses,
the generated service part (`kam node manifests`) runs every installed service with the module of its
spec, readiness and liveness come from /ready and /health, and the alerts and dashboard only use
metrics the code exports. `helm lint` / `helm template` and `docker compose config` are not run here
(docs/operations.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from kam_cli.manifests import write_manifests
from kam_cli.services import SPECS

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "kam-node"
COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"


def _metrics_in_code() -> set[str]:
    names: set[str] = set()
    for path in [*(ROOT / "libs").rglob("*.py"), *(ROOT / "services").rglob("*.py")]:
        if "/tests/" in str(path):
            continue
        names |= set(re.findall(r'(?:Counter|Gauge|Histogram|Summary)\(\s*"(kam_[a-z_]+)"', path.read_text()))
    return names


def _metric_names(expr: str) -> set[str]:
    return {m.removesuffix("_bucket") for m in re.findall(r"\b(kam_[a-z_]+)\b", expr)}


def test_chart_files_parse_and_every_service_is_deployed_with_its_module(tmp_path: Path) -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert [d["name"] for d in chart["dependencies"]] == ["nats"]
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    assert defaults["services"] == {}  # deploy/ names no service: they come from the specs
    yaml.safe_load((CHART / "values-group.yaml").read_text())
    write_manifests(SPECS, tmp_path)
    values = {**defaults, **yaml.safe_load((tmp_path / "values.services.yaml").read_text())}
    assert values["tokenIssuer"]["service"] in SPECS
    deployed = {name: svc["module"] for name, svc in values["services"].items()}
    assert deployed == {name: spec.app_module for name, spec in SPECS.items()}
    assert [n for n, s in values["services"].items() if s.get("managesStreams")] == [
        n for n, s in SPECS.items() if s.nats.manages_streams
    ]
    assert defaults["nats"]["config"]["jetstream"]["fileStore"]["pvc"]["enabled"] is True
    services = (CHART / "templates" / "services.yaml").read_text()
    assert "path: /ready" in services and "path: /health" in services
    for template in (CHART / "templates").iterdir():
        text = template.read_text()
        # every action opened is closed on its line (a flow mapping may follow it: `{{ $name }}}`)
        assert text.count("{{") == len(re.findall(r"\{\{[^\n]*?\}\}", text)), template.name


def test_alerts_and_dashboard_use_only_exported_metrics() -> None:
    exported = _metrics_in_code()
    rules = yaml.safe_load((CHART / "files" / "prometheus-rules.yaml").read_text())
    used = {m for group in rules["groups"] for rule in group["rules"] for m in _metric_names(rule["expr"])}
    dashboard = json.loads((CHART / "files" / "grafana-dashboard.json").read_text())
    used |= {m for panel in dashboard["panels"] for t in panel["targets"] for m in _metric_names(t["expr"])}
    assert used, "no metric referenced"
    assert used <= exported, f"not exported by the code: {sorted(used - exported)}"


def test_compose_runs_every_service_and_the_gateway_routes_to_each(tmp_path: Path) -> None:
    base = yaml.safe_load(COMPOSE.read_text())["services"]
    write_manifests(SPECS, tmp_path)
    override = yaml.safe_load((tmp_path / "compose.services.yaml").read_text())["services"]
    services = {**base, **{k: v for k, v in override.items() if k not in base}}
    for name, spec in SPECS.items():
        assert f"{spec.app_module}:create_app" in services[name]["command"], name
        assert services[name]["environment"]["KAM_SERVICE"] == name
    upstreams = json.loads(override["gateway"]["environment"]["KAM_GATEWAY_UPSTREAMS"])
    assert set(upstreams) == set(SPECS)
    assert {"postgres", "nats", "migrate", "gateway"} <= set(services)
