"""The `kam` command starts light (issue 10: commands under 1 s; timed by bench/cli.py, not here): its
help imports no service code beyond the specs and their command modules, and none of the heavy
libraries the commands import when they run. Also: what the messages tell the user to run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from kam_cli.main import app, me, project_root
from kam_cli.services import SPECS

# imported only by the commands that need them (the runtime, the token issuer, the services' apps);
# not pydantic: typer itself imports it for some option types
HEAVY = ("fastapi", "starlette", "sqlalchemy", "asyncpg", "nats", "alembic", "cryptography", "psutil")
# what `kam token` and `kam status` still must not import: the web stack, the ORM, the runtime's libraries
# (the token path needs only asyncpg and the signing code)
NOT_FOR_TOKENS = ("fastapi", "starlette", "sqlalchemy", "alembic", "nats", "psutil", "httpx", "uvicorn")

PROBE = """
import json, sys
from kam_cli.main import app
try:
    app(sys.argv[1:], prog_name="kam")
except SystemExit:
    pass
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def loaded_by(*args: str) -> tuple[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True, timeout=300, cwd=Path.cwd()
    )
    out, _, modules = done.stdout.rpartition("\nMODULES ")
    return out + done.stderr, set(json.loads(modules))


def fake_run(tmp_path: Path) -> Path:
    """A run.json of the demo topology whose servers are all gone (closed loopback ports): the commands
    run their whole path — attach, probes, token issuing — and fail to connect."""
    from kam_platform.embedded.ports import free_port

    root = project_root(Path(__file__).parent)
    topology = root / "deploy" / "topologies" / "demo.yaml"
    port = free_port()  # nothing listens on it
    codes = ["hq", "gd", "gd-gz", "gd-sz", "js", "js-nj"]
    state = {
        "topology_file": str(topology),
        "run_dir": str(tmp_path),
        "process_per": "service",
        "postgres": {"external": True},
        "nodes": [
            {
                "code": code,
                "url": f"http://127.0.0.1:{port}",
                "database_url": f"postgresql+asyncpg://kam:x@127.0.0.1:{port}/kam_{code.replace('-', '_')}",
                "nats_url": f"nats://127.0.0.1:{port}",
                "nats": {"port": port, "http_port": port, "monitor_url": f"http://127.0.0.1:{port}"},
                "services": {name: f"http://127.0.0.1:{port}" for name in SPECS},
            }
            for code in codes
        ],
    }
    (tmp_path / "run.json").write_text(json.dumps(state), encoding="utf-8")
    return tmp_path


def light_modules_check(modules: set[str]) -> None:
    heavy = sorted({m.split(".")[0] for m in modules} & set(NOT_FOR_TOKENS))
    assert heavy == [], heavy
    # of a service package: no models, no app, no request dependencies, no endpoints or repositories
    packages = service_packages()
    of_services = [m.split(".") for m in modules if m.split(".")[0] in packages]
    bad = sorted(
        ".".join(parts)
        for parts in of_services
        if {"models", "main", "api", "endpoints", "repository", "service"} & set(parts[1:])
    )
    assert bad == [], bad
    assert not any(m.startswith("kam_platform.") and m.split(".")[1] in ("db", "auth", "app", "api") for m in modules)
    assert "kam_cli.runtime" not in modules


def service_packages() -> set[str]:
    return {spec.app_module.split(".")[0] for spec in SPECS.values()}


def test_help_imports_no_service_code_and_no_heavy_library() -> None:
    out, modules = loaded_by("--help")
    assert "status" in out and "token" in out  # the help was printed, with the built-in commands
    for spec in SPECS.values():
        if spec.cli is not None:  # and the services' own commands
            assert spec.cli.partition(":")[0] in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == [], heavy
    # of a service package, only its spec (discovery) and its command module (`ServiceSpec.cli`)
    allowed = {"spec", "commands"}
    for package in service_packages():
        loaded = {m for m in modules if m == package or m.startswith(package + ".")}
        extra = sorted(m for m in loaded - {package} if m.split(".", 1)[1] not in allowed)
        assert extra == [], (package, extra)
    assert not any(
        m.startswith("kam_cli.") and m.split(".")[1] in ("runtime", "node", "seed", "gateway") for m in modules
    )


def token_hook_module() -> str:
    """The module of the token issuer's `issue_token` hook (a service's, named by its spec only)."""
    return next(s.hooks["issue_token"] for s in SPECS.values() if "issue_token" in s.hooks).split(":")[0]


def test_token_imports_no_web_stack_no_orm_and_no_models(tmp_path: Path) -> None:
    out, modules = loaded_by("token", "--node", "gd-gz", "--run-dir", str(fake_run(tmp_path)))
    assert "cannot issue a token" in out and "unreachable" in out  # it got as far as connecting
    assert {token_hook_module(), "asyncpg"} <= modules  # the token issuer's claim builder ran
    light_modules_check(modules)


def test_status_imports_no_web_stack_no_orm_and_no_models(tmp_path: Path) -> None:
    out, modules = loaded_by("status", "--json", "--run-dir", str(fake_run(tmp_path)))
    nodes = json.loads(out[: out.rindex("]") + 1])
    assert [n["code"] for n in nodes] == ["hq", "gd", "gd-gz", "gd-sz", "js", "js-nj"]
    assert not any(n["healthy"] for n in nodes) and all(n["replication"] is None for n in nodes)
    assert token_hook_module() in modules  # it tried to issue the replication part's tokens
    light_modules_check(modules)


def test_node_help_imports_no_node_host() -> None:
    out, modules = loaded_by("node", "--help")
    assert "dev-ca" in out
    assert not {"kam_cli.node", "kam_cli.nodeconfig", "kam_cli.devca", "kam_cli.runtime"} & modules
    assert not any(m.split(".")[0] in HEAVY for m in modules)


def test_messages_name_the_checkout_launcher(tmp_path: Path) -> None:
    root = project_root(Path(__file__).parent)
    assert (root / "kam").is_file()
    cwd = os.getcwd()
    try:
        os.chdir(root)
        assert me() == "./kam"
        os.chdir(root / "libs")
        assert me() == "../kam"
        os.chdir(tmp_path)  # no workspace above: the installed command
        assert me() == "kam"
    finally:
        os.chdir(cwd)


def test_not_running_tells_the_user_what_to_run(tmp_path: Path) -> None:
    cwd = os.getcwd()
    try:
        os.chdir(project_root(Path(__file__).parent))
        result = CliRunner().invoke(app, ["status", "--run-dir", str(tmp_path / "none")])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 1
    assert "./kam up" in result.output
