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
    return out, set(json.loads(modules))


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
