"""Declare the node's streams and sources idempotently, repair drift, and restart stalled sources.

JetStream retries a source whose upstream vanished (a restarted nats-server, a cut leafnode link) only
after a back-off of up to minutes. The watcher restarts such a source as soon as its link is back: a
source with no activity for `STALL_SECONDS` (sources get heartbeats every second when healthy) is
removed and re-added; JetStream resumes it from the last message it holds from that source, and the
dedupe window drops anything sent twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import StreamConfig, StreamInfo
from nats.js.errors import NotFoundError
from prometheus_client import Counter

from kam_platform.federation import StreamSpec, declare, plan
from kam_platform.topology import Topology

log = logging.getLogger("kam.sync.streams")

STALL_SECONDS = 6.0
KICK_INTERVAL_SECONDS = 10.0

DRIFT_REPAIRS = Counter("kam_sync_stream_repairs_total", "Streams created or repaired", ["stream"])
SOURCE_RESTARTS = Counter("kam_sync_source_restarts_total", "Stalled sources restarted", ["stream", "source"])


@dataclass
class Reconciler:
    topology: Topology
    node: str
    _last_kick: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def specs(self) -> list[StreamSpec]:
        return plan(self.topology, self.node)

    async def declare(self, js: JetStreamContext) -> list[str]:
        """Create missing streams and repair drifted ones; returns the names changed."""
        changed = await declare(js, self.topology, self.node)
        for name in changed:
            DRIFT_REPAIRS.labels(name).inc()
        return changed

    @staticmethod
    def stalled_sources(info: StreamInfo, domains: dict[str, str], linked: set[str]) -> list[str]:
        """Sources idle longer than STALL_SECONDS whose upstream node has its leafnode link up."""
        out = []
        for src in info.sources or []:
            if domains.get(src.name) not in linked:
                continue
            idle = (src.active or -1) / 1e9 if src.active is not None and src.active >= 0 else float("inf")
            if idle > STALL_SECONDS:
                out.append(src.name)
        return out

    async def restart_stalled(self, js: JetStreamContext, linked: set[str]) -> list[tuple[str, str]]:
        restarted: list[tuple[str, str]] = []
        now = time.monotonic()
        for spec in self.specs:
            if not spec.sources:
                continue
            try:
                info = await js.stream_info(spec.name)
            except NotFoundError:
                continue
            stalled = [
                s
                for s in self.stalled_sources(info, {x.stream: x.domain for x in spec.sources}, linked)
                if now - self._last_kick.get((spec.name, s), 0.0) > KICK_INTERVAL_SECONDS
            ]
            if not stalled:
                continue
            desired = spec.config()
            keep = [s for s in (desired.sources or []) if s.name not in stalled]
            await js.update_stream(_with_sources(desired, keep))
            await js.update_stream(desired)
            for s in stalled:
                self._last_kick[(spec.name, s)] = now
                SOURCE_RESTARTS.labels(spec.name, s).inc()
                restarted.append((spec.name, s))
                log.info("restarted stalled source %s of %s", s, spec.name)
        return restarted


def _with_sources(cfg: StreamConfig, sources: list[Any]) -> StreamConfig:
    data = cfg.as_dict()
    data["sources"] = [s.as_dict() for s in sources]
    config: StreamConfig = StreamConfig.from_response(data)
    return config
