"""What tests share: where the repository and its topologies are, and how to wait for a condition.

- `REPO`, `TOPOLOGIES`, `topology_file("demo")`: the checkout's paths (tests run from a checkout).
- `wait_until(condition, timeout=..., what=...)`: poll a sync condition (HTTP calls to a federation);
  an HTTP error or a failed assertion inside it counts as "not yet", and the failure names `what` and
  the last value seen.
- `wait_for(predicate, timeout=...)`: the same for async (or sync) predicates in async tests.

Process start-up waits use `kam_platform.embedded.process.wait_until` (it can abort when the process
exits); these two are for test conditions.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _repo() -> Path:
    here = Path(__file__).resolve().parents[5]  # libs/platform/src/kam_platform/testing/ in a checkout
    return here if (here / "deploy" / "topologies").is_dir() else Path.cwd()


REPO = _repo()
TOPOLOGIES = REPO / "deploy" / "topologies"


def topology_file(name: str) -> Path:
    """`deploy/topologies/<name>.yaml` of this checkout."""
    path = TOPOLOGIES / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no topology {name!r} in {TOPOLOGIES}")
    return path


def wait_until(
    condition: Callable[[], Any],
    *,
    timeout: float,
    what: str,
    interval: float = 0.5,
    retry_on: tuple[type[BaseException], ...] = (AssertionError,),
) -> Any:
    """Poll until `condition()` is truthy and return it; fail with the last value after `timeout` s."""
    import httpx

    retryable: tuple[type[BaseException], ...] = (httpx.HTTPError, *retry_on)
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except retryable as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not reached within {timeout}s (last: {last!r})")


async def wait_for(predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll an (async or sync) predicate until it returns a truthy value, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
