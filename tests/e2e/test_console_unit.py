"""The console's component and logic tests (vitest, console/src/**/*.test.ts[x]) as part of the suite."""

from __future__ import annotations

import subprocess

from .conftest import REPO


def test_vitest() -> None:
    subprocess.run(["make", "--no-print-directory", "console-deps"], cwd=REPO, check=True)
    run = subprocess.run(["npm", "test", "--", "--reporter=dot"], cwd=REPO / "console", capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert " passed" in run.stdout
