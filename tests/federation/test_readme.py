"""The README runs as written: its marked shell blocks (`<!-- readme-test -->` before the fence) are
executed by bash, in order and in one shell, from the repository root, with a PATH that has no `uv`
(as on a fresh machine after `make run`), against a federation started the way `make run` starts one.

The federation is started by `./kam up --detach --seed` itself (trio topology: the README's blocks
use gd-gz, gd and hq, which it has), with its own run directory in KAM_RUN_DIR so the blocks' `./kam`
commands find it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kam_platform.testing.helpers import REPO, topology_file

pytestmark = pytest.mark.federation

MARK = "<!-- readme-test -->"
BLOCK = re.compile(re.escape(MARK) + r"\s*```(?:bash|sh)\n(.*?)```", re.S)


def readme_blocks() -> list[str]:
    return BLOCK.findall((REPO / "README.md").read_text())


def path_without_uv() -> str:
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "uv").exists()]
    return os.pathsep.join(d for d in dirs if ".venv" not in d and ".tools" not in d)


@pytest.fixture(scope="module")
def environment() -> Iterator[dict[str, str]]:
    run_dir = Path(tempfile.mkdtemp(prefix="kam-readme-"))
    env = {**os.environ, "PATH": path_without_uv(), "KAM_RUN_DIR": str(run_dir)}
    for var in ("VIRTUAL_ENV", "DATABASE_URL", "NATS_URL"):
        env.pop(var, None)
    assert shutil.which("uv", path=env["PATH"]) is None
    up = subprocess.run(
        ["./kam", "up", "--detach", "--seed", "--customers", "30", "--topology", str(topology_file("trio"))],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        yield env
    finally:
        subprocess.run(["./kam", "down", "--purge"], cwd=REPO, env=env, capture_output=True, timeout=300)
        shutil.rmtree(run_dir, ignore_errors=True)


def test_the_readme_has_runnable_blocks() -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 2
    assert all("uv run" not in b for b in blocks)


def test_the_readme_blocks_run_verbatim_without_uv(environment: dict[str, str]) -> None:
    script = "set -euo pipefail\n" + "\n".join(readme_blocks())
    r = subprocess.run(["bash", "-c", script], cwd=REPO, env=environment, capture_output=True, text=True, timeout=300)
    out = r.stdout
    assert r.returncode == 0, out[-3000:] + r.stderr[-3000:]
    assert "command not found" not in r.stderr and "Traceback" not in r.stderr, r.stderr[-3000:]
    created = re.search(r"created (\S+) at gd-gz", out)
    assert created and len(created.group(1)) == 36, out[-3000:]
    # the search answered a list, the province and the group each show the customer owned by gd-gz
    assert out.count('"ownerNode":"gd-gz"') >= 2, out[-3000:]
    assert '"code":"NOT_OWNER"' in out and "gd-gz" in out.split('"code":"NOT_OWNER"', 1)[1][:400], out[-3000:]
