"""Start, watch and stop a whole federation on one machine.

`Federation` is what `kam up` / `kam down` / `kam status` run, and what federation tests use, so a
test starts a topology with exactly the code a developer runs:

    fed = Federation("deploy/topologies/trio.yaml", tmp_path / "run")
    fed.start()          # PostgreSQL, one nats-server per node, migrations, services; waits for /ready
    fed.node_url("gd")   # the node's base URL (gateway, or the node process)
    fed.stop()           # services, then nats-servers (children first), then PostgreSQL

State (pids, ports, URLs, data dirs) is kept in `<run_dir>/run.json` as the start proceeds, so
`Federation.attach(run_dir)` (e.g. `kam down` in another terminal) can stop a run it did not start.

Layout of a run dir: `run.json`, `logs/<node>-<svc>.log`, `pg/data` (embedded PostgreSQL),
`nats/<node>/` (config and JetStream store). Data directories are kept between runs.

run.json holds the database URLs with the PostgreSQL password, `nats-credentials.json` every NATS
password and `pg/postgres.password` the superuser's: all three are 0600, in a run dir only its owner
can enter (0700; 0710 with the PostgreSQL user's group when we run as root and the server does not).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import ssl
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

from kam_cli.services import identity_service, specs_for
from kam_platform.embedded.nats import NatsNode
from kam_platform.embedded.natsauth import ADMIN_USER, SERVICE_USER, SYNC_USER, FederationCredentials
from kam_platform.embedded.ports import free_port
from kam_platform.embedded.postgres import (
    EmbeddedPostgres,
    asyncpg_url,
    create_database_from,
    database_exists,
    drop_database,
    ensure_database,
    is_template,
    mark_template,
    plain_dsn,
    with_database,
    write_secret,
)
from kam_platform.embedded.process import ProcessRef, spawn, tail, terminate_all, wait_until
from kam_platform.service import ServiceSpec
from kam_platform.topology import Node, Topology

ProcessPer = Literal["service", "node"]
STATE_FILE = "run.json"
STATE_VERSION = 1
TEMPLATE_PREFIX = "kam_template_"
GATEWAY = "gateway"
NODE_PROCESS = "node"
T = TypeVar("T")

Migrate = Callable[[str, str], None]
Log = Callable[[str], None]


class FederationError(RuntimeError):
    """The federation could not be started (the message says which piece and why)."""


def database_name(code: str) -> str:
    """`kam_<code>` with '-' → '_' (`gd-gz` → `kam_gd_gz`)."""
    return "kam_" + code.replace("-", "_")


def call_blocking(fn: Callable[[], T]) -> T:
    """Run `fn` here, or in a helper thread when an event loop runs in this thread (async tests):
    the migration runner and `asyncio.run` must not nest in a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="kam-blocking")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def _run_coroutine(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return call_blocking(lambda: asyncio.run(coro_fn()))


def run_to_completion(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call `fn`, running it to completion when it is a coroutine function."""
    result = fn(*args, **kwargs)
    if inspect.isawaitable(result):

        async def wait() -> Any:
            return await result

        return asyncio.run(wait())
    return result


def default_migrate(database_url: str, script_location: str) -> None:
    from kam_platform.db.migrate import upgrade

    upgrade(database_url, script_location)


@dataclass
class ServiceProcess:
    """One process we run for a node: a service, the node's gateway, or the whole-node process."""

    name: str
    port: int
    log: Path
    argv: list[str] = field(default_factory=list, repr=False)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    ref: ProcessRef | None = None
    base_url: str | None = None  # where it answers, when not plain HTTP on loopback (a TLS gateway)

    @property
    def url(self) -> str:
        return self.base_url or f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.ref is not None and self.ref.alive()

    def start(self) -> None:
        self.ref = spawn(self.argv, log_path=self.log, env=self.env)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "port": self.port,
            "url": self.url,
            "log": str(self.log),
            "process": self.ref.to_dict() if self.ref else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceProcess:
        proc = data.get("process")
        url = data.get("url")
        return cls(
            name=str(data["name"]),
            port=int(data["port"]),
            log=Path(data["log"]),
            ref=ProcessRef.from_dict(proc) if proc else None,
            base_url=str(url) if url and not str(url).startswith("http://127.0.0.1:") else None,
        )


@dataclass
class NodeRuntime:
    """Everything running for one node."""

    node: Node
    database_url: str  # postgresql+asyncpg form
    nats_url: str
    nats: NatsNode | None  # None when NATS is external
    url: str = ""  # the node's base URL
    services: dict[str, str] = field(default_factory=dict)  # service → URL answering its /ready
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    @property
    def check_url(self) -> str:
        """The node's URL as this machine reaches it (its public URL may name a proxy or a DNS name)."""
        front = self.processes.get(GATEWAY) or self.processes.get(NODE_PROCESS)
        return front.url if front is not None else self.url

    def to_dict(self) -> dict[str, Any]:
        nats: dict[str, Any] | None = None
        if self.nats is not None:
            nats = {
                "dir": str(self.nats.node_dir),
                "port": self.nats.port,
                "http_port": self.nats.http_port,
                "leaf_port": self.nats.leaf_port,
                "parent_leaf_url": self.nats.parent_leaf_url,
                "log": str(self.nats.log_path),
                "monitor_url": self.nats.monitor_url,
                "process": self.nats.process.to_dict() if self.nats.process else None,
            }
        return {
            "code": self.node.code,
            "tier": self.node.tier.value,
            "parent": self.node.parent,
            "url": self.url,
            "database_url": self.database_url,
            "nats_url": self.nats_url,
            "nats": nats,
            "services": dict(self.services),
            "processes": {name: p.to_dict() for name, p in self.processes.items()},
        }


@dataclass
class NodeLaunch:
    """How one node's processes are started: the same for `kam up` (every node of a topology on this
    machine) and `kam node up` (one node on its own machine, kam_cli.node).

    - `process_per="service"`: one uvicorn per service on loopback plus the node's gateway, which
      listens on `host`:`port` (TLS when `tls_cert`/`tls_key` are given) and is the node's URL;
      `"node"`: one uvicorn hosting all the node's services there (kam_cli.nodeapp).
    - `nats_url(service)`: what that process connects to NATS with (its role's credentials).
    """

    specs: Mapping[str, ServiceSpec]
    process_per: ProcessPer
    topology_file: Path
    logs_dir: Path
    nats_url: Callable[[str], str]
    python: str = sys.executable
    extra_env: Mapping[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int | None = None  # the node's port (gateway or node process); a free one when None
    public_url: str | None = None  # the node's URL as clients use it (default: scheme://host:port)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    monitor_url: str | None = None  # the node's nats-server monitoring (the sync service reads /leafz)
    start_companions: bool = False  # the specs' simulators of external systems (kam up: yes; a real node: no)

    @property
    def services(self) -> dict[str, str]:
        """service → module of its app factory, in start order."""
        return {name: spec.app_module for name, spec in self.specs.items()}

    def _node_url(self, port: int) -> tuple[str, str | None]:
        """(the node's URL for clients, the URL this machine checks it at when that differs)."""
        scheme = "https" if self.tls_cert is not None else "http"
        local_host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        local = f"{scheme}://{local_host}:{port}"
        public = self.public_url.rstrip("/") if self.public_url else local
        return public, (None if local == "http://127.0.0.1:" + str(port) else local)

    def env(self, rt: NodeRuntime, service: str, jwks_url: str | None) -> dict[str, str]:
        env = dict(os.environ)
        for key in ("KAM_JWKS_URL", "KAM_GATEWAY_UPSTREAMS", "KAM_NODE_SERVICES", "KAM_NATS_MONITOR_URL"):
            env.pop(key, None)
        env.update(
            {
                "KAM_NODE": rt.node.code,
                "KAM_TOPOLOGY_FILE": str(self.topology_file),
                "KAM_DATABASE_URL": rt.database_url,
                "KAM_NATS_URL": self.nats_url(service),
                "KAM_SERVICE": service,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if jwks_url is not None:
            env["KAM_JWKS_URL"] = jwks_url
        monitor = self.monitor_url or (rt.nats.monitor_url if rt.nats is not None else None)
        if monitor:
            env["KAM_NATS_MONITOR_URL"] = monitor
        if rt.url:
            env["KAM_PUBLIC_URL"] = rt.url
        env.update(self.extra_env)
        return env

    def uvicorn(self, target: str, port: int, *, public: bool = False) -> list[str]:
        argv = [
            self.python,
            "-m",
            "uvicorn",
            "--factory",
            target,
            "--host",
            self.host if public else "127.0.0.1",
            "--port",
            str(port),
            "--timeout-graceful-shutdown",
            "10",
        ]
        if public and self.tls_cert is not None and self.tls_key is not None:
            argv += ["--ssl-certfile", str(self.tls_cert), "--ssl-keyfile", str(self.tls_key)]
        if public and self.public_url is not None:
            argv += ["--proxy-headers"]
        return argv

    def _plan_companions(self, rt: NodeRuntime) -> dict[str, str]:
        """Plan the specs' companion processes (external systems' simulators) into `rt.processes`; the
        environment that points the node's services at them (none unless `start_companions`)."""
        urls: dict[str, str] = {}
        for spec in self.specs.values() if self.start_companions else ():
            for c in spec.companions:
                port = free_port()
                log = self.logs_dir / f"{rt.node.code}-{c.name}.log"
                data = self.logs_dir / f"{rt.node.code}-{c.name}"
                argv = [self.python, "-m", c.module, "--port", str(port), "--data-dir", str(data), *c.args]
                env = {**os.environ, "KAM_NODE": rt.node.code, "KAM_PUBLIC_URL": rt.url, "PYTHONUNBUFFERED": "1"}
                rt.processes[c.name] = ServiceProcess(c.name, port, log, argv, env)
                urls[c.url_env] = f"http://127.0.0.1:{port}"
        return urls

    def plan(self, rt: NodeRuntime) -> None:
        """Fill `rt.url`, `rt.services` and `rt.processes` (not started)."""
        code = rt.node.code
        issuer = identity_service(self.specs)
        port = self.port or free_port()
        rt.url, check_url = self._node_url(port)
        companion_urls = self._plan_companions(rt)
        if self.process_per == "node":
            jwks = f"http://127.0.0.1:{port}" + issuer.jwks if issuer is not None and issuer.jwks else None
            if check_url is not None and issuer is not None and issuer.jwks:
                jwks = check_url + issuer.jwks
            env = self.env(rt, NODE_PROCESS, jwks) | companion_urls
            env["KAM_NODE_SERVICES"] = json.dumps(self.services)
            rt.processes[NODE_PROCESS] = ServiceProcess(
                NODE_PROCESS,
                port,
                self.logs_dir / f"{code}-{NODE_PROCESS}.log",
                self.uvicorn("kam_cli.nodeapp:create_app", port, public=True),
                env,
                base_url=check_url,
            )
            rt.services = {service: check_url or rt.url for service in self.services}
            return
        ports = {service: free_port() for service in self.services}
        rt.services = {service: f"http://127.0.0.1:{p}" for service, p in ports.items()}
        jwks = rt.services[issuer.name] + issuer.jwks if issuer is not None and issuer.jwks else None
        for service, module_name in self.services.items():
            # the issuer verifies with its own keys; every other service with the issuer's JWKS
            env = (
                self.env(rt, service, None if issuer is not None and service == issuer.name else jwks) | companion_urls
            )
            rt.processes[service] = ServiceProcess(
                service,
                ports[service],
                self.logs_dir / f"{code}-{service}.log",
                self.uvicorn(f"{module_name}:create_app", ports[service]),
                env,
            )
        env = self.env(rt, GATEWAY, None)
        env["KAM_GATEWAY_UPSTREAMS"] = json.dumps(rt.services)
        rt.processes[GATEWAY] = ServiceProcess(
            GATEWAY,
            port,
            self.logs_dir / f"{code}-{GATEWAY}.log",
            self.uvicorn("kam_cli.gateway:create_app", port, public=True),
            env,
            base_url=check_url,
        )


def _script_dir(script_location: str) -> Path:
    """`package:dir` (alembic's form) or a plain path → the directory."""
    package, sep, sub = script_location.partition(":")
    if not sep:
        return Path(script_location)
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FederationError(f"migrations {script_location!r}: package {package!r} not found")
    return Path(spec.origin).parent / sub


def migration_digest(specs: Mapping[str, ServiceSpec]) -> str:
    """sha256 of what a migrated database is made from: each service's name and every file of its
    migration scripts (names and bytes, in start order; `__pycache__` aside) and the code that runs
    them (kam_platform.db's alembic env and runner). Any change gives another digest."""
    from kam_platform.db import alembic_env
    from kam_platform.db import migrate as migrate_module

    h = hashlib.sha256()
    for name, spec in specs.items():
        if not spec.migrations:
            continue
        root = _script_dir(spec.migrations)
        h.update(f"service {name} {spec.migrations}\n".encode())
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(f"{path.relative_to(root).as_posix()}\n".encode())
            h.update(path.read_bytes())
    for module in (alembic_env, migrate_module):
        assert module.__file__
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()


def template_name(specs: Mapping[str, ServiceSpec]) -> str:
    return TEMPLATE_PREFIX + migration_digest(specs)[:16]


def migrate_template(server_dsn: str, specs: Mapping[str, ServiceSpec], migrate: Migrate) -> str:
    """A template database holding every service's migrations and nothing else: created from an empty
    database, migrated by `migrate` (alembic, as `migrate_node` does on a node's database, so its
    alembic_version rows are the migrations' own), then closed to connections. Named by
    `migration_digest`, so a template of other migrations is never taken; an unfinished one (not yet
    marked a template) is dropped and made again. Returns its name."""
    name = template_name(specs)
    check = with_database(plain_dsn(server_dsn), "postgres")
    if is_template(check, name):
        return name
    drop_database(check, name)  # an unfinished one, if any
    ensure_database(check, name)
    url = asyncpg_url(with_database(check, name))
    for service, spec in specs.items():
        if not spec.migrations:
            continue
        try:
            call_blocking(functools.partial(migrate, url, spec.migrations))
        except Exception as exc:
            raise FederationError(f"migrations of {service} on the template database failed: {exc}") from exc
    mark_template(check, name)
    return name


def migrate_node(
    rt: NodeRuntime,
    specs: Mapping[str, ServiceSpec],
    topology: Topology,
    migrate: Migrate,
    *,
    migrations: bool = True,
) -> list[str]:
    """Every service's migrations on the node's database, then the `after_migrate` hooks (e.g. the
    permission registry, once every schema is there). Returns the services migrated.
    `migrations=False`: the database is a copy of the migrated template (`migrate_template`); only the
    hooks run."""
    code = rt.node.code
    scripts = {name: spec.migrations for name, spec in specs.items() if spec.migrations}
    hooks = {name: fn for name, spec in specs.items() if (fn := spec.hook("after_migrate")) is not None}
    for service, script in scripts.items() if migrations else ():
        try:
            call_blocking(functools.partial(migrate, rt.database_url, script))
        except Exception as exc:
            raise FederationError(f"migrations of {service} on node {code} failed: {exc}") from exc
    for service, hook in hooks.items():
        try:
            call_blocking(functools.partial(run_to_completion, hook, rt.database_url, code, topology))
        except Exception as exc:
            raise FederationError(f"{service} after migrations on node {code} failed: {exc}") from exc
    return list(scripts)


def check_urls(rt: NodeRuntime) -> dict[str, str]:
    """Every URL that must answer 200 when the node is ready: each service's /ready, the node URL's
    /health and /ready (as this machine reaches them)."""
    urls: dict[str, str] = {}
    code = rt.node.code
    base = rt.check_url
    for service, url in rt.services.items():
        urls[f"{code}/{service}"] = url + "/ready"
    urls[f"{code}/health"] = base + "/health"
    urls[f"{code}/ready"] = base + "/ready"
    return urls


def dead_process(rt: NodeRuntime) -> str | None:
    for proc in rt.processes.values():
        if proc.ref is not None and not proc.alive():
            return f"{rt.node.code}/{proc.name} exited (code {proc.ref.returncode}); log {proc.log}:\n{tail(proc.log)}"
    return None


def wait_urls(
    pending: dict[str, str], *, timeout: float, abort: Callable[[], str | None], verify: ssl.SSLContext | bool = True
) -> None:
    """Wait until every URL of `pending` answers 200 (FederationError naming the others)."""
    with httpx.Client(timeout=3.0, verify=verify) as client:

        def all_ready() -> bool:
            for key, url in list(pending.items()):
                try:
                    if client.get(url).status_code == 200:
                        del pending[key]
                except httpx.HTTPError:
                    pass
            return not pending

        try:
            wait_until(all_ready, timeout=timeout, interval=0.3, what="services ready", abort=abort)
        except TimeoutError as exc:
            raise FederationError(f"{exc}; not ready: {', '.join(sorted(pending))}") from exc
        except RuntimeError as exc:
            raise FederationError(str(exc)) from exc


class Federation:
    """The processes of every node of a topology on this machine.

    - `process_per="service"`: one uvicorn per service per node plus a gateway per node (the node URL);
      `"node"`: one uvicorn per node hosting all its services (kam_cli.nodeapp).
    - `database_url` / `nats_url`: external servers instead of the embedded ones (default: the
      `DATABASE_URL` / `NATS_URL` environment variables). External NATS is one shared server: no
      leafnode links, every node's streams live side by side on it.
    - `services`: the names of the services to run (a mapping's keys; default: every installed service,
      kam_cli.services.SPECS); each is started from its discovered spec.
    - `migrate(database_url, script_location)`: default `kam_platform.db.migrate.upgrade`.
    - `clone_databases` (tests): with the embedded PostgreSQL, the migrations run once, on a template
      database (`migrate_template`), and each node's database that does not exist yet is created as a
      copy of it (`CREATE DATABASE … TEMPLATE`); the `after_migrate` hooks still run on every node.
      `kam up` and `kam node up` never set it: they run every migration on every node's database.
    """

    def __init__(
        self,
        topology_file: str | Path,
        run_dir: str | Path,
        *,
        process_per: ProcessPer = "service",
        services: Iterable[str] | None = None,
        database_url: str | None = None,
        nats_url: str | None = None,
        use_environment: bool = True,
        migrate: Migrate | None = None,
        python: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        ready_timeout: float = 180.0,
        pg_fast: bool = False,
        clone_databases: bool = False,
        log: Log | None = None,
    ) -> None:
        if process_per not in ("service", "node"):
            raise ValueError(f"process_per must be 'service' or 'node', not {process_per!r}")
        self.topology_file = Path(topology_file).absolute()
        self.topology = Topology.load(self.topology_file)
        self.run_dir = Path(run_dir).absolute()
        self.process_per: ProcessPer = process_per
        self.specs: dict[str, ServiceSpec] = specs_for(None if services is None else list(services))
        # service → module of its app factory, in start order
        self.services: dict[str, str] = {name: spec.app_module for name, spec in self.specs.items()}
        if use_environment:
            database_url = database_url or os.environ.get("DATABASE_URL") or None
            nats_url = nats_url or os.environ.get("NATS_URL") or None
        self.external_database_url = database_url
        self.external_nats_url = nats_url
        self.migrate: Migrate = migrate or default_migrate
        self.python = python or sys.executable
        self.extra_env = dict(extra_env or {})
        self.ready_timeout = ready_timeout
        self.pg_fast = pg_fast
        self.clone_databases = clone_databases
        self._to_clone: set[str] = set()  # nodes whose database is created from the template
        self.log: Log = log or (lambda _msg: None)
        self.postgres: EmbeddedPostgres | None = None
        self.nodes: dict[str, NodeRuntime] = {}
        self.started_at: str | None = None

    # -- paths -----------------------------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        return self.run_dir / STATE_FILE

    @property
    def logs_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def pg_data_dir(self) -> Path:
        return self.run_dir / "pg" / "data"

    def nats_dir(self, code: str) -> Path:
        return self.run_dir / "nats" / code

    # -- lookups ---------------------------------------------------------------------------------

    def _rt(self, code: str) -> NodeRuntime:
        try:
            return self.nodes[code]
        except KeyError:
            raise FederationError(f"node {code!r} is not running in this federation") from None

    def node_url(self, code: str) -> str:
        return self._rt(code).url

    def service_url(self, code: str, service: str) -> str:
        """The service's own URL (its process in service mode, the node process in node mode)."""
        return self._rt(code).services[service]

    def database_url(self, code: str) -> str:
        """The node's database, `postgresql+asyncpg://…/kam_<code>`."""
        return self._rt(code).database_url

    def nats_url(self, code: str) -> str:
        """The node's nats-server as an administrator (operators, tests)."""
        return self._rt(code).nats_url

    @property
    def credentials_path(self) -> Path:
        return self.run_dir / "nats-credentials.json"

    def credentials(self) -> FederationCredentials:
        creds = FederationCredentials.load_or_create(self.credentials_path, self.topology)
        if self.credentials_path.parent == self.run_dir:
            # writing them may narrow their directory, our run dir, to 0700: as root the PostgreSQL
            # user must still traverse it (0710, by group)
            self._secure_run_dir()
        return creds

    def service_nats_url(self, code: str, service: str) -> str:
        """What a service process connects with: `kam-sync` for a service whose NATS role manages the
        node's streams (and a whole-node process hosting one), `kam-svc` for the others. External
        NATS: as given."""
        rt = self._rt(code)
        if rt.nats is None:
            return rt.nats_url
        hosted = self.specs.values() if service == NODE_PROCESS else [s for n, s in self.specs.items() if n == service]
        role = SYNC_USER if any(s.nats.manages_streams for s in hosted) else SERVICE_USER
        return self.credentials().url(rt.nats.url, code, role)

    def nats(self, code: str) -> NatsNode:
        server = self._rt(code).nats
        if server is None:
            raise FederationError("NATS is external (NATS_URL): no per-node nats-server to manage")
        return server

    def process(self, code: str, name: str) -> ServiceProcess:
        """A process of a node by name: a service, `gateway` (service mode) or `node` (node mode)."""
        procs = self._rt(code).processes
        if name not in procs and self.process_per == "node" and name in self.services:
            name = NODE_PROCESS
        try:
            return procs[name]
        except KeyError:
            raise FederationError(f"node {code!r} has no process {name!r}") from None

    def pids(self) -> list[int]:
        """Every pid this federation recorded (services, gateways, nats-servers, postmaster)."""
        out: list[int] = []
        for rt in self.nodes.values():
            out += [p.ref.pid for p in rt.processes.values() if p.ref is not None]
            if rt.nats is not None and rt.nats.process is not None:
                out.append(rt.nats.process.pid)
        if self.postgres is not None and self.postgres.pid is not None:
            out.append(self.postgres.pid)
        return out

    def process_refs(self) -> list[ProcessRef]:
        refs: list[ProcessRef] = []
        for rt in self.nodes.values():
            refs += [p.ref for p in rt.processes.values() if p.ref is not None]
            if rt.nats is not None and rt.nats.process is not None:
                refs.append(rt.nats.process)
        return refs

    def any_alive(self) -> bool:
        if any(ref.alive() for ref in self.process_refs()):
            return True
        return self.postgres is not None and self.postgres.running

    # -- state -----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        pg: dict[str, Any]
        if self.external_database_url is not None:
            pg = {"external": True}
        elif self.postgres is not None:
            pg = {
                "external": False,
                "data_dir": str(self.postgres.data_dir),
                "port": self.postgres.port,
                "log": str(self.postgres.log_path),
                "pid": self.postgres.pid,
            }
        else:
            pg = {"external": False}
        return {
            "version": STATE_VERSION,
            "started_at": self.started_at,
            "owner_pid": os.getpid(),
            "topology_file": str(self.topology_file),
            "process_per": self.process_per,
            "run_dir": str(self.run_dir),
            "external_nats": self.external_nats_url is not None,
            "postgres": pg,
            "nodes": [rt.to_dict() for rt in self.nodes.values()],
        }

    def _secure_run_dir(self) -> None:
        if self.external_database_url is None:
            EmbeddedPostgres(self.pg_data_dir).share_directory(self.run_dir)
        else:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.run_dir.chmod(0o700)

    def save_state(self) -> None:
        if not self.run_dir.exists():
            self._secure_run_dir()
        write_secret(self.state_path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def attach(cls, run_dir: str | Path) -> Federation | None:
        """The federation recorded in `<run_dir>/run.json` (None when there is none), to stop it or
        ask its status. Restarting services needs the Federation that started them."""
        path = Path(run_dir).absolute() / STATE_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        # "external" only marks the servers as not ours: attach never starts anything
        fed = cls(
            data["topology_file"],
            data["run_dir"],
            process_per=data.get("process_per", "service"),
            use_environment=False,
            database_url="external" if data["postgres"].get("external") else None,
            nats_url="external" if data.get("external_nats") else None,
        )
        fed.started_at = data.get("started_at")
        pg = data["postgres"]
        if not pg.get("external") and pg.get("data_dir"):
            fed.postgres = EmbeddedPostgres(pg["data_dir"], pg.get("port"), log_path=pg.get("log"))
        for raw in data["nodes"]:
            node = fed.topology.node(raw["code"])
            nats: NatsNode | None = None
            if raw.get("nats"):
                n = raw["nats"]
                creds = fed.credentials()
                nats = NatsNode(
                    node.code,
                    n["dir"],
                    port=n["port"],
                    http_port=n["http_port"],
                    leaf_port=n.get("leaf_port"),
                    accept_leafnodes=n.get("leaf_port") is not None,
                    parent_leaf_url=n.get("parent_leaf_url"),
                    log_path=n.get("log"),
                    auth=creds.node_auth(fed.topology, node.code),
                )
                if n.get("process"):
                    nats.process = ProcessRef.from_dict(n["process"])
            rt = NodeRuntime(
                node=node,
                database_url=raw["database_url"],
                nats_url=raw["nats_url"],
                nats=nats,
                url=raw.get("url", ""),
                services=dict(raw.get("services", {})),
                processes={k: ServiceProcess.from_dict(v) for k, v in raw.get("processes", {}).items()},
            )
            fed.nodes[node.code] = rt
        return fed

    # -- start -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start everything and wait until every service is ready. On any failure (or Ctrl-C) what
        was started is stopped again before the error propagates."""
        self._secure_run_dir()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            self._start_postgres()
            self._start_nats()
            self._migrate()
            self._start_services()
            self.wait_ready(self.ready_timeout)
        except BaseException:
            self.log("start failed; stopping what was started")
            self.stop()
            raise

    def _start_postgres(self) -> None:
        nodes = self.topology.ordered()
        if self.external_database_url is not None:
            server = self.external_database_url
            self.log(f"PostgreSQL: external server {plain_dsn(server).split('@')[-1]}")
        else:
            self.postgres = EmbeddedPostgres(
                self.pg_data_dir, log_path=self.logs_dir / "postgres.log", fast=self.pg_fast
            )
            self.postgres.start()
            server = self.postgres.dsn("postgres")
            self.log(f"PostgreSQL: embedded on 127.0.0.1:{self.postgres.port} ({self.pg_data_dir})")
        for node in nodes:
            name = database_name(node.code)
            if self.clone_databases and self.postgres is not None and not database_exists(server, name):
                self._to_clone.add(node.code)  # made from the migrated template by _migrate
            else:
                ensure_database(server, name)
            self.nodes[node.code] = NodeRuntime(
                node=node,
                database_url=asyncpg_url(with_database(plain_dsn(server), name)),
                nats_url=self.external_nats_url or "",
                nats=None,
            )
        self.save_state()

    def _start_nats(self) -> None:
        if self.external_nats_url is not None:
            self.log(f"NATS: external server {self.external_nats_url} (shared by every node, no leafnodes)")
        else:
            creds = self.credentials()
            for node in self.topology.ordered():  # parents first: a child's remote needs the listener
                parent = self.nodes[node.parent].nats if node.parent else None
                parent_leaf = parent.leaf_url if parent is not None else None
                server = NatsNode(
                    node.code,
                    self.nats_dir(node.code),
                    accept_leafnodes=bool(self.topology.children(node.code)),
                    parent_leaf_url=creds.leaf_remote_url(parent_leaf, node.code) if parent_leaf else None,
                    log_path=self.logs_dir / f"{node.code}-nats.log",
                    auth=creds.node_auth(self.topology, node.code),
                )
                rt = self.nodes[node.code]
                rt.nats = server
                rt.nats_url = creds.url(server.url, node.code, ADMIN_USER)
                server.start()
                self.save_state()
            self.wait_leafnodes(30.0)
            self.log(f"NATS: {len(self.nodes)} nats-servers up, leafnode links established")
        # streams and sources are declared by each node's sync service, not here

    def _migrate(self) -> None:
        migrated: list[str] = []
        cloned = [code for code in self.nodes if code in self._to_clone]
        if cloned:
            assert self.postgres is not None
            server = self.postgres.dsn("postgres")
            template = migrate_template(server, self.specs, self.migrate)
            for code in cloned:
                create_database_from(server, database_name(code), template)
            self._to_clone.clear()
            self.log(f"databases of {', '.join(cloned)} created from the migrated template {template}")
        for rt in self.nodes.values():
            migrated = migrate_node(rt, self.specs, self.topology, self.migrate, migrations=rt.node.code not in cloned)
        self.log(f"migrations applied ({', '.join(migrated) or 'none'}) on {len(self.nodes)} databases")

    def launch(self, code: str) -> NodeLaunch:
        """How this federation starts node `code`'s processes (the node runtime shared with `kam node`)."""
        return NodeLaunch(
            specs=self.specs,
            process_per=self.process_per,
            topology_file=self.topology_file,
            logs_dir=self.logs_dir,
            nats_url=functools.partial(self.service_nats_url, code),
            python=self.python,
            extra_env=self.extra_env,
            start_companions=True,
        )

    def _plan_processes(self, rt: NodeRuntime) -> None:
        self.launch(rt.node.code).plan(rt)

    def _start_services(self) -> None:
        for rt in self.nodes.values():
            self._plan_processes(rt)
            for proc in rt.processes.values():
                proc.start()
            self.save_state()
        count = sum(len(rt.processes) for rt in self.nodes.values())
        self.log(f"started {count} processes ({self.process_per} mode); waiting until ready")

    # -- health ----------------------------------------------------------------------------------

    def _dead_process(self) -> str | None:
        for rt in self.nodes.values():
            reason = dead_process(rt)
            if reason is not None:
                return reason
        return None

    def _check_urls(self) -> dict[str, str]:
        """Every URL that must answer 200 when the federation is ready: each service's /ready, each
        node URL's /health and /ready."""
        urls: dict[str, str] = {}
        for rt in self.nodes.values():
            urls.update(check_urls(rt))
        return urls

    def wait_ready(self, timeout: float = 180.0) -> None:
        wait_urls(self._check_urls(), timeout=timeout, abort=self._dead_process)

    def wait_leafnodes(self, timeout: float = 30.0) -> None:
        """Wait until every parent's nats-server lists each child as a leafnode connection."""
        if self.external_nats_url is not None:
            return

        def linked() -> bool:
            for code, rt in self.nodes.items():
                children = self.topology.children(code)
                if not children or rt.nats is None:
                    continue
                try:
                    names = set(rt.nats.leaf_names())
                except httpx.HTTPError:
                    return False
                if not set(children) <= names:
                    return False
            return True

        wait_until(linked, timeout=timeout, interval=0.2, what="leafnode links")

    def status(self) -> list[dict[str, Any]]:
        """Per node: code, tier, parent, url, healthy, services {name: {url, healthy}}, nats; every
        probe at once (kam_cli.runstate.probe, which `kam status` runs without the runtime)."""
        from kam_cli.runstate import RunState, probe

        return probe(RunState(self.to_dict(), self.topology))

    # -- faults and restarts (tests) -------------------------------------------------------------

    def kill_nats(self, code: str) -> None:
        self.nats(code).kill()

    def stop_nats(self, code: str) -> None:
        self.nats(code).stop()

    def restart_nats(self, code: str, timeout: float = 30.0) -> None:
        """Start the node's nats-server again (same ports and store) after a kill or a stop."""
        server = self.nats(code)
        server.stop()
        server.start(timeout)
        self.save_state()

    def kill_service(self, code: str, service: str) -> None:
        """SIGKILL a service process (in node mode: the node's process, hosting every service)."""
        proc = self.process(code, service)
        if proc.ref is not None:
            proc.ref.kill()

    def stop_service(self, code: str, service: str, timeout: float = 15.0) -> None:
        proc = self.process(code, service)
        if proc.ref is not None:
            proc.ref.terminate(timeout)

    def restart_service(self, code: str, service: str, timeout: float = 120.0) -> None:
        """Start a service process again on the same port and wait until the node is ready."""
        proc = self.process(code, service)
        if not proc.argv:
            raise FederationError("restart needs the Federation object that started the run")
        if proc.ref is not None:
            proc.ref.terminate()
        proc.start()
        self.save_state()
        self.wait_ready(timeout)

    def kill_postgres(self) -> None:
        if self.postgres is None:
            raise FederationError("PostgreSQL is external (DATABASE_URL)")
        self.postgres.kill()

    def restart_postgres(self) -> None:
        if self.postgres is None:
            raise FederationError("PostgreSQL is external (DATABASE_URL)")
        self.postgres.stop()
        self.postgres.start()
        self.save_state()

    # -- stop ------------------------------------------------------------------------------------

    def stop(self, timeout: float = 15.0) -> None:
        """Stop services (all at once), then nats-servers children first, then PostgreSQL; remove
        run.json. Harmless when parts are already gone."""
        order = [n.code for n in self.topology.ordered() if n.code in self.nodes]
        service_refs = [
            p.ref for code in reversed(order) for p in self.nodes[code].processes.values() if p.ref is not None
        ]
        terminate_all(service_refs, timeout)
        for code in reversed(order):
            server = self.nodes[code].nats
            if server is not None:
                server.stop()
        if self.postgres is not None:
            self.postgres.stop()
        if self.state_path.exists():
            self.state_path.unlink()
        self.log("stopped")

    def __enter__(self) -> Federation:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    """The pids still running after `timeout` seconds (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    refs = [ProcessRef(pid) for pid in pids]
    for ref in refs:
        ref.wait_gone(max(0.0, deadline - time.monotonic()))
    return [ref.pid for ref in refs if ref.alive()]
