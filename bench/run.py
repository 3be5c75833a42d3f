"""KAM customer benchmarks, each reported against the physical ceiling measured in the same run.

(a) customer create through uvicorn and a raw HTTP/1.1 client at 1, 8, 32 clients vs raw asyncpg executing the same rows
(b) scoped list with X-Total-Count and Chinese substring search at N customers, per user scope
(c) import of N customers from CSV through the import service vs raw COPY of the same file
(x) the same N rows imported from XLSX, against the same raw COPY
(d) export of N customers to XLSX: time and peak RSS of the serving process

Usage: uv run python bench/run.py [--customers 1000000] [--api-n 2000] [--only a,b,c,x,d]
Results: bench/results/customer-<timestamp>.json (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from kam_customer.customer.rules import Industry
from kam_customer.importexport.schemas import EXPORT_HEADER
from kam_customer.main import MIGRATIONS, create_app
from kam_customer.seed import credit_code, customer_name
from kam_platform.auth import generate_signing_key, public_jwk, sign_token
from kam_platform.db.migrate import upgrade
from kam_platform.embedded.ports import free_port, port_is_open
from kam_platform.embedded.postgres import EmbeddedPostgres, ensure_database, with_database
from kam_platform.ids import uuid7
from kam_platform.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "deploy" / "topologies" / "demo.yaml"
RESULTS = ROOT / "bench" / "results"
# What the lists and searches (b) ran with (result key list_code; the report groups runs by it). Files
# before it have none: generic plans after five executions, parallel workers, an owner clause at hq.
LIST_CODE = "search planned per term, serial; no owner clause at the root"
NODE_WEIGHTS = {"hq": 5, "gd": 10, "js": 10, "gd-gz": 30, "gd-sz": 25, "js-nj": 20}
CITY = {"hq": "北京", "gd": "广东", "js": "江苏", "gd-gz": "广州", "gd-sz": "深圳", "js-nj": "南京"}
REGION = {"hq": "110000", "gd": "440000", "js": "320000", "gd-gz": "440100", "gd-sz": "440300", "js-nj": "320100"}
INDUSTRIES = [
    Industry.GOVERNMENT,
    Industry.FINANCE,
    Industry.EDUCATION,
    Industry.HEALTH,
    Industry.MANUFACTURING,
    Industry.TRANSPORT,
    Industry.ENERGY,
    Industry.INTERNET,
]
PERMS = ["customer:read", "customer:create", "customer:update", "customer:import", "customer:export"]
KID = "bench"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def asyncpg_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


class Auth:
    def __init__(self) -> None:
        self.key = generate_signing_key()
        self.jwks = json.dumps({"keys": [public_jwk(self.key, KID)]})

    def headers(self, node: str, scope: str | None = None, user: str = "bench") -> dict[str, str]:
        now = int(time.time())
        token = sign_token(
            self.key,
            KID,
            {
                "sub": user,
                "node": node,
                "scope_node": scope or node,
                "roles": ["analyst"],
                "perms": PERMS,
                "iat": now,
                "exp": now + 86400,
                "aud": "kam",
            },
        )
        return {"Authorization": f"Bearer {token}"}


def bench_settings(url: str, jwks: str, node: str) -> Settings:
    """One node's customer service alone: no relay, replication or hub (nothing reaches a nats-server,
    so no other process on the machine is talked to)."""
    return Settings(
        node=node,
        service="customer",
        topology_file=DEMO,
        database_url=url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        jwks_json=jwks,
    )


def settings(url: str, auth: Auth, node: str = "gd-gz") -> Settings:
    return bench_settings(url, auth.jwks, node)


def gen_row(rng: random.Random, i: int, node: str, prefix: str = "KB") -> list[str]:
    """One customer in the import/export column order (EXPORT_HEADER)."""
    industry = rng.choice(INDUSTRIES)
    city = CITY[node]
    return [
        f"{prefix}{node.upper().replace('-', '')}{i:08d}",
        customer_name(rng, industry, city),
        "SINGLE",
        "ENTERPRISE",
        "LOCAL",
        industry.value,
        "INTRINSIC",
        rng.choice("ABC"),
        "ACTIVE",
        "CONFIRMED",
        credit_code(rng, industry, REGION[node]),
        f"am0{rng.randint(1, 5)}",
        "客户经理",
        "",
        "大型",
        f"{city}市科技路{rng.randint(1, 999)}号",
        "",
    ]


def pick_node(rng: random.Random) -> str:
    return rng.choices(list(NODE_WEIGHTS), weights=list(NODE_WEIGHTS.values()))[0]


# --- (a) API create through the HTTP stack vs raw asyncpg executing the same rows -------------------

CREATE_LEVELS = (1, 8, 32)
CREATE_WARMUP = 20
# the order a create writes its tables in (foreign keys); tables not named here follow, by name
# The create benchmark's HTTP client (result key create.client; the report groups runs by it). Files
# before it have none: httpx.AsyncClient, ~3-4 ms of CPU per request on the server's cores.
CREATE_CLIENT = "raw HTTP/1.1"
# What the creates ran on (result key create.code; the report groups runs by it). Files before it have
# none: a Core insert().values() built per create, the duplicate count's statement built per create.
# "one SQL text per create shape, duplicate statements kept": the 7 December code before the driver.
CREATE_CODE = "rows and events in one statement on the driver, duplicate count on the driver"
# What the imports ran on (result key import.code; the report groups runs by it). Files before it have
# none: uuid7 as a stdlib UUID set from the integer, the credit check by str.index, a generator per
# staged row.
# "uuid7 from bytes, credit check by lookup, staged rows by itemgetter": 7 December, the XLSX read by
# ElementTree's iterparse.
IMPORT_CODE = (
    "uuid7 from bytes, credit check by lookup, staged rows by itemgetter; XLSX read on expat's callbacks; "
    "duplicate probe on the chunk's arrays, looked up beside the next chunk's planning"
)
# The customers already at the node when the creates start (result key create.base_customers). Files
# before it have none: the creates started from an empty table, whose statistics then lagged behind
# its growth until autovacuum's next pass, and the duplicate count scanned the whole table computing
# every row's name key (PostgreSQL ~20 ms of CPU per create at 3,000 rows; docs/benchmarks.md).
CREATE_BASE = 10_000
WRITE_ORDER = ("organization", "customer", "account_manager_assignment", "audit", "outbox")


def _lat(values: list[float]) -> dict[str, float]:
    return {f"p{p}_ms": round(pct(values, p) * 1000, 2) for p in (50, 95, 99)}


async def _clients(n: int, concurrency: int, one: Any) -> tuple[float, list[float]]:
    """`n` calls of `one(i)` by `concurrency` workers; wall time and each call's latency."""
    counter = iter(range(n))
    latencies: list[float] = []

    async def worker() -> None:
        for i in counter:
            t0 = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t0, latencies


