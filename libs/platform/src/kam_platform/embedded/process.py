"""Child processes that outlive the Python object that started them.

A `ProcessRef` names a process by pid *and* start time, so a stale record (a pid reused by the
system after a reboot or a crash) never leads to signalling an unrelated process. It keeps the
`Popen` when this interpreter started the process, so stopping it also reaps it (no zombies).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.1,
    what: str = "condition",
    abort: Callable[[], str | None] | None = None,
) -> None:
    """Poll `condition` until it is true; TimeoutError after `timeout` seconds.

    `abort` is polled too: when it returns a message the wait fails at once with RuntimeError (e.g. the
    process we wait for has exited).
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if abort is not None:
            reason = abort()
            if reason is not None:
                raise RuntimeError(f"while waiting for {what}: {reason}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _create_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _started(pid: int) -> float | None:
    """When `pid` started, in seconds since boot (Linux: /proc/<pid>/stat), None where that cannot be
    read. Unlike `create_time` — the boot time on the wall clock plus this — it does not move when the
    wall clock is set: after a step of the clock (a VM's clock synchronised) every process would
    otherwise look like another that reused its pid, so gone, and be left running by `stop`."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[19]) / _TICKS
    except (OSError, IndexError, ValueError):
        return None


@dataclass
class ProcessRef:
    """A running (or once running) process: pid + create time, and the Popen when it is our child."""

    pid: int
    create_time: float | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    started: float | None = None  # seconds since boot (`_started`); None in a state written before it

    @classmethod
    def of(cls, pid: int) -> ProcessRef:
        return cls(pid=pid, create_time=_create_time(pid), started=_started(pid))

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "create_time": self.create_time, "started": self.started}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProcessRef:
        ct, st = data.get("create_time"), data.get("started")
        return cls(
            pid=int(data["pid"]),
            create_time=float(ct) if ct is not None else None,
            started=float(st) if st is not None else None,
        )

    def _another(self, proc: psutil.Process) -> bool:
        """Whether the process now at this pid is another than the one this refers to (a reused pid):
        by its start since boot where known (the wall clock may have been set since), else by its
        create time."""
        if self.started is not None:
            now = _started(self.pid)
            if now is not None:
                return abs(now - self.started) > 0.05
        return self.create_time is not None and abs(proc.create_time() - self.create_time) > 0.5

    def _reap(self) -> None:
        if self.popen is not None:
            self.popen.poll()
            return
        with contextlib.suppress(ChildProcessError):  # our child after all (re-attached in this interpreter)
            os.waitpid(self.pid, os.WNOHANG)

    def alive(self) -> bool:
        """True while the process runs; a zombie or a reused pid counts as gone."""
        if self.popen is not None and self.popen.poll() is not None:
            return False
        self._reap()
        try:
            proc = psutil.Process(self.pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return False
            return not self._another(proc)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.AccessDenied:
            return True

    @property
    def returncode(self) -> int | None:
        return self.popen.poll() if self.popen is not None else None

    def signal(self, sig: int) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def wait_gone(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the process to exit; True when it did."""
        try:
            wait_until(lambda: not self.alive(), timeout=timeout, interval=0.05, what=f"pid {self.pid}")
        except TimeoutError:
            return False
        return True

    def wait_reaped(self, timeout: float) -> bool:
        """Wait until the pid no longer exists at all (not even as a zombie awaiting its parent).

        Some programs (PostgreSQL's lock-file check) see a zombie as a live process.
        """

        def gone() -> bool:
            self._reap()
            try:
                proc = psutil.Process(self.pid)
                return self._another(proc)
            except psutil.NoSuchProcess:
                return True
            except (psutil.ZombieProcess, psutil.AccessDenied):
                return False

        try:
            wait_until(gone, timeout=timeout, interval=0.05, what=f"pid {self.pid} reaped")
        except TimeoutError:
            return False
        return True

    def terminate(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL when it has not exited after `timeout` seconds."""
        self.signal(signal.SIGTERM)
        if not self.wait_gone(timeout):
            self.kill()

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL and wait until it is gone (fault injection, or a process that ignored SIGTERM)."""
        self.signal(signal.SIGKILL)
        self.wait_gone(timeout)


def terminate_all(refs: Sequence[ProcessRef], timeout: float = 10.0) -> None:
    """SIGTERM every process at once, wait for all with one deadline, SIGKILL the stragglers."""
    for ref in refs:
        ref.signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for ref in refs:
        if not ref.wait_gone(max(0.0, deadline - time.monotonic())):
            ref.kill()


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ProcessRef:
    """Start `argv` in its own session (so a Ctrl-C on our terminal is ours to handle), output to a log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    return ProcessRef(pid=popen.pid, create_time=_create_time(popen.pid), popen=popen, started=_started(popen.pid))


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file ('' when missing), for error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
