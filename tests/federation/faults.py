"""Fault-injection helpers for federation tests: a TCP proxy to cut a leafnode link, load generators
through the real import API and through concurrent API clients, and the convergence check: every
replica equals its owner on every replicated record type and column (straight from each node's
database), no dead letters, each event once and in per-aggregate order in the streams."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import socket
import threading
from typing import Any

import asyncpg
import httpx
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from kam_platform.embedded.ports import free_port

from .conftest import Nodes, wait_until


class LinkProxy:
    """A TCP proxy in a leafnode link; `cut()` drops every connection and refuses new ones until
    `restore()`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._open = threading.Event()
        self._open.set()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            conns, self._conns = self._conns, set()
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._stopping = True
        self.cut()
        self._server.close()


# every fault load writes at gd-gz: its customer codes lie in gd-gz's code namespace
CODE_NAMESPACE = "KAGDGZ"


def customers_csv(prefix: str, count: int) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["customerCode", "name", "industry", "grade", "accountManager"])
    for i in range(count):
        w.writerow(
            [
                f"{CODE_NAMESPACE}{prefix}{i:06d}",
                f"故障测试{prefix}客户{i:06d}",
                "MANUFACTURING",
                "B",
                f"am0{i % 5 + 1}",
            ]
        )
    return out.getvalue().encode()


def import_batch(base_url: str, token: str, prefix: str, count: int) -> dict[str, Any]:
    r = httpx.post(
        base_url + "/api/v1/customer/imports",
        content=customers_csv(prefix, count),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        timeout=300,
    )
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


# Every replicated record type, compared on every column the wire carries. Left out, because the
# event does not carry them and the replica fills them itself: deleted_at's timestamp (compared as a
# flag), an organization's created_at/updated_at, an assignment's account_manager_name, an audit's note,
# a designation's and a response's created_at. An assignment's valid_to is computed at each node from
# the order the assignments arrive in, so comparing it checks per-customer order too.
REPLICATED: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    # kind, table, columns not on the wire, has a version
    ("customer", "customer.customer", ("deleted_at",), True),
    ("contact", "customer.contact", ("deleted_at",), True),
    ("organization", "customer.organization", ("deleted_at", "created_at", "updated_at"), True),
    ("assignment", "customer.account_manager_assignment", ("account_manager_name",), False),
    ("audit", "customer.audit", ("note",), False),
    ("designation", "customer.designation", ("created_at",), True),
    ("designation_response", "customer.designation_response", ("created_at",), True),
)
DELETABLE = {"customer", "contact", "organization"}


def _state_sql() -> str:
    parts = []
    for kind, table, skip, versioned in REPLICATED:
        flag = "t.deleted_at IS NOT NULL" if kind in DELETABLE else "false"
        skipped = ", ".join(f"'{c}'" for c in skip)
        parts.append(
            f"SELECT '{kind}' AS kind, t.id::text AS id, {'t.version' if versioned else '1'}::bigint AS version, "
            f"md5(((to_jsonb(t) - ARRAY[{skipped}]::text[]) || jsonb_build_object('deleted', {flag}))::text) AS sum "
            f"FROM {table} t WHERE t.owner_node = $1"
        )
    return "\nUNION ALL\n".join(parts)


STATE_SQL = _state_sql()