class HttpConnection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads a Content-Length answer: the load
    generator of the create benchmark. It costs tens of microseconds of CPU per request, where httpx
    costs 3-4 ms on these cores, which the server under test then did not have (docs/benchmarks.md,
    "API create"); the ceiling's client, asyncpg, is as light."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def post_json(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, bytes]:
        payload = json.dumps(body, ensure_ascii=False).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n{head}\r\n".encode()
            + payload
        )
        status_line, *lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        fields = dict(line.split(": ", 1) for line in lines if ": " in line)
        length = {k.lower(): v for k, v in fields.items()}.get("content-length")
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {status_line}")
        return int(status_line.split(" ", 2)[1]), await self.reader.readexactly(int(length))

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used (Linux /proc/<pid>/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_process(url: str, jwks: str, node: str) -> tuple[subprocess.Popen[bytes], int]:
    """The customer service of `node` under uvicorn in a child process (one process, as deployed)."""
    port = free_port()
    env = {**os.environ, "KAM_BENCH_SERVE": json.dumps({"url": url, "jwks": jwks, "port": port, "node": node})}
    proc = subprocess.Popen([sys.executable, __file__], env=env)
    deadline = time.monotonic() + 60
    while not port_is_open(port):
        if time.monotonic() > deadline or proc.poll() is not None:
            stop_process(proc)
            raise RuntimeError("the benchmark server did not start")
        time.sleep(0.1)
    return proc, port


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _written(conn: Any) -> dict[str, list[tuple[str, list[str], list[Any]]]]:
    """Every row in the customer schema grouped by the transaction that wrote it (xmin), in write
    order, keyed by the customer code of the transaction's customer row."""
    tables = [
        r["tablename"]
        for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'customer' AND tablename <> 'alembic_version'"
        )
    ]
    ordered = [t for t in WRITE_ORDER if t in tables] + sorted(t for t in tables if t not in WRITE_ORDER)
    by_xid: dict[str, list[tuple[str, list[str], list[Any]]]] = {}
    code_of: dict[str, str] = {}
    for t in ordered:
        cols = [
            r["attname"]
            for r in await conn.fetch(
                "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                f"customer.{t}",
            )
        ]
        select_list = ", ".join(f'"{c}"' for c in cols)
        for r in await conn.fetch(f'SELECT xmin::text AS xid__, {select_list} FROM customer."{t}"'):
            by_xid.setdefault(r["xid__"], []).append((t, cols, [r[c] for c in cols]))
            if t == "customer":
                code_of[r["xid__"]] = r["customer_code"]
    return {code_of[x]: rows for x, rows in by_xid.items() if x in code_of}


