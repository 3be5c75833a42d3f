"""Faults with a few thousand events in flight, each ending with 0 lost, 0 duplicated and per-aggregate
order kept (every replica equals its owner: same ids, same versions, same content): kill -9 of a
province's and of the group's nats-server, a cut leafnode link, the relay killed between publish and
marking sent, a service killed while applying, PostgreSQL restarted — and a node away long enough to
build a 100,000-event backlog. Convergence is awaited with a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from kam_cli.runtime import NODE_PROCESS, Federation, wait_gone

from .conftest import REPO, Nodes, wait_until
from .faults import LinkProxy, compare, import_batch, missing_by_kind, records_of

pytestmark = [pytest.mark.federation, pytest.mark.slow]

TRIO = REPO / "deploy" / "topologies" / "trio.yaml"
RECOVER = 240.0  # seconds: JetStream's own source retry can take minutes; the sync watcher is faster


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Nodes, LinkProxy]]:
    """hq → gd → gd-gz, one process per node, gd-gz's leafnode link to gd through a TCP proxy."""
    from kam_org.seed import seed as seed_org

    fed = Federation(
        TRIO, tmp_path_factory.mktemp("faults") / "run", process_per="node", use_environment=False, pg_fast=True
    )
    proxy: LinkProxy | None = None
    pids: list[int] = []
    try:
        fed.start()
        gd_leaf = fed.nats("gd").leaf_port
        assert gd_leaf is not None
        proxy = LinkProxy(gd_leaf)
        gz = fed.nats("gd-gz")
        gz.stop()
        gz.parent_leaf_url = fed.credentials().leaf_remote_url(f"nats-leaf://127.0.0.1:{proxy.port}", "gd-gz")
        gz.start()
        fed.wait_leafnodes(30)
        pids = fed.pids()
        for node in fed.topology.ordered():
            asyncio.run(seed_org(fed.database_url(node.code), node.code, fed.topology))
        nodes = Nodes(fed)
        yield nodes, proxy
        nodes.close()
    finally:
        if proxy is not None:
            proxy.close()
        pids = pids or fed.pids()
        fed.stop()
        assert wait_gone(pids, timeout=30) == []


def converged(nodes: Nodes, owner: str = "gd-gz", timeout: float = RECOVER) -> dict[str, int]:
    """Wait until gd and hq hold exactly the records the owner masters; return the owner's counts."""
    fed = nodes.fed
    truth: dict[Any, Any] = {}

    def equal() -> bool:
        nonlocal truth
        truth = records_of(fed.database_url(owner), owner)
        return all(
            compare(truth, records_of(fed.database_url(n), owner))
            == {"missing": 0, "extra": 0, "differ": 0, "total": len(truth)}
            for n in ("gd", "hq")
        )

    try:
        wait_until(equal, timeout=timeout, what="replicas equal to the owner", interval=1.0)
    except AssertionError:
        report = {
            n: (compare(truth, replica := records_of(fed.database_url(n), owner)), missing_by_kind(truth, replica))
            for n in ("gd", "hq")
        }
        raise AssertionError(f"not converged: {report}") from None
    kinds: dict[str, int] = {}
    for kind, _ in truth:
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def load_during(nodes: Nodes, prefix: str, fault: Any, *, rows: int = 1500, batches: int = 2) -> int:
    """Import `batches` × `rows` customers at gd-gz in the background and inject `fault` meanwhile."""
    url, token = nodes.fed.node_url("gd-gz"), nodes.token("gd-gz")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(lambda: [import_batch(url, token, f"{prefix}{b}", rows) for b in range(batches)])
        fault()
        results = future.result(timeout=600)
    return sum(r["created"] for r in results)


def test_kill_9_of_a_provinces_nats_server(trio: tuple[Nodes, LinkProxy]) -> None:
    nodes, _ = trio
    created = load_during(
        nodes, "FKP", lambda: (time.sleep(1.0), nodes.fed.kill_nats("gd"), nodes.fed.restart_nats("gd"))
    )
    assert created == 3000
    kinds = converged(nodes)
    assert kinds["customer"] >= 3000


def test_kill_9_of_the_groups_nats_server(trio: tuple[Nodes, LinkProxy]) -> None:
    nodes, _ = trio
    load_during(nodes, "FKG", lambda: (time.sleep(1.0), nodes.fed.kill_nats("hq"), nodes.fed.restart_nats("hq")))
    converged(nodes)


def test_cut_leafnode_link_of_a_local_network(trio: tuple[Nodes, LinkProxy]) -> None:
    nodes, proxy = trio

    def cut() -> None:
        time.sleep(0.5)
        proxy.cut()
        # while cut, the local network keeps working: writes land locally and wait in its stream
        time.sleep(8)
        proxy.restore()

    load_during(nodes, "FCL", cut)
    converged(nodes)


def test_relay_killed_between_publish_and_marking_sent(trio: tuple[Nodes, LinkProxy]) -> None:
    """The node process (hosting the relay) dies mid-publish; on restart the relay republishes what it
    had not marked, and JetStream drops the copies by Nats-Msg-Id."""
    nodes, _ = trio
    fed = nodes.fed
    before = _stream_messages(fed.nats_url("gd-gz"), "UP_gd-gz")
    outbox_before = _outbox_rows(fed.database_url("gd-gz"))
    result = import_batch(fed.node_url("gd-gz"), nodes.token("gd-gz"), "FKR", 3000)
    assert result["created"] == 3000
    time.sleep(0.3)  # let the relay start publishing this backlog, then kill it mid-way
    fed.kill_service("gd-gz", NODE_PROCESS)
    fed.restart_service("gd-gz", NODE_PROCESS)
    wait_until(lambda: _unsent(fed.database_url("gd-gz")) == 0, timeout=RECOVER, what="outbox drained")
    new_events = _outbox_rows(fed.database_url("gd-gz")) - outbox_before
    assert _stream_messages(fed.nats_url("gd-gz"), "UP_gd-gz") - before == new_events  # no duplicates
    converged(nodes)


def test_service_killed_while_applying_a_batch(trio: tuple[Nodes, LinkProxy]) -> None:
    nodes, _ = trio
    fed = nodes.fed

    def kill_applier() -> None:
        time.sleep(2.0)
        fed.kill_service("gd", NODE_PROCESS)
        fed.restart_service("gd", NODE_PROCESS)

    load_during(nodes, "FKA", kill_applier)
    converged(nodes)


def test_postgresql_restart(trio: tuple[Nodes, LinkProxy]) -> None:
    nodes, _ = trio
    fed = nodes.fed

    def restart() -> None:
        time.sleep(1.0)
        fed.restart_postgres()

    # an import request in flight while the database restarts may fail as a whole; nothing is half-written
    with contextlib.suppress(Exception):
        load_during(nodes, "FPG", restart)
    converged(nodes)


def test_node_away_with_a_100k_event_backlog_converges(trio: tuple[Nodes, LinkProxy]) -> None:
    nodes, proxy = trio
    fed = nodes.fed
    proxy.cut()
    try:
        before = _outbox_rows(fed.database_url("gd-gz"))
        for b in range(26):  # 4 events per imported customer (customer, organization, audit, assignment)
            import_batch(fed.node_url("gd-gz"), nodes.token("gd-gz"), f"FBL{b:02d}", 1000)
        backlog = _outbox_rows(fed.database_url("gd-gz")) - before
        assert backlog >= 100_000, backlog
        wait_until(lambda: _unsent(fed.database_url("gd-gz")) == 0, timeout=RECOVER, what="backlog in gd-gz stream")
    finally:
        proxy.restore()
    kinds = converged(nodes, timeout=600)
    assert kinds["customer"] >= 26_000


def _stream_messages(nats_url: str, stream: str) -> int:
    async def run() -> int:
        nc = await nats.connect(nats_url)
        try:
            return int((await nc.jetstream().stream_info(stream)).state.messages)
        finally:
            await nc.close()

    return asyncio.run(run())


def _scalar(database_url: str, sql: str) -> int:
    import asyncpg

    async def run() -> int:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            return int(await conn.fetchval(sql))
        finally:
            await conn.close()

    return asyncio.run(run())


def _outbox_rows(database_url: str) -> int:
    return _scalar(database_url, "SELECT count(*) FROM customer.outbox")


def _unsent(database_url: str) -> int:
    return _scalar(database_url, "SELECT count(*) FROM customer.outbox WHERE sent_at IS NULL")


__all__ = ["Path"]
