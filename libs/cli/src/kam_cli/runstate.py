"""A running federation as its `run.json` records it, read without the runtime, and its status probes.

What `kam token`, `kam status` and the services' commands need of a run (its topology, each node's
URL, database and services) is in `<run_dir>/run.json` (kam_cli.runtime writes it): reading it here
imports no nats, psutil or httpx, so those commands start light (issue 10: under 1 s). Stopping or
restarting a run needs the runtime (`Federation.attach`).

`probe(state)` is the one `status` of a run: `Federation.status()` calls it too. Every probe (each
node's /health, each service's or the node's /ready, each nats-server's /healthz) runs at once in a
thread of its own, with a short timeout, so the answer takes as long as the slowest probe, not their sum.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kam_platform.topology import Topology

STATE_FILE = "run.json"
PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class NodeEntry:
    code: str
    url: str
    database_url: str
    nats_url: str  # as an administrator (with credentials)
    services: dict[str, str] = field(default_factory=dict)  # service → URL answering its /ready
    nats_monitor_url: str | None = None  # None when NATS is external
    nats_client_url: str | None = None  # the embedded nats-server's URL without credentials


class RunState:
    """The run of `run.json` (a `kam_platform.service.RunningFederation`)."""

    def __init__(self, data: Mapping[str, Any], topology: Topology | None = None) -> None:
        self.topology_file = Path(data["topology_file"])
        self.topology = topology or Topology.load(self.topology_file)
        self.run_dir = Path(data["run_dir"])
        self.process_per: str = data.get("process_per", "service")
        self.started_at: str | None = data.get("started_at")
        self.nodes: dict[str, NodeEntry] = {}
        for raw in data["nodes"]:
            nats = raw.get("nats") or {}
            monitor = nats.get("monitor_url") or (f"http://127.0.0.1:{nats['http_port']}" if nats else None)
            host = urlsplit(monitor).hostname if monitor else None
            self.nodes[raw["code"]] = NodeEntry(
                code=raw["code"],
                url=raw.get("url", ""),
                database_url=raw["database_url"],
                nats_url=raw["nats_url"],
                services=dict(raw.get("services", {})),
                nats_monitor_url=monitor,
                nats_client_url=f"nats://{host}:{nats['port']}" if nats else None,
            )

    @classmethod
    def load(cls, run_dir: str | Path) -> RunState | None:
        """The run recorded in `<run_dir>/run.json`, or None when there is none."""
        path = Path(run_dir).absolute() / STATE_FILE
        if not path.exists():
            return None
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def _entry(self, code: str) -> NodeEntry:
        try:
            return self.nodes[code]
        except KeyError:
            raise KeyError(f"node {code!r} is not running in this federation") from None

    def node_url(self, code: str) -> str:
        return self._entry(code).url

    def database_url(self, code: str) -> str:
        """The node's database, `postgresql+asyncpg://…/kam_<code>`."""
        return self._entry(code).database_url


def http_get(url: str, timeout: float = PROBE_TIMEOUT_S) -> tuple[int, dict[str, str], bytes] | None:
    """GET `url` (http only): status, headers (lower-case names) and body, or None when unreachable."""
    import http.client

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _json(answer: tuple[int, dict[str, str], bytes] | None) -> Any:
    if answer is None or not answer[1].get("content-type", "").startswith("application/json"):
        return None
    try:
        return json.loads(answer[2])
    except ValueError:
        return None


def probe(state: RunState) -> list[dict[str, Any]]:
    """Per node: code, tier, parent, name, url, healthy, services {name: {url, healthy}}, nats."""
    from concurrent.futures import ThreadPoolExecutor

    urls: dict[tuple[str, str], str] = {}
    for code, entry in state.nodes.items():
        if entry.url:
            urls[(code, "health")] = entry.url + "/health"
        if state.process_per == "node":
            if entry.url:
                urls[(code, "ready")] = entry.url + "/ready"
        else:
            for service, url in entry.services.items():
                urls[(code, "service:" + service)] = url + "/ready"
        if entry.nats_monitor_url is not None:
            urls[(code, "nats")] = entry.nats_monitor_url + "/healthz?js-enabled-only=true"
    with ThreadPoolExecutor(max_workers=min(64, max(1, len(urls)))) as pool:
        futures = {key: pool.submit(http_get, url) for key, url in urls.items()}
        answers = {key: future.result() for key, future in futures.items()}

    def ok(key: tuple[str, str]) -> bool:
        answer = answers.get(key)
        return answer is not None and answer[0] == 200

    out: list[dict[str, Any]] = []
    for code, entry in state.nodes.items():
        node = state.topology.node(code)
        services: dict[str, dict[str, Any]] = {}
        if state.process_per == "node":
            ready = _json(answers.get((code, "ready")))
            flags = ready.get("services", {}) if isinstance(ready, dict) else {}
            for service, url in entry.services.items():
                services[service] = {"url": url, "healthy": bool(flags.get(service, False))}
        else:
            for service, url in entry.services.items():
                services[service] = {"url": url, "healthy": ok((code, "service:" + service))}
        nats: dict[str, Any] = {"url": entry.nats_client_url or entry.nats_url}
        if entry.nats_monitor_url is not None:
            health = _json(answers.get((code, "nats")))
            nats.update(
                {
                    "monitor_url": entry.nats_monitor_url,
                    "healthy": ok((code, "nats")) and isinstance(health, dict) and health.get("status") == "ok",
                }
            )
        out.append(
            {
                "code": code,
                "tier": node.tier.value,
                "parent": node.parent,
                "name": {"zh": node.name_zh, "en": node.name_en},
                "url": entry.url,
                "healthy": ok((code, "health")),
                "services": services,
                "nats": nats,
            }
        )
    return out