async def bench_create(server_dsn: str, auth: Auth, n: int, pool_size: int) -> dict[str, Any]:
    """Throughput and latency of POST /customer through uvicorn (a raw keep-alive HTTP/1.1 client,
    HttpConnection) at 1, 8 and 32 clients, and
    the ceiling: raw asyncpg executing the same rows (read back from the API's database, grouped by
    the transaction that wrote them) in one transaction each, same concurrency, a pool of the same
    size, into a fresh database with the same schema."""
    api_db, raw_db = "kam_bench_create", "kam_bench_create_raw"
    for db in (api_db, raw_db):
        ensure_database(server_dsn, db)
        upgrade(asyncpg_url(with_database(server_dsn, db)), MIGRATIONS)
        # a node in use: its customers there, their statistics current (what autovacuum keeps)
        await load_customers(asyncpg_url(with_database(server_dsn, db)), CREATE_BASE, node="gd-gz")
    api_url = asyncpg_url(with_database(server_dsn, api_db))
    proc, port = serve_process(api_url, auth.jwks, "gd-gz")
    headers = auth.headers("gd-gz")
    rng = random.Random(1)
    out: dict[str, Any] = {
        "n": n,
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "client": CREATE_CLIENT,
        "code": CREATE_CODE,
        "base_customers": CREATE_BASE,
        "levels": {},
    }
    try:
        for c in CREATE_LEVELS:
            connections: asyncio.Queue[HttpConnection] = asyncio.Queue()
            for _ in range(c):
                connections.put_nowait(await HttpConnection.open("127.0.0.1", port))
            try:

                async def create(
                    i: int, tag: str = f"C{c:02d}", connections: asyncio.Queue[HttpConnection] = connections
                ) -> None:
                    industry = rng.choice(INDUSTRIES)
                    body = {
                        "name": customer_name(rng, industry, "广州"),
                        "industry": industry.value,
                        "grade": "B",
                        "customerCode": f"KAGDGZ{tag}{i:08d}",
                        "creditCode": credit_code(rng, industry, "440100"),
                        "relatedParty": [{"id": "am01", "name": "张伟", "role": "accountManager"}],
                    }
                    conn = await connections.get()
                    try:
                        status, text = await conn.post_json("/tmf-api/customerManagement/v4/customer", headers, body)
                    finally:
                        connections.put_nowait(conn)
                    if status != 201:
                        raise RuntimeError(f"create failed: {status} {text[:300]!r}")

                await _clients(CREATE_WARMUP, c, lambda i, f=create, c=c: f(i, f"W{c:02d}"))
                cpu0 = cpu_seconds(proc.pid)
                seconds, lat = await _clients(n, c, create)
                server_cpu = cpu_seconds(proc.pid) - cpu0
            finally:
                while not connections.empty():
                    await connections.get_nowait().close()
            out["levels"][str(c)] = {
                "api_seconds": round(seconds, 3),
                "api_per_second": round(n / seconds, 1),
                # the serving process's own CPU per create (what a lighter request path lowers)
                "api_server_cpu_ms": round(server_cpu / n * 1000, 2),
            }
            out["levels"][str(c)].update({f"api_{k}": v for k, v in _lat(lat).items()})
            log(f"  API, {c:2} clients: {n / seconds:7.1f}/s {_lat(lat)}, server CPU {server_cpu / n * 1000:.2f} ms")
    finally:
        stop_process(proc)
    src = await asyncpg.connect(with_database(server_dsn, api_db))
    try:
        written = await _written(src)
    finally:
        await src.close()
    pool = await asyncpg.create_pool(with_database(server_dsn, raw_db), min_size=pool_size, max_size=2 * pool_size)
    assert pool is not None
    try:
        for c in CREATE_LEVELS:

            async def replay(i: int, tag: str = f"C{c:02d}") -> None:
                async with pool.acquire() as conn, conn.transaction():
                    for table, cols, values in written[f"KAGDGZ{tag}{i:08d}"]:
                        names = ", ".join(f'"{x}"' for x in cols)
                        params = ", ".join(f"${k + 1}" for k in range(len(cols)))
                        await conn.execute(f'INSERT INTO customer."{table}" ({names}) VALUES ({params})', *values)

            await _clients(CREATE_WARMUP, c, lambda i, f=replay, c=c: f(i, f"W{c:02d}"))
            seconds, lat = await _clients(n, c, replay)
            level = out["levels"][str(c)]
            level.update({"raw_seconds": round(seconds, 3), "raw_per_second": round(n / seconds, 1)})
            level.update({f"raw_{k}": v for k, v in _lat(lat).items()})
            level["ratio_api_to_raw"] = round(level["api_per_second"] / level["raw_per_second"], 3)
            log(f"  raw, {c:2} clients: {n / seconds:7.1f}/s {_lat(lat)} ratio {level['ratio_api_to_raw']}")
        sample = written[f"KAGDGZC01{0:08d}"]
        out["rows_per_create"] = {t: sum(1 for x, _, _ in sample if x == t) for t, _, _ in sample}
        # context, not the goal: one single-row INSERT of the customer row alone, autocommit, 1 client
        async with pool.acquire() as conn:
            rows = [r for code, rs in written.items() if code.startswith("KAGDGZC01") for r in rs if r[0] == "customer"]
            t0 = time.perf_counter()
            for k, (_, cols, values) in enumerate(rows):
                fresh = dict(zip(cols, values, strict=True))
                fresh.update(id=uuid7(), customer_code=f"KAGDGZS{k:08d}")
                await conn.execute(
                    f"INSERT INTO customer.customer ({', '.join(cols)}) "
                    f"VALUES ({', '.join(f'${j + 1}' for j in range(len(cols)))})",
                    *fresh.values(),
                )
            single = time.perf_counter() - t0
        out["single_insert_per_second"] = round(len(rows) / single, 1)
    finally:
        await pool.close()
    return out