async def _state(dsn: str, owner: str) -> dict[tuple[str, str], tuple[int, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(STATE_SQL, owner)
    finally:
        await conn.close()
    return {(r["kind"], r["id"]): (r["version"], r["sum"]) for r in rows}


def records_of(database_url: str, owner: str) -> dict[tuple[str, str], tuple[int, str]]:
    """Every record `owner` masters as seen in one node's database: (kind, id) → (version, checksum)."""
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return asyncio.run(_state(dsn, owner))


def column_diff(owner_url: str, replica_url: str, kind: str, record_id: str) -> dict[str, tuple[Any, Any]]:
    """The columns of one record that differ between the owner's and a replica's database."""
    table = {k: t for k, t, _, _ in REPLICATED}[kind]

    async def row(url: str) -> dict[str, Any]:
        conn = await asyncpg.connect(_dsn(url))
        try:
            text = await conn.fetchval(f"SELECT to_jsonb(t)::text FROM {table} t WHERE t.id = $1::uuid", record_id)
        finally:
            await conn.close()
        return json.loads(text) if text else {}

    a, b = asyncio.run(row(owner_url)), asyncio.run(row(replica_url))
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def differ_by_kind(owner_view: dict[Any, Any], replica_view: dict[Any, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in owner_view.items():
        if k in replica_view and replica_view[k] != v:
            out.setdefault(k[0], []).append(k[1])
    return out


def missing_by_kind(owner_view: dict[Any, Any], replica_view: dict[Any, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for k in owner_view:
        if k not in replica_view:
            out[k[0]] = out.get(k[0], 0) + 1
    return out


def compare(owner_view: dict[Any, Any], replica_view: dict[Any, Any]) -> dict[str, int]:
    missing = sum(1 for k in owner_view if k not in replica_view)
    extra = sum(1 for k in replica_view if k not in owner_view)
    differ = sum(1 for k, v in owner_view.items() if k in replica_view and replica_view[k] != v)
    return {"missing": missing, "extra": extra, "differ": differ, "total": len(owner_view)}


def _dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def scalar(database_url: str, sql: str, *args: Any) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(_dsn(database_url))
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def dead_letters(database_url: str) -> dict[str, int]:
    """Dead-lettered events per schema (every service's dead_letter table) in one node's database."""

    async def run() -> dict[str, int]:
        conn = await asyncpg.connect(_dsn(database_url))
        try:
            schemas = await conn.fetch(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = 'dead_letter'"
            )
            return {
                r["table_schema"]: int(await conn.fetchval(f'SELECT count(*) FROM "{r["table_schema"]}".dead_letter'))
                for r in schemas
            }
        finally:
            await conn.close()

    return asyncio.run(run())


def stream_order(nats_url: str, stream: str, subject: str) -> dict[str, int]:
    """Read every message of `stream` under `subject`: how many, how many event ids occur twice, and
    how many times an aggregate's version goes down in stream order (the order replicas apply in)."""
    from kam_contracts import envelope_pb2

    async def run() -> dict[str, int]:
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream(timeout=30)
            config = ConsumerConfig(
                ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60.0
            )
            sub = await js.pull_subscribe(subject, stream=stream, config=config)
            seen: set[str] = set()
            last: dict[tuple[str, str], int] = {}
            out = {"messages": 0, "duplicates": 0, "regressions": 0}
            while True:
                try:
                    msgs = await sub.fetch(2000, timeout=5)
                except TimeoutError:
                    break
                for m in msgs:
                    env = envelope_pb2.Envelope.FromString(m.data)
                    out["messages"] += 1
                    if env.event_id in seen:
                        out["duplicates"] += 1
                    seen.add(env.event_id)
                    key = (env.aggregate_type, env.aggregate_id)
                    if not env.snapshot and env.version < last.get(key, 0):
                        out["regressions"] += 1
                    if not env.snapshot:
                        last[key] = max(env.version, last.get(key, 0))
                if msgs and msgs[-1].metadata.num_pending == 0:
                    break
            await sub.unsubscribe()
            return out
        finally:
            await nc.close()

    return asyncio.run(run())


CUSTOMER = "/tmf-api/customerManagement/v4/customer"
INDIVIDUAL = "/tmf-api/party/v4/individual"


class ApiLoad:
    """Several clients writing through one node's API while a fault runs. Each repeats: create a
    customer, add a contact, assign its account manager twice, patch it. Every acknowledged write is
    recorded (to find it at the owner afterwards), and every failure by its status; a 503 must carry
    Retry-After. A client that fails starts over with a new customer after a short back-off."""

    def __init__(self, base_url: str, token: str, prefix: str, *, clients: int = 3) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.prefix = prefix
        self.clients = clients
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.customers: dict[str, int] = {}  # id → highest acknowledged version
        self.contacts: set[str] = set()
        self.assignments: set[tuple[str, str]] = set()  # (customer id, account manager)
        self.failures: dict[str, int] = {}  # "503", "500", "transport", …
        self.unavailable_without_retry_after = 0
        self.acked = 0
        self.samples: list[str] = []  # the first few failures, for a failing test's message

    def start(self) -> ApiLoad:
        for i in range(self.clients):
            t = threading.Thread(target=self._client, args=(i,), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> ApiLoad:
        self._stop.set()
        for t in self._threads:
            t.join(120)
        return self

    def __repr__(self) -> str:
        return f"ApiLoad(acked={self.acked}, failures={self.failures}, samples={self.samples})"

    def wait_acked(self, count: int, *, timeout: float, what: str) -> None:
        """Wait until `count` more writes than now are acknowledged."""
        target = self.acked + count
        try:
            wait_until(lambda: self.acked >= target, timeout=timeout, what=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {self!r}") from None

    def _fail(self, key: str) -> None:
        with self._lock:
            self.failures[key] = self.failures.get(key, 0) + 1

    def _ok(self, r: httpx.Response, expect: int) -> bool:
        if r.status_code == expect:
            with self._lock:
                self.acked += 1
            return True
        if r.status_code == 503 and not r.headers.get("Retry-After"):
            with self._lock:
                self.unavailable_without_retry_after += 1
        self._fail(str(r.status_code))
        with self._lock:
            if len(self.samples) < 5:
                self.samples.append(f"{r.request.method} {r.request.url.path} → {r.status_code} {r.text[:300]}")
        return False

    def _client(self, n: int) -> None:
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=60.0) as http:
            i = 0
            while not self._stop.is_set():
                i += 1
                try:
                    self._round(http, f"{CODE_NAMESPACE}{self.prefix}{n}-{i:05d}", i)
                except httpx.TransportError:
                    self._fail("transport")
                    self._stop.wait(0.2)

    def _round(self, http: httpx.Client, code: str, i: int) -> None:
        r = http.post(
            CUSTOMER,
            json={"name": f"故障写入{code}", "customerCode": code, "industry": "FINANCE", "grade": "B"},
        )
        if not self._ok(r, 201):
            self._stop.wait(0.2)
            return
        cid = r.json()["id"]
        with self._lock:
            self.customers[cid] = r.json()["version"]
        r = http.post(
            INDIVIDUAL,
            json={
                "givenName": "伟",
                "familyName": "王",
                "customer": {"id": cid},
                "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": f"1390{i:07d}"}}],
            },
        )
        if self._ok(r, 201):
            with self._lock:
                self.contacts.add(r.json()["id"])
        # two assignments in a row: the first one's end (valid_to) is where the second begins, at the
        # owner and at every replica applying them in order
        for manager in (f"am0{i % 5 + 1}", f"am0{(i + 1) % 5 + 1}"):
            r = http.put(f"/api/v1/customer/customers/{cid}/account-manager", json={"accountManager": manager})
            if self._ok(r, 200):
                with self._lock:
                    self.assignments.add((cid, manager))
                    self.customers[cid] = max(self.customers[cid], r.json()["version"])
        r = http.patch(CUSTOMER + f"/{cid}", json={"description": f"改 {code}"})
        if self._ok(r, 200):
            with self._lock:
                self.customers[cid] = max(self.customers[cid], r.json()["version"])

    def missing_at(self, database_url: str) -> dict[str, int]:
        """Acknowledged writes the owner's database does not hold (a customer below the version it
        acknowledged counts as missing)."""

        async def run() -> dict[str, int]:
            conn = await asyncpg.connect(_dsn(database_url))
            try:
                versions = {
                    str(r["id"]): r["version"]
                    for r in await conn.fetch(
                        "SELECT id, version FROM customer.customer WHERE id = ANY($1::uuid[])", list(self.customers)
                    )
                }
                contacts = {
                    str(r["id"])
                    for r in await conn.fetch(
                        "SELECT id FROM customer.contact WHERE id = ANY($1::uuid[])", list(self.contacts)
                    )
                }
                assigned = {
                    (str(r["customer_id"]), r["account_manager"])
                    for r in await conn.fetch(
                        "SELECT customer_id, account_manager FROM customer.account_manager_assignment "
                        "WHERE customer_id = ANY($1::uuid[])",
                        list({c for c, _ in self.assignments}),
                    )
                }
            finally:
                await conn.close()
            return {
                "customer": sum(1 for c, v in self.customers.items() if versions.get(c, 0) < v),
                "contact": len(self.contacts - contacts),
                "assignment": len(self.assignments - assigned),
            }

        return asyncio.run(run())


def converged(nodes: Nodes, owner: str = "gd-gz", timeout: float = 240.0) -> dict[str, int]:
    """Wait until every ancestor of `owner` holds exactly the records `owner` masters — every record
    type, every replicated column — then check that no node dead-lettered anything and that the owner's
    stream, and the group's aggregate of it, carry each event once with every aggregate's versions in
    order. Returns the owner's record counts by kind."""
    fed = nodes.fed
    holders = fed.topology.ancestors(owner)
    truth: dict[Any, Any] = {}

    def equal() -> bool:
        nonlocal truth
        truth = records_of(fed.database_url(owner), owner)
        return all(
            compare(truth, records_of(fed.database_url(n), owner))
            == {"missing": 0, "extra": 0, "differ": 0, "total": len(truth)}
            for n in holders
        )

    try:
        wait_until(equal, timeout=timeout, what="replicas equal to the owner", interval=1.0)
    except AssertionError:
        report: dict[str, Any] = {}
        for n in holders:
            replica = records_of(fed.database_url(n), owner)
            differ = differ_by_kind(truth, replica)
            report[n] = {
                **compare(truth, replica),
                "missingByKind": missing_by_kind(truth, replica),
                "differByKind": {k: len(v) for k, v in differ.items()},
                "sample": {
                    k: column_diff(fed.database_url(owner), fed.database_url(n), k, ids[0]) for k, ids in differ.items()
                },
            }
        raise AssertionError(f"not converged: {report}") from None
    dead = {n.code: dead_letters(fed.database_url(n.code)) for n in fed.topology.ordered()}
    assert all(count == 0 for per_node in dead.values() for count in per_node.values()), dead
    for server, stream in ((owner, f"UP_{owner}"), (fed.topology.ordered()[0].code, "UP_ALL")):
        order = stream_order(fed.nats_url(server), stream, f"up.{owner}.>")
        assert order["duplicates"] == 0 and order["regressions"] == 0, (stream, order)
    kinds: dict[str, int] = {}
    for kind, _ in truth:
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds
