"""Watches the node's federation links: per source — lag, last activity, link up; per apply consumer —
pending, redeliveries; dead letters. Declares and repairs streams, restarts stalled sources."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from prometheus_client import Gauge

from kam_platform.embedded.nats import nats_servers
from kam_platform.federation import dlq_stream, inbound_streams, plan
from kam_platform.settings import Settings
from kam_sync.streams.reconcile import STALL_SECONDS, Reconciler

log = logging.getLogger("kam.sync.watch")

SOURCE_LAG = Gauge("kam_sync_source_lag", "Messages the source is behind", ["stream", "source"])
SOURCE_IDLE = Gauge("kam_sync_source_idle_seconds", "Seconds since the source's last activity", ["stream", "source"])
LINK_UP = Gauge("kam_sync_link_up", "1 when the leafnode link to the peer node is connected", ["peer"])
CONSUMER_PENDING = Gauge("kam_sync_consumer_pending", "Messages pending for an apply consumer", ["stream", "consumer"])
CONSUMER_REDELIVERED = Gauge("kam_sync_consumer_redelivered", "Redelivered messages", ["stream", "consumer"])
DEAD_LETTERS = Gauge("kam_sync_dead_letters", "Dead-lettered events", ["service"])

DECLARE_EVERY_SECONDS = 30.0
BEHIND_LAG = 1000


class Watcher:
    def __init__(self, settings: Settings, *, interval: float = 2.0) -> None:
        self.settings = settings
        self.topology = settings.topology
        self.node = settings.node
        self.interval = interval
        self.reconciler = Reconciler(self.topology, self.node)
        self.snapshot: dict[str, Any] = {"node": self.node, "state": "starting"}
        self._stopping = asyncio.Event()
        self._last_declare = 0.0
        self.declared = asyncio.Event()
        # (stream, source) → restarts of that source; kept for the process's life so an operator (and a
        # test) can see that the watcher acted, and how long the source took to resume after it did
        self.restarts: dict[tuple[str, str], SourceRestart] = {}
        # one client for the watcher's life: a new one per tick built its TLS context every 2 s
        self._http: httpx.AsyncClient | None = None

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        try:
            await self._watch()
        finally:
            if self._http is not None:
                await self._http.aclose()
                self._http = None

    async def _watch(self) -> None:
        while not self._stopping.is_set():
            try:
                nc = await nats.connect(
                    nats_servers(self.settings.nats_url), max_reconnect_attempts=-1, reconnect_time_wait=0.5
                )
                try:
                    js = nc.jetstream(timeout=5.0)
                    while not self._stopping.is_set():
                        try:
                            await self.tick(js)
                        except Exception as exc:  # a node restarting: report it, keep watching
                            log.warning("sync tick failed: %s", exc)
                            self.snapshot = {**self.snapshot, "state": "degraded", "error": str(exc)}
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._stopping.wait(), self.interval)
                finally:
                    with contextlib.suppress(Exception):
                        await nc.close()
            except Exception as exc:
                self.snapshot = {"node": self.node, "state": "nats-unreachable", "error": str(exc)}
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.interval)

    async def linked_peers(self) -> set[str] | None:
        url = self.settings.nats_monitor_url
        if not url:
            return None
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=2.0)
        try:
            resp = await self._http.get(url.rstrip("/") + "/leafz")
            return {str(leaf.get("name", "")) for leaf in resp.json().get("leafs") or []}
        except httpx.HTTPError:
            return set()

    async def tick(self, js: JetStreamContext) -> None:
        now = time.monotonic()
        if now - self._last_declare > DECLARE_EVERY_SECONDS:
            await self.reconciler.declare(js)
            self._last_declare = now
            self.declared.set()
        linked = await self.linked_peers()
        node = self.topology.node(self.node)
        peers = ([node.parent] if node.parent else []) + self.topology.children(self.node)
        links = []
        for peer in peers:
            up = None if linked is None else peer in linked
            links.append({"peer": peer, "role": "parent" if peer == node.parent else "child", "connected": up})
            if up is not None:
                LINK_UP.labels(peer).set(1 if up else 0)
        restarted = await self.reconciler.restart_stalled(js, linked if linked is not None else set(peers))
        for key in restarted:
            self.restarts.setdefault(key, SourceRestart()).restarted()
        streams: list[dict[str, Any]] = []
        for spec in plan(self.topology, self.node):
            try:
                info = await js.stream_info(spec.name)
            except NotFoundError:
                streams.append({"name": spec.name, "missing": True})
                continue
            domains = {s.stream: s.domain for s in spec.sources}
            sources = []
            for src in info.sources or []:
                idle = src.active / 1e9 if src.active is not None and src.active >= 0 else None
                lag = src.lag or 0
                link_up = None if linked is None else domains.get(src.name) in linked
                behind = lag > BEHIND_LAG or idle is None or idle > STALL_SECONDS or link_up is False
                sources.append(
                    {
                        "name": src.name,
                        "node": domains.get(src.name),
                        "lag": lag,
                        "idleSeconds": round(idle, 3) if idle is not None else None,
                        "error": (src.error or {}).get("description") if src.error else None,
                        "linkConnected": link_up,
                        "ok": not behind,
                    }
                )
                restart = self.restarts.get((spec.name, src.name))
                if restart is not None:
                    restart.observe(idle)
                    sources[-1]["restarts"] = restart.count
                SOURCE_LAG.labels(spec.name, src.name).set(lag)
                SOURCE_IDLE.labels(spec.name, src.name).set(idle if idle is not None else -1)
            streams.append(
                {
                    "name": spec.name,
                    "subjects": list(spec.subjects),
                    "messages": info.state.messages,
                    "lastSeq": info.state.last_seq,
                    "sources": sources,
                }
            )
        consumers = []
        for stream in inbound_streams(self.topology, self.node):
            with contextlib.suppress(NotFoundError):
                for ci in await js.consumers_info(stream):
                    consumers.append(
                        {
                            "stream": stream,
                            "name": ci.name,
                            "pending": ci.num_pending or 0,
                            "ackPending": ci.num_ack_pending or 0,
                            "redelivered": ci.num_redelivered or 0,
                        }
                    )
                    CONSUMER_PENDING.labels(stream, ci.name).set(ci.num_pending or 0)
                    CONSUMER_REDELIVERED.labels(stream, ci.name).set(ci.num_redelivered or 0)
        dead: dict[str, int] = {}
        with contextlib.suppress(NotFoundError):
            dlq = await js.stream_info(dlq_stream(self.node), subjects_filter=f"dlq.{self.node}.>")
            subjects: dict[str, int] = dict(dlq.state.subjects or {})
            for subject, count in subjects.items():
                dead[subject.rsplit(".", 1)[-1]] = count
        for service, count in dead.items():
            DEAD_LETTERS.labels(service).set(count)
        ok = (
            all(link["connected"] is not False for link in links)
            and all(s["ok"] for st in streams for s in st.get("sources", []))
            and not any(st.get("missing") for st in streams)
        )
        self.snapshot = {
            "node": self.node,
            "tier": node.tier.value,
            "parent": node.parent,
            "state": "ok" if ok else "degraded",
            "checkedAt": datetime.now(UTC).isoformat(),
            "links": links,
            "streams": streams,
            "consumers": consumers,
            "deadLetters": dead,
            "restartedSources": [f"{a}<-{b}" for a, b in restarted],
            "sourceRestarts": [
                {"stream": stream, "source": source, **r.to_dict()} for (stream, source), r in self.restarts.items()
            ],
        }


class SourceRestart:
    """The watcher's restarts of one source: how many, the last one, and when the source was active
    again after it (None until then)."""

    def __init__(self) -> None:
        self.count = 0
        self.last_at: datetime | None = None
        self.resumed_at: datetime | None = None
        self._last_mono = 0.0
        self.resume_seconds: float | None = None

    def restarted(self, now: float | None = None) -> None:
        self.count += 1
        self.last_at = datetime.now(UTC)
        self._last_mono = time.monotonic() if now is None else now
        self.resumed_at = None
        self.resume_seconds = None

    def observe(self, idle: float | None, now: float | None = None) -> None:
        """Record the resumption once the source's last activity is later than the restart (a re-added
        source may report a small idle time before it has reached its upstream, so recent activity alone
        is not enough)."""
        if self.resumed_at is not None or idle is None or idle > STALL_SECONDS:
            return
        active_at = (time.monotonic() if now is None else now) - idle
        if active_at > self._last_mono:
            self.resume_seconds = round(active_at - self._last_mono, 3)
            self.resumed_at = datetime.now(UTC) - timedelta(seconds=idle)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "lastRestartAt": self.last_at.isoformat() if self.last_at else None,
            "resumedAt": self.resumed_at.isoformat() if self.resumed_at else None,
            "resumeSeconds": self.resume_seconds,
        }