# --- (b) list and search at N --------------------------------------------------------------------


async def load_customers(url: str, n: int, *, node: str | None = None) -> dict[str, int]:
    """N customers spread over the demo nodes (or all of `node`), by COPY (stands in for replicated
    data), then vacuumed and analyzed."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    rng = random.Random(2)
    per_node: dict[str, int] = dict.fromkeys(NODE_WEIGHTS, 0)
    cols = (
        "id",
        "owner_node",
        "version",
        "customer_code",
        "name",
        "customer_type",
        "nature",
        "mgmt_level",
        "industry",
        "value_type",
        "grade",
        "life_status",
        "recog_status",
        "credit_code",
        "account_manager",
        "account_manager_name",
        "enterprise_scale",
        "address",
        "created_at",
        "updated_at",
    )
    now = datetime.now(UTC)
    try:
        done = 0
        while done < n:
            batch = []
            for i in range(done, min(n, done + 50_000)):
                owner = node or pick_node(rng)
                per_node[owner] = per_node.get(owner, 0) + 1
                r = gen_row(rng, i, owner, prefix="KL")
                batch.append(
                    (
                        uuid7(),
                        owner,
                        1,
                        r[0],
                        r[1],
                        r[2],
                        r[3],
                        r[4],
                        r[5],
                        r[6],
                        r[7],
                        r[8],
                        r[9],
                        r[10],
                        r[11],
                        r[12],
                        r[14],
                        r[15],
                        now,
                        now,
                    )
                )
            await conn.copy_records_to_table("customer", schema_name="customer", records=batch, columns=cols)
            done += len(batch)
        # replicated data in steady state has been vacuumed (autovacuum): visibility map set, so the
        # X-Total-Count can be an index-only scan; measure that state, not the minute after a bulk load
        await conn.execute("VACUUM ANALYZE customer.customer")
    finally:
        await conn.close()
    return per_node


async def bench_list(url: str, auth: Auth, runs: int) -> dict[str, Any]:
    app = create_app(settings(url, auth))
    users = {"hq": auth.headers("hq"), "gd": auth.headers("gd"), "gd-gz": auth.headers("gd-gz")}
    queries = {
        "list": {"limit": "20"},
        "q=银行": {"q": "银行", "limit": "20"},
        "q=人民医院": {"q": "人民医院", "limit": "20"},
    }
    out: dict[str, Any] = {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gd-gz.bench") as client,
    ):
        for user, headers in users.items():
            for name, params in queries.items():
                times = []
                total = None
                relation = "eq"
                for i in range(runs + 3):
                    t0 = time.perf_counter()
                    r = await client.get("/tmf-api/customerManagement/v4/customer", params=params, headers=headers)
                    dt = (time.perf_counter() - t0) * 1000
                    if r.status_code != 200:
                        raise RuntimeError(f"list failed: {r.status_code} {r.text}")
                    total = int(r.headers["x-total-count"])
                    relation = r.headers.get("x-total-count-relation", "eq")
                    if i >= 3:
                        times.append(dt)
                out[f"{user} {name}"] = {
                    "total": total,
                    # "gte": the count is a lower bound (a free-text search past the exact-count bound)
                    "total_relation": relation,
                    "p50_ms": round(pct(times, 50), 1),
                    "p95_ms": round(pct(times, 95), 1),
                }
                log(
                    f"  {user:6} {name:10} total={total:>8} {relation} "
                    f"p50={pct(times, 50):7.1f} ms p95={pct(times, 95):7.1f} ms"
                )
    return out


# --- (c) import vs raw COPY ----------------------------------------------------------------------


def write_csv(path: Path, n: int) -> None:
    rng = random.Random(3)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(EXPORT_HEADER)
        for i in range(n):
            w.writerow(gen_row(rng, i, "gd-gz", prefix="KA"))  # in gd-gz's code namespace


async def bench_import(
    server_dsn: str, auth: Auth, n: int, workdir: Path, *, xlsx: bool = True
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The CSV import and (with `xlsx`) the same rows from XLSX, each against the raw COPY of the CSV."""
    dbname = "kam_bench_import"
    ensure_database(server_dsn, dbname)
    url = asyncpg_url(with_database(server_dsn, dbname))
    upgrade(url, MIGRATIONS)
    path = workdir / "import.csv"
    t0 = time.perf_counter()
    write_csv(path, n)
    log(f"  wrote {n} rows, {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f}s")
    # the ceiling: the same file by COPY into the same table (customer.customer, all its indexes, of a
    # fresh database migrated alike), given a column for the file's parent code and defaults for what
    # the file does not carry (id, owner, version)
    ensure_database(server_dsn, dbname + "_raw")
    raw_url = with_database(server_dsn, dbname + "_raw")
    upgrade(asyncpg_url(raw_url), MIGRATIONS)
    conn = await asyncpg.connect(raw_url)
    try:
        await conn.execute(
            "ALTER TABLE customer.customer ADD COLUMN parent_code text, "
            "ALTER COLUMN id SET DEFAULT gen_random_uuid(), ALTER COLUMN owner_node SET DEFAULT "
            "'gd-gz', ALTER COLUMN version SET DEFAULT 1, ALTER COLUMN created_at SET DEFAULT now(), "
            "ALTER COLUMN updated_at SET DEFAULT now()"
        )
        cols = [
            "customer_code",
            "name",
            "customer_type",
            "nature",
            "mgmt_level",
            "industry",
            "value_type",
            "grade",
            "life_status",
            "recog_status",
            "credit_code",
            "account_manager",
            "account_manager_name",
            "parent_code",
            "enterprise_scale",
            "address",
            "description",
        ]
        t0 = time.perf_counter()
        await conn.copy_to_table(
            "customer",
            schema_name="customer",
            source=str(path),
            columns=cols,
            format="csv",
            header=True,
            encoding="utf-8",
        )
        raw = time.perf_counter() - t0
        # COPY ... csv leaves the BOM in the first header cell only; the data rows are identical
    finally:
        await conn.close()
    log(f"  raw COPY: {raw:.1f}s")
    seconds = await post_import(url, auth, path, "text/csv", n)
    log(f"  import: {seconds:.1f}s ({n / seconds:.0f} rows/s)")
    out: dict[str, Any] = {
        "n": n,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        **_import_figures(n, seconds, raw),
        "written_per_customer": (
            "customer + organization + assignment; per ~700 customers one CustomersImported event and one audit record"
        ),
    }
    if not xlsx:
        return out, None
    # the same rows as an XLSX workbook, into another fresh database
    # migrated alike; its ceiling is the raw COPY above (the same rows, the same table)
    book = workdir / "import.xlsx"
    t0 = time.perf_counter()
    write_xlsx(path, book)
    log(f"  wrote {book.name}, {book.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f}s")
    ensure_database(server_dsn, dbname + "_xlsx")
    xlsx_url = asyncpg_url(with_database(server_dsn, dbname + "_xlsx"))
    upgrade(xlsx_url, MIGRATIONS)
    seconds = await post_import(
        xlsx_url, auth, book, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", n
    )
    log(f"  import from XLSX: {seconds:.1f}s ({n / seconds:.0f} rows/s)")
    return out, {"n": n, "file_mb": round(book.stat().st_size / 1e6, 1), **_import_figures(n, seconds, raw)}


