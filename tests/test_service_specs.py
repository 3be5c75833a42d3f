"""A service describes itself (issue 8 §1): the runtime's services are the `kam.services` entry points,
and no file outside `services/<name>/` names a service's package or routes (bar the allow-list below);
a service's code imports no other service's package but its published client (`kam_<name>.client`);
otherwise it calls the other service over HTTP (by its routes) or consumes its events.

The allow-list, and why each entry may name services:
- `services/<name>/`: the service itself (its own package, routes, migrations); its tests may arrange
  another service's data.
- root `pyproject.toml` / `uv.lock`: the one place that installs the workspace's services (a
  dependency line and its `workspace = true` source per service; uv needs both).
- `tests/` and `bench/`: cross-service tests and benchmarks exercise named services on purpose.
- `console/`: the web console is a client of the services' APIs (generated per service from their
  OpenAPI), not part of the runtime.
- Markdown documentation (`*.md`): it describes the services; it does not wire them.
- `/.well-known` (RFC 8615) is a standard prefix, not a service's: the platform's SPA fallback must
  never shadow it, whoever serves it.
"""

from __future__ import annotations

import re
import subprocess
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from kam_cli.runtime import Federation
from kam_cli.services import METRICS_SERVICE, ROUTES, SERVICES, SPECS, identity_service, route
from kam_platform.service import ENTRY_POINT_GROUP, ServiceSpec, discover

ROOT = Path(__file__).resolve().parents[1]
TRIO = ROOT / "deploy" / "topologies" / "trio.yaml"

ALLOWED_FILES = {"pyproject.toml", "uv.lock"}
ALLOWED_DIRS = ("tests/", "bench/", "console/")
STANDARD_PREFIXES = {"/.well-known"}
TEXT_SUFFIXES = {".py", ".pyi", ".toml", ".yaml", ".yml", ".json", ".cfg", ".ini", ".txt", ".sh", ".conf", ".proto"}


def _package(spec: ServiceSpec) -> str:
    return spec.app.split(":", 1)[0].split(".", 1)[0]


def _repository_files() -> list[str]:
    """Tracked files and new ones not ignored: a service being added is checked too."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted({line for line in out.splitlines() if line and (ROOT / line).is_file()})


def _scanned(path: str) -> bool:
    """Code and configuration outside the allow-list; inside a service, its code (its tests may set up
    other services' data on purpose)."""
    name = Path(path).name
    if path in ALLOWED_FILES or path.startswith(ALLOWED_DIRS) or path.endswith(".md"):
        return False
    parts = Path(path).parts
    if parts[0] == "services" and "tests" in parts:
        return False
    return Path(path).suffix in TEXT_SUFFIXES or name in ("Makefile", "Dockerfile")


def _owner(path: str) -> str | None:
    """The service whose directory holds `path` (None outside services/)."""
    parts = Path(path).parts
    return parts[1] if len(parts) > 2 and parts[0] == "services" else None


def test_the_runtime_runs_the_installed_services_from_their_entry_points() -> None:
    installed = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"org", "customer", "sync"} <= installed
    assert set(SPECS) == set(discover()) == installed
    # start order: the token issuer first (the others verify tokens against its JWKS)
    issuer = identity_service()
    assert issuer is not None and issuer.jwks and next(iter(SPECS)) == issuer.name == METRICS_SERVICE
    orders = [spec.order for spec in SPECS.values()]
    assert orders == sorted(orders)
    assert {name: spec.app_module for name, spec in SPECS.items()} == SERVICES
    for name, spec in SPECS.items():
        assert spec.name == name
        assert spec.routes, f"{name} serves no route"
        for prefix in spec.routes:
            assert ROUTES[prefix] == name
            assert route(prefix.rstrip("/") + "/x") == name
        for codes in spec.grants.values():  # a spec grants what exists: its own or another spec's
            assert set(codes) <= {c for s in SPECS.values() for c in s.permissions}, name
    fed = Federation(TRIO, ROOT / ".kam-never-started", use_environment=False)
    assert list(fed.specs) == list(SPECS)
    assert route("/nowhere") is None


def test_every_service_path_is_in_its_own_package() -> None:
    """Each spec's references (app, migrations, seeders, hooks, commands) live in its own package, so
    `services/<name>/` holds everything a service contributes."""
    for name, spec in SPECS.items():
        package = _package(spec)
        refs = [spec.app, spec.migrations, spec.seed, spec.cli, *spec.seed_provides.values(), *spec.hooks.values()]
        for ref in filter(None, refs):
            assert ref.split(":", 1)[0].split(".", 1)[0] == package, (name, ref)
        spec_file = Path(__import__(package).__file__ or "").resolve()
        assert spec_file.is_relative_to(ROOT / "services" / name), (name, spec_file)


def test_nothing_outside_a_service_names_it() -> None:
    outside: dict[str, re.Pattern[str]] = {}  # outside services/: the package and the service's routes
    inside: dict[str, re.Pattern[str]] = {}  # another service's code: imports of it, but for its client
    for name, spec in SPECS.items():
        package = re.escape(_package(spec))
        routes = [re.escape(p.rstrip("/")) for p in spec.routes if p.rstrip("/") not in STANDARD_PREFIXES]
        outside[name] = re.compile(r"(?<![\w-])(?:" + "|".join([package, *routes]) + r")(?![\w-])")
        # another service's code: importing the package (anything but its client) couples the two installs
        inside[name] = re.compile(rf"^\s*(?:from|import)\s+{package}(?![\w-]|\.client\b)")
    found: list[str] = []
    for path in _repository_files():
        if not _scanned(path):
            continue
        owner = _owner(path)
        patterns = outside if owner is None else inside
        text = (ROOT / path).read_text(encoding="utf-8", errors="replace")
        for name, pattern in patterns.items():
            if name == owner:
                continue
            for lineno, line in enumerate(text.splitlines(), start=1):
                if pattern.search(line):
                    found.append(f"{path}:{lineno}: names {name}: {line.strip()[:100]}")
    assert not found, "service names outside their service:\n" + "\n".join(found)


def test_a_library_depends_on_no_service_package() -> None:
    distributions = {_package(spec).replace("_", "-") for spec in SPECS.values()}
    for pyproject in sorted((ROOT / "libs").glob("*/pyproject.toml")):
        text = pyproject.read_text(encoding="utf-8")
        named = sorted(d for d in distributions if re.search(rf'"{re.escape(d)}[\s"<>=~!;\[]', text))
        assert not named, f"{pyproject.relative_to(ROOT)} depends on {', '.join(named)}"


@pytest.mark.parametrize("path", ["/api/v1/orgx", "/api/v1", "/"])
def test_a_route_prefix_matches_whole_segments_only(path: str) -> None:
    assert route(path, {"/api/v1/org": "org"}) is None
