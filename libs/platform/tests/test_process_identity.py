"""A process the runtime started is known by its pid and when it started (kam_platform.embedded.process):
the start is taken since boot, so a step of the wall clock (a VM's clock synchronised while a federation
runs) does not make a running process look like another that reused its pid — which `stop` would then
leave running — while a pid that another process holds now is still not taken for ours."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from kam_platform.embedded.process import ProcessRef, spawn


def test_a_running_process_stays_known_after_the_wall_clock_is_set(tmp_path: Path) -> None:
    ref = spawn([sys.executable, "-c", "import time; time.sleep(60)"], log_path=tmp_path / "sleep.log")
    try:
        assert ref.started is not None and ref.create_time is not None
        # what a state written before a clock step says, read after it: its create time is 10 minutes off
        stepped = ProcessRef.from_dict({**ref.to_dict(), "create_time": ref.create_time + 600})
        assert stepped.alive()
        # a pid held by another process (one that started at another time) is not ours
        assert not replace(stepped, started=ref.started - 5).alive()
        # a state written before `started` was recorded still compares create times
        assert not ProcessRef.from_dict({"pid": ref.pid, "create_time": ref.create_time + 600}).alive()
        assert ProcessRef.from_dict({"pid": ref.pid, "create_time": ref.create_time}).alive()
        stepped.terminate(5)
        assert not ref.alive()
    finally:
        ref.kill()