def _import_figures(n: int, seconds: float, raw: float) -> dict[str, Any]:
    return {
        "import_seconds": round(seconds, 2),
        "import_rows_per_second": round(n / seconds),
        "raw_copy_seconds": round(raw, 2),
        "ratio_import_to_raw_copy": round(raw / seconds, 3),
        "goal_import_seconds": 60,
        "goal_ratio": 0.5,
        "code": IMPORT_CODE,
    }


def write_xlsx(csv_path: Path, target: Path) -> None:
    """The CSV's rows as a workbook written as the service's own export writes one (xlsxwriter in
    constant memory: inline strings, row by row), so a million rows do not need gigabytes here."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(target), {"constant_memory": True, "tmpdir": str(target.parent)})
    ws = wb.add_worksheet("customers")
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        for r, row in enumerate(csv.reader(fh)):
            for c, value in enumerate(row):
                if value:
                    ws.write_string(r, c, value)
    wb.close()


async def post_import(url: str, auth: Auth, path: Path, content_type: str, n: int) -> float:
    """POST the file to /api/v1/customer/imports of gd-gz's service on `url` (in process); its seconds."""
    app = create_app(settings(url, auth))

    async def blocks() -> Any:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                yield block

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gd-gz.bench", timeout=3600.0
        ) as client,
    ):
        t0 = time.perf_counter()
        r = await client.post(
            "/api/v1/customer/imports",
            content=blocks(),
            headers={**auth.headers("gd-gz"), "Content-Type": content_type},
        )
        seconds = time.perf_counter() - t0
    body = r.json()
    if r.status_code != 200 or body.get("created") != n:
        raise RuntimeError(f"import failed: {r.status_code} {str(body)[:500]}")
    return seconds


