"""`kam node up` on servers it did not start (issue 15): an external PostgreSQL by URL and an external
NATS given as a server list, one process per service behind the gateway, plain TCP only because the
config says `plain: true`. The node's state is private, and stopping it leaves nothing running."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import httpx
import yaml

from kam_cli.node import NodeHost
from kam_cli.nodeconfig import NodeConfig
from kam_cli.runtime import wait_gone
from kam_platform.embedded.ports import free_port
from kam_platform.embedded.postgres import ensure_database, with_database


def test_a_node_on_external_postgres_and_nats_in_service_mode(tmp_path: Path, pg_dsn: str, nats_url: str) -> None:
    name = f"kam_ext_{secrets.token_hex(4)}"
    ensure_database(pg_dsn, name)
    port = free_port()
    config = {
        "node": {"code": "hq", "tier": "group", "name": {"zh": "集团", "en": "Group HQ"}},
        "data_dir": "data",
        "process_per": "service",
        "listen": {"host": "127.0.0.1", "port": port},
        "database": {"url": with_database(pg_dsn, name)},
        "nats": {"external": {"urls": [f"nats://127.0.0.1:{free_port()}", nats_url]}},
        "plain": True,
    }
    path = tmp_path / "hq.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    host = NodeHost(NodeConfig.load(path), ready_timeout=240)
    pids: list[int] = []
    try:
        assert host.start() is None  # the root has no parent link
        pids = host.pids()
        rt = host.rt_or_fail()
        assert set(rt.processes) == {*host.specs, "gateway"}
        assert rt.nats is None and host.postgres is None  # neither server is ours
        assert stat.S_IMODE(host.state_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(host.secrets_path.stat().st_mode) == 0o600
        ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=10.0)
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["services"]) == set(host.specs)
        # a path no service serves: the gateway's own 404 envelope
        missing = httpx.get(f"http://127.0.0.1:{port}/api/v1/nowhere", timeout=10.0)
        assert missing.status_code == 404 and missing.json()["@type"] == "Error"
        attached = NodeHost(NodeConfig.load(path))
        assert attached.attach() and attached.status()["ready"] is True
    finally:
        pids = pids or host.pids()
        host.stop()
    assert wait_gone(pids, timeout=30) == []
    assert not host.state_path.exists()
