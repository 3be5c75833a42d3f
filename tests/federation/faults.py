"""Fault-injection helpers for federation tests: a TCP proxy to cut a leafnode link, a load generator
through the real import API, and an owner-versus-replica equality check straight from each node's
database."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import socket
import threading
from typing import Any

import asyncpg
import httpx

from kam_platform.embedded.ports import free_port


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


def customers_csv(prefix: str, count: int) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["customerCode", "name", "industry", "grade", "accountManager"])
    for i in range(count):
        w.writerow([f"{prefix}{i:06d}", f"故障测试{prefix}客户{i:06d}", "MANUFACTURING", "B", f"am0{i % 5 + 1}"])
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


STATE_SQL = """
SELECT 'customer' AS kind, id::text, version, md5(concat_ws('|', name, grade, life_status, owner_node,
       account_manager, deleted_at IS NULL)) AS sum FROM customer.customer WHERE owner_node = $1
UNION ALL
SELECT 'contact', id::text, version, md5(concat_ws('|', full_name, phone, deleted_at IS NULL))
  FROM customer.contact WHERE owner_node = $1
UNION ALL
SELECT 'organization', id::text, version, md5(name) FROM customer.organization WHERE owner_node = $1
UNION ALL
SELECT 'audit', id::text, 1, md5(changes::text) FROM customer.audit WHERE owner_node = $1
"""


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