# --- (d) export to XLSX in a separate server process ----------------------------------------------


def serve(url: str, jwks: str, port: int, node: str = "hq") -> None:
    import uvicorn

    app = create_app(bench_settings(url, jwks, node))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _vm_hwm_kb(pid: int) -> int | None:
    """The peak resident set of process `pid` (Linux /proc), in kB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def bench_export(url: str, auth: Auth, workdir: Path) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "KAM_BENCH_SERVE": json.dumps({"url": url, "jwks": auth.jwks, "port": port})}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.Popen([sys.executable, __file__], env=env)
    try:
        deadline = time.monotonic() + 60
        while not port_is_open(port):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("export server did not start")
            time.sleep(0.1)
        target = workdir / "export.xlsx"
        t0 = time.perf_counter()
        with (
            httpx.stream(
                "GET",
                f"http://127.0.0.1:{port}/api/v1/customer/exports",
                params={"format": "xlsx"},
                headers=auth.headers("hq"),
                timeout=3600.0,
            ) as resp,
            open(target, "wb") as fh,
        ):
            if resp.status_code != 200:
                resp.read()
                raise RuntimeError(f"export failed: {resp.status_code} {resp.text[:300]}")
            for block in resp.iter_bytes(1 << 20):
                fh.write(block)
        seconds = time.perf_counter() - t0
        # this server's own peak (VmHWM), not the maximum over every child so far (the create
        # benchmark's server is a child too)
        own_peak_kb = _vm_hwm_kb(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    peak_kb = own_peak_kb or resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    from openpyxl import load_workbook

    wb = load_workbook(target, read_only=True)
    rows = sum(max(ws.max_row or 0, 1) - 1 for ws in wb.worksheets)
    wb.close()
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "file_mb": round(target.stat().st_size / 1e6, 1),
        "server_peak_rss_mb": round(peak_kb / 1024, 1),
        "rss_is_max_over_children": own_peak_kb is None and before > 0,
        "goal_peak_rss_mb": 256,
    }


# --- main ----------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> dict[str, Any]:
    only = set(args.only.split(","))
    auth = Auth()
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(),
        "customers": args.customers,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        # the machine is shared: its load when the run started and ended
        "loadavg_before": dict(zip(("1m", "5m", "15m"), (round(x, 2) for x in os.getloadavg()), strict=True)),
    }
    with tempfile.TemporaryDirectory(prefix="kam-bench-") as tmp:
        work = Path(tmp)
        pg = EmbeddedPostgres(work / "pg" / "data", fast=False)
        pg.start()
        try:
            server = pg.dsn()
            ensure_database(server, "kam_bench")
            url = asyncpg_url(with_database(server, "kam_bench"))
            upgrade(url, MIGRATIONS)
            if "a" in only:
                log(f"(a) create through uvicorn vs raw asyncpg of the same rows, n={args.api_n} per level")
                result["create"] = await bench_create(
                    server, auth, args.api_n, Settings.model_fields["db_pool_size"].default
                )
                log(f"  {result['create']}")
            if "c" in only or "x" in only:
                log(
                    f"(c) import {args.customers} from CSV vs raw COPY"
                    + (", then from XLSX (x)" if "x" in only else "")
                )
                result["import"], from_xlsx = await bench_import(server, auth, args.customers, work, xlsx="x" in only)
                log(f"  {result['import']}")
                if from_xlsx is not None:
                    result["import_xlsx"] = from_xlsx
                    log(f"  XLSX: {from_xlsx}")
            if "b" in only or "d" in only:
                log(f"(b) loading {args.customers} customers over the demo nodes")
                t0 = time.perf_counter()
                result["loaded_per_node"] = await load_customers(url, args.customers)
                log(f"  loaded in {time.perf_counter() - t0:.1f}s: {result['loaded_per_node']}")
            if "b" in only:
                log("(b) scoped list and search")
                result["list_code"] = LIST_CODE
                result["list"] = await bench_list(url, auth, args.runs)
            if "d" in only:
                log("(d) export everything (hq user) to XLSX in a server subprocess")
                result["export_xlsx"] = bench_export(url, auth, work)
                log(f"  {result['export_xlsx']}")
        finally:
            pg.stop()
    result["finished"] = datetime.now(UTC).isoformat()
    result["loadavg_after"] = dict(zip(("1m", "5m", "15m"), (round(x, 2) for x in os.getloadavg()), strict=True))
    return result


def cli() -> None:
    served = os.environ.get("KAM_BENCH_SERVE")
    if served:
        cfg = json.loads(served)
        serve(cfg["url"], cfg["jwks"], cfg["port"], cfg.get("node", "hq"))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=int(os.environ.get("KAM_BENCH_CUSTOMERS", "1000000")))
    p.add_argument("--api-n", type=int, default=int(os.environ.get("KAM_BENCH_API_N", "2000")))
    p.add_argument("--runs", type=int, default=30, help="timed runs per list query")
    p.add_argument("--only", default="a,b,c,x,d", help="comma-separated subset of a,b,c,x,d (x: import from XLSX too)")
    p.add_argument("--out", type=Path, default=None, help="result file (default bench/results/customer-<ts>.json)")
    args = p.parse_args()
    result = asyncio.run(main(args))
    out = args.out or RESULTS / f"customer-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{args.customers}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    log(f"results: {out}")
    summary = {k: result[k] for k in ("create", "import", "import_xlsx", "export_xlsx") if k in result}
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if "list" in result:
        print(json.dumps({k: v["p95_ms"] for k, v in result["list"].items()}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    cli()
