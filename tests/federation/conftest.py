"""Federation fixtures: real nodes (nats-server per node, leafnode links, every service) started by the
same code as `kam up`, and helpers to talk to them."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil

from kam_cli.runtime import Federation, wait_gone
from kam_platform.testing.helpers import REPO as REPO
from kam_platform.testing.helpers import topology_file
from kam_platform.testing.helpers import wait_until as wait_until
from kam_platform.testing.shared import shared_fixture

DEMO = topology_file("demo")
TRIO = topology_file("trio")
CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"


class Nodes:
    """A running federation plus tokens and HTTP helpers per node."""

    def __init__(self, fed: Federation) -> None:
        self.fed = fed
        self._tokens: dict[tuple[str, str, str | None], str] = {}
        self.http = httpx.Client(timeout=30.0)

    def token(self, node: str, user: str = "admin", scope: str | None = None) -> str:
        key = (node, user, scope)
        if key not in self._tokens:
            from kam_org.tokens import issue_token

            self._tokens[key] = asyncio.run(
                issue_token(self.fed.database_url(node), node, user, self.fed.topology, scope_node=scope)
            )
        return self._tokens[key]

    def headers(self, node: str, scope: str | None = None, user: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(node, user, scope)}"}

    def url(self, node: str, path: str) -> str:
        return self.fed.node_url(node) + path

    def get(self, node: str, path: str, scope: str | None = None, **kw: Any) -> httpx.Response:
        return self.http.get(self.url(node, path), headers=self.headers(node, scope), **kw)

    def post(self, node: str, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.http.post(self.url(node, path), headers=self.headers(node), json=body, **kw)

    def put(self, node: str, path: str, body: Any) -> httpx.Response:
        return self.http.put(self.url(node, path), headers=self.headers(node), json=body)

    def patch(self, node: str, path: str, body: Any) -> httpx.Response:
        return self.http.patch(self.url(node, path), headers=self.headers(node), json=body)

    def delete(self, node: str, path: str) -> httpx.Response:
        return self.http.delete(self.url(node, path), headers=self.headers(node))

    def create_customer(self, node: str, **body: Any) -> dict[str, Any]:
        payload = {"industry": "FINANCE", "grade": "B", **body}
        r = self.post(node, CUSTOMER_PATH, payload)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def customer_state(self, node: str, **params: Any) -> dict[str, tuple[int, str, str]]:
        """{id: (version, ownerNode, checksum of the content)} of every customer a node's admin sees."""
        out: dict[str, tuple[int, str, str]] = {}
        offset = 0
        while True:
            r = self.get(node, CUSTOMER_PATH, params={"limit": 1000, "offset": offset, **params})
            assert r.status_code == 200, r.text
            page = r.json()
            for c in page:
                content = {k: v for k, v in c.items() if k not in ("href", "engagedParty", "parentCustomer")}
                out[c["id"]] = (
                    c["version"],
                    c["ownerNode"],
                    hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest(),
                )
            if len(page) < 1000:
                return out
            offset += 1000

    def close(self) -> None:
        self.http.close()


@contextlib.contextmanager
def run_dir(name: str) -> Iterator[Path]:
    """A federation's run directory outside pytest's basetemp. Every pytest session that starts on
    the machine prunes other sessions' basetemps beyond the newest three and resets
    /tmp/pytest-of-<user> to 0700, which pulls the data directory from under a running PostgreSQL (it
    runs as its own system user when the tests run as root, and must traverse to it)."""
    base = Path(tempfile.mkdtemp(prefix=f"kam-{name}-"))
    try:
        yield base / "run"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def processes_using(path: Path) -> list[int]:
    """Processes whose command line mentions `path` (nats-server configs, the PostgreSQL data dir)."""
    found: list[int] = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if any(str(path) in arg for arg in proc.info["cmdline"] or []):
            found.append(proc.info["pid"])
    return found


@contextlib.contextmanager
def running(topology: Path, name: str, *, rules: bool = False, pg_fast: bool = True) -> Iterator[Nodes]:
    """A federation of `topology`, one process per node, staff seeded everywhere (and the national rules
    with `rules`); stopped cleanly when the block is left — every process gone, none left using its run
    directory, its run.json removed (test_smoke's check of a stop in node mode)."""
    from kam_org.seed import seed as seed_org
    from kam_rules.seed import seed as seed_rules

    with run_dir(name) as where:
        fed = Federation(
            topology, where, process_per="node", use_environment=False, pg_fast=pg_fast, clone_databases=True
        )
        pids: list[int] = []
        try:
            fed.start()
            pids = fed.pids()
            for node in fed.topology.ordered():
                asyncio.run(seed_org(fed.database_url(node.code), node.code, fed.topology))
                if rules:
                    asyncio.run(seed_rules(fed.database_url(node.code), node.code, fed.topology))
            nodes = Nodes(fed)
            yield nodes
            nodes.close()
        finally:
            pids = pids or fed.pids()
            fed.stop()
            assert wait_gone(pids, timeout=30) == []
            assert processes_using(where) == []
            assert not fed.state_path.exists()


@shared_fixture
def demo() -> Iterator[Nodes]:
    """The six-node demo federation, one process per node, staff seeded everywhere; one for every module
    using it (they run in a row), stopped after the last."""
    with running(DEMO, "demo") as nodes:
        yield nodes


@shared_fixture
def trio() -> Iterator[Nodes]:
    """hq → gd → gd-gz, one process per node; staff seeded everywhere, the national rules at hq; one for
    every module using it (they run in a row), stopped after the last."""
    with running(TRIO, "trio", rules=True) as nodes:
        yield nodes
