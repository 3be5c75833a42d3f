"""One node on its own machine: what `kam node up / down / status / credentials` run.

    host = NodeHost(NodeConfig.load("node.yaml"))
    host.start()     # PostgreSQL (embedded or DATABASE_URL), nats-server (embedded or external),
                     # migrations, the node's services, waits for /ready and for the parent link
    host.stop()

The processes are planned by the same node runtime as `kam up` (kam_cli.runtime.NodeLaunch); only
where PostgreSQL, NATS and the credentials come from differs. State lives in the node's data
directory: `node.json` (pids, ports, URLs; 0600), `topology.yaml` (what the services read),
`secrets/nats.json` (the node's NATS passwords and the leafnode passwords issued to its children;
0600), `logs/`, `pg/` and `nats/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import ssl
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from kam_cli.nodeconfig import NodeConfig
from kam_cli.runtime import (
    FederationError,
    Log,
    Migrate,
    NodeLaunch,
    NodeRuntime,
    ServiceProcess,
    check_urls,
    database_name,
    dead_process,
    default_migrate,
    migrate_node,
    wait_urls,
)
from kam_cli.services import specs_for
from kam_platform.embedded.nats import NatsNode, NatsTLS
from kam_platform.embedded.natsauth import (
    ADMIN_USER,
    SERVICE_USER,
    SYNC_USER,
    ChildCredentials,
    NodeSecrets,
    with_credentials,
)
from kam_platform.embedded.postgres import (
    EmbeddedPostgres,
    asyncpg_url,
    ensure_database,
    plain_dsn,
    with_database,
    write_secret,
)
from kam_platform.embedded.process import ProcessRef, terminate_all, wait_until
from kam_platform.service import ServiceSpec
from kam_platform.topology import Topology

STATE_FILE = "node.json"

# what nats-server logs when a leafnode credential is refused: on the child ("Leafnode Error
# 'Authorization Violation'") and on the parent ('authentication error - User "leaf-gd-gz"')
_CHILD_REFUSED = re.compile(r"Leafnode Error 'Authorization Violation'")
_CHILD_CONNECTED = re.compile(r"Leafnode connection created")
_PARENT_REFUSED = re.compile(r'^\[\d+\] (\S+ \S+) .*authentication error - User "leaf-([a-z0-9-]+)"')


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def ssl_context(ca: Path | None) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=str(ca)) if ca is not None else True


@dataclass
class LinkState:
    """The parent link as this node sees it."""

    connected: bool
    refused: bool = False
    message: str = ""


class NodeHost:
    """The processes of one node on this machine (see the module docstring)."""

    def __init__(
        self,
        config: NodeConfig,
        *,
        services: Iterable[str] | None = None,
        migrate: Migrate | None = None,
        python: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        ready_timeout: float = 180.0,
        link_timeout: float = 30.0,
        pg_fast: bool = False,
        log: Log | None = None,
    ) -> None:
        self.config = config
        self.code = config.code
        self.topology: Topology = config.build_topology()
        self.node = self.topology.node(self.code)
        self.specs: dict[str, ServiceSpec] = specs_for(None if services is None else list(services))
        self.migrate: Migrate = migrate or default_migrate
        self.python = python or sys.executable
        self.extra_env = dict(extra_env or {})
        self.ready_timeout = ready_timeout
        self.link_timeout = link_timeout
        self.pg_fast = pg_fast
        self.log: Log = log or (lambda _msg: None)
        self.tls = config.tls_paths()
        self.postgres: EmbeddedPostgres | None = None
        self.rt: NodeRuntime | None = None
        self.started_at: str | None = None

    # -- paths ------------------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.config.data_path

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def topology_path(self) -> Path:
        return self.data_dir / "topology.yaml"

    @property
    def secrets_path(self) -> Path:
        return self.data_dir / "secrets" / "nats.json"

    @property
    def bundle_path(self) -> Path:
        return self.data_dir / "ca-bundle.pem"

    def secrets(self) -> NodeSecrets:
        return NodeSecrets.load_or_create(self.secrets_path)

    @property
    def external_nats(self) -> bool:
        return self.config.nats.external is not None

    # -- NATS ---------------------------------------------------------------------------------------

    def _nats_tls(self) -> NatsTLS | None:
        if self.tls is None:
            return None
        return NatsTLS(cert=self.tls.cert, key=self.tls.key, ca=self.tls.ca)

    def parent_credentials(self) -> ChildCredentials | None:
        path = self.config.credentials_path()
        if path is None or self.node.parent is None:
            return None
        return ChildCredentials.load(path, node=self.code, parent=self.node.parent)

    def parent_remote_url(self) -> str | None:
        creds = self.parent_credentials()
        if creds is None or self.config.parent is None:
            return None
        url = self.config.parent.url or creds.parent_url
        if not url:
            raise FederationError(
                f"parent.url: {self.node.parent}'s leafnode listener is not in {self.config.parent.credentials} either"
            )
        if self.tls is None and url.startswith("tls://"):
            raise FederationError(f"parent.url {url} is TLS but this node is configured `plain: true`")
        if self.tls is not None and not url.startswith("tls://"):
            raise FederationError(
                f"parent.url {url}: TLS is configured, use tls://host:port (plain only with `plain: true`)"
            )
        return with_credentials(url, creds.user, creds.password)

    def make_nats(self, port: int | None = None, http_port: int | None = None) -> NatsNode:
        nats_cfg = self.config.nats
        leaf = nats_cfg.leafnodes
        return NatsNode(
            self.code,
            self.data_dir / "nats",
            port=port or nats_cfg.client_port,
            http_port=http_port or nats_cfg.monitor_port,
            leaf_port=leaf.port,
            accept_leafnodes=bool(self.topology.children(self.code)),
            parent_leaf_url=self.parent_remote_url(),
            auth=self.secrets().auth(self.topology, self.code),
            log_path=self.logs_dir / f"{self.code}-nats.log",
            leaf_host=leaf.host,
            advertise_host=leaf.advertise,
            tls=self._nats_tls(),
        )

    def nats_url(self, service: str) -> str:
        """What a process of this node connects with: the embedded server with the role's credentials,
        or the external server(s) as configured."""
        external = self.config.nats.external
        if external is not None:
            return ",".join(external.urls)
        assert self.rt is not None
        assert self.rt.nats is not None
        hosted = self.specs.values() if service == "node" else [s for n, s in self.specs.items() if n == service]
        role = SYNC_USER if any(s.nats.manages_streams for s in hosted) else SERVICE_USER
        return self.secrets().url(self.rt.nats.url, role)

    def admin_nats_url(self) -> str:
        assert self.rt is not None
        if self.rt.nats is None:
            return self.rt.nats_url
        return self.secrets().url(self.rt.nats.url, ADMIN_USER)

    # -- state --------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        pg: dict[str, Any] = {"external": self.postgres is None}
        if self.postgres is not None:
            pg.update({"data_dir": str(self.postgres.data_dir), "port": self.postgres.port, "pid": self.postgres.pid})
        return {
            "version": 1,
            "code": self.code,
            "config": str(self.config.base_dir),
            "started_at": self.started_at,
            "owner_pid": os.getpid(),
            "postgres": pg,
            "node": self.rt.to_dict() if self.rt is not None else None,
        }

    def save_state(self) -> None:
        write_secret(self.state_path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")

    def _secure_data_dir(self) -> None:
        if not (self.config.database.url or os.environ.get("DATABASE_URL")):
            EmbeddedPostgres(self.data_dir / "pg" / "data").share_directory(self.data_dir)
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.data_dir.chmod(0o700)

    def attach(self) -> bool:
        """Load what `node.json` records (a node started by another `kam node up`); False when none."""
        if not self.state_path.exists():
            return False
        data = json.loads(self.state_path.read_text(encoding="utf-8"))
        self.started_at = data.get("started_at")
        pg = data.get("postgres") or {}
        if not pg.get("external") and pg.get("data_dir"):
            self.postgres = EmbeddedPostgres(pg["data_dir"], pg.get("port"), log_path=self.logs_dir / "postgres.log")
        raw = data.get("node")
        if raw:
            nats: NatsNode | None = None
            if raw.get("nats"):
                n = raw["nats"]
                nats = self.make_nats(port=n["port"], http_port=n["http_port"])
                if n.get("process"):
                    nats.process = ProcessRef.from_dict(n["process"])
            self.rt = NodeRuntime(
                node=self.node,
                database_url=raw["database_url"],
                nats_url=raw["nats_url"],
                nats=nats,
                url=raw.get("url", ""),
                services=dict(raw.get("services", {})),
                processes={k: ServiceProcess.from_dict(v) for k, v in raw.get("processes", {}).items()},
            )
        return True

    def any_alive(self) -> bool:
        if self.rt is not None:
            refs = [p.ref for p in self.rt.processes.values() if p.ref is not None]
            if self.rt.nats is not None and self.rt.nats.process is not None:
                refs.append(self.rt.nats.process)
            if any(ref.alive() for ref in refs):
                return True
        return self.postgres is not None and self.postgres.running

    def pids(self) -> list[int]:
        out: list[int] = []
        if self.rt is not None:
            out += [p.ref.pid for p in self.rt.processes.values() if p.ref is not None]
            if self.rt.nats is not None and self.rt.nats.process is not None:
                out.append(self.rt.nats.process.pid)
        if self.postgres is not None and self.postgres.pid is not None:
            out.append(self.postgres.pid)
        return out

    # -- start ----------------------------------------------------------------------------------------

    def start(self) -> LinkState | None:
        """Start everything; returns the parent link's state (None for the root). On any failure what
        was started is stopped again before the error propagates."""
        self._secure_data_dir()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.started_at = now()
        try:
            self.topology_path.write_text(
                "# written by kam node up from its config (the nodes this node knows)\n"
                + yaml.safe_dump(self.config.topology_dict(), allow_unicode=True, sort_keys=False),
                encoding="utf-8",
            )
            self.secrets()  # the node's own role passwords, made once
            self._start_postgres()
            self._start_nats()
            migrated = migrate_node(self.rt_or_fail(), self.specs, self.topology, self.migrate)
            self.log(f"migrations applied ({', '.join(migrated) or 'none'})")
            self._start_services()
            wait_urls(
                check_urls(self.rt_or_fail()),
                timeout=self.ready_timeout,
                abort=lambda: dead_process(self.rt_or_fail()),
                verify=ssl_context(self.tls.ca if self.tls else None),
            )
            self.log(f"node {self.code} ready at {self.rt_or_fail().url}")
            return self.wait_parent_link(self.link_timeout)
        except BaseException:
            self.log("start failed; stopping what was started")
            self.stop()
            raise

    def rt_or_fail(self) -> NodeRuntime:
        if self.rt is None:
            raise FederationError(f"node {self.code} is not running")
        return self.rt

    def _start_postgres(self) -> None:
        name = database_name(self.code)
        url = self.config.database.url or os.environ.get("DATABASE_URL") or None
        if url is not None:
            # an external server's URL names the node's database (e.g. the one CloudNativePG made)
            database_url = asyncpg_url(url)
            self.log(f"PostgreSQL: external {plain_dsn(url).split('@')[-1]}")
        else:
            self.postgres = EmbeddedPostgres(
                self.data_dir / "pg" / "data", log_path=self.logs_dir / "postgres.log", fast=self.pg_fast
            )
            self.postgres.start()
            server = self.postgres.dsn("postgres")
            ensure_database(server, name)
            database_url = asyncpg_url(with_database(plain_dsn(server), name))
            self.log(f"PostgreSQL: embedded on 127.0.0.1:{self.postgres.port}")
        self.rt = NodeRuntime(node=self.node, database_url=database_url, nats_url="", nats=None)
        self.save_state()

    def _start_nats(self) -> None:
        rt = self.rt_or_fail()
        external = self.config.nats.external
        if external is not None:
            rt.nats_url = ",".join(external.urls)
            self.log(f"NATS: external {', '.join(u.split('@')[-1] for u in external.urls)}")
            return
        server = self.make_nats()
        rt.nats = server
        rt.nats_url = self.secrets().url(server.url, ADMIN_USER)
        server.start()
        self.save_state()
        where = f", leafnodes on {server.leaf_host}:{server.leaf_port}" if server.leaf_port else ""
        self.log(f"NATS: embedded nats-server on {server.url}{where}{' (TLS)' if self.tls else ' (plain TCP)'}")

    def _launch(self) -> NodeLaunch:
        env = dict(self.extra_env)
        if self.tls is not None:
            # the node's own processes reach each other's https URLs (the JWKS in one-process mode):
            # trust the node's CA in addition to the system's
            system = ssl.get_default_verify_paths()
            cafile = Path(system.cafile or system.openssl_cafile)
            base = cafile.read_text(encoding="utf-8") + "\n" if cafile.is_file() else ""
            self.bundle_path.write_text(base + self.tls.ca.read_text(encoding="utf-8"), encoding="utf-8")
            env.setdefault("SSL_CERT_FILE", str(self.bundle_path))
        monitor = self.config.nats.external.monitor_url if self.config.nats.external is not None else None
        return NodeLaunch(
            specs=self.specs,
            process_per=self.config.process_per,
            topology_file=self.topology_path,
            logs_dir=self.logs_dir,
            nats_url=self.nats_url,
            python=self.python,
            extra_env=env,
            host=self.config.listen.host,
            port=self.config.listen.port,
            public_url=self.config.public_url,
            tls_cert=self.tls.cert if self.tls else None,
            tls_key=self.tls.key if self.tls else None,
            monitor_url=monitor,
        )

    def _start_services(self) -> None:
        rt = self.rt_or_fail()
        self._launch().plan(rt)
        for proc in rt.processes.values():
            proc.start()
        self.save_state()
        self.log(f"started {len(rt.processes)} processes ({self.config.process_per} mode); waiting until ready")

    # -- links ------------------------------------------------------------------------------------------

    def leaf_names(self) -> set[str] | None:
        rt = self.rt
        if rt is None or rt.nats is None:
            return None
        try:
            return set(rt.nats.leaf_names())
        except httpx.HTTPError:
            return None

    def parent_link(self) -> LinkState | None:
        """Connected, or why not: a credential the parent refused is named as such (nats-server's log)."""
        parent = self.node.parent
        if parent is None or self.external_nats:
            return None
        names = self.leaf_names()
        if names is not None and parent in names:
            return LinkState(True, message=f"linked to {parent}")
        assert self.rt is not None
        assert self.rt.nats is not None
        refused = False
        for line in _tail_lines(self.rt.nats.log_path, 400):
            if _CHILD_REFUSED.search(line):
                refused = True
            elif _CHILD_CONNECTED.search(line):
                refused = False
        if refused:
            return LinkState(
                False,
                refused=True,
                message=(
                    f"the parent {parent} refused this node's credentials (Authorization Violation): they are "
                    f"wrong or were revoked; ask {parent}'s operators for new ones "
                    f"(`kam node credentials --child {self.code}` there) and restart this node"
                ),
            )
        return LinkState(False, message=f"not linked to {parent} (network or parent down; writes here continue)")

    def wait_parent_link(self, timeout: float) -> LinkState | None:
        state = self.parent_link()
        if state is None:
            return None
        with contextlib.suppress(TimeoutError):
            wait_until(
                lambda: bool((s := self.parent_link()) and (s.connected or s.refused)),
                timeout=timeout,
                interval=0.3,
                what="parent link",
            )
        return self.parent_link()

    def refused_children(self) -> dict[str, dict[str, str]]:
        """Children whose recent link attempts this node's nats-server refused: {child: {at, why}}."""
        if self.rt is None or self.rt.nats is None:
            return {}
        secrets = self.secrets()
        linked = self.leaf_names() or set()
        out: dict[str, dict[str, str]] = {}
        for line in _tail_lines(self.rt.nats.log_path, 400):
            m = _PARENT_REFUSED.match(line)
            if m is None:
                continue
            at, child = m.group(1), m.group(2)
            entry = secrets.children.get(child)
            if child not in self.topology.children(self.code):
                why = "not a child of this node"
            elif entry is None:
                why = "no credentials were issued to it"
            elif entry.get("revoked_at"):
                why = f"its credentials were revoked at {entry['revoked_at']}"
            else:
                why = "wrong password (an old or foreign credentials file)"
            out[child] = {"at": at, "why": why}
        for child in linked:
            out.pop(child, None)
        return out

    # -- credentials (at the parent) ----------------------------------------------------------------------

    def _check_child(self, child: str) -> None:
        if child not in self.topology.children(self.code):
            known = ", ".join(self.topology.children(self.code)) or "none"
            raise FederationError(f"{child!r} is not a child of {self.code} in its topology (children: {known})")

    def leaf_advertised_url(self) -> str | None:
        leaf = self.config.nats.leafnodes
        if not self.topology.children(self.code) or self.external_nats:
            return None
        host = leaf.advertise or (self.config.listen.host if self.config.listen.host not in ("0.0.0.0", "::") else None)
        if host is None:
            return None
        return f"{'tls' if self.tls else 'nats-leaf'}://{host}:{leaf.port}"

    def issue(self, child: str, out: Path) -> ChildCredentials:
        """Issue (or rotate) `child`'s credentials, write them to `out` (0600) and let the running
        nats-server accept them (config reload)."""
        self._check_child(child)
        password = self.secrets().issue(child, now())
        creds = ChildCredentials(
            node=child, parent=self.code, password=password, issued_at=now(), parent_url=self.leaf_advertised_url()
        )
        creds.write(out)
        self.apply_secrets(cut=False)
        return creds

    def revoke(self, child: str) -> bool:
        """Revoke `child`'s credentials; a link it holds is cut (the nats-server restarts: a config reload
        keeps connections that are already authenticated)."""
        self._check_child(child)
        done = self.secrets().revoke(child, now())
        self.apply_secrets(cut=True)
        return done

    def apply_secrets(self, *, cut: bool) -> None:
        """Rewrite the running nats-server's config with the current credentials: a reload (SIGHUP), or
        a restart when a connected link must be cut. Nothing to do when the node is not running."""
        if not self.attach() or self.rt is None or self.rt.nats is None or not self.rt.nats.running:
            return
        server = self.rt.nats
        server.auth = self.secrets().auth(self.topology, self.code)
        server.write_config()
        if cut:
            server.stop()
            server.start()
            self.save_state()
        elif server.process is not None:
            server.process.signal(signal.SIGHUP)

    # -- operator actions -----------------------------------------------------------------------------------

    def token(self, user: str = "admin") -> str:
        """A bearer token for an existing user of this node (the token issuer's `issue_token` hook)."""
        for spec in self.specs.values():
            fn = spec.hook("issue_token")
            if fn is not None:
                token: str = asyncio.run(fn(self.rt_or_fail().database_url, self.code, user, self.topology))
                return token
        raise FederationError("no installed service issues tokens")

    def resync_path(self) -> str:
        """`POST <route>/resync` of the service that manages the node's streams (its NATS role says so;
        no service is named here)."""
        for spec in self.specs.values():
            if spec.nats.manages_streams and spec.routes:
                return spec.routes[0].rstrip("/") + "/resync"
        raise FederationError("no installed service manages the node's streams (nothing to resync)")

    def request_resync(self, reason: str) -> httpx.Response:
        """Ask this node's sync service for a resync: its subtree republishes its records, its ancestors
        their reference data (a node joining late catches up by snapshot)."""
        rt = self.rt_or_fail()
        return httpx.post(
            rt.check_url + self.resync_path(),
            json={"reason": reason},
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=30.0,
            verify=ssl_context(self.tls.ca if self.tls else None),
        )

    def status(self) -> dict[str, Any]:
        rt = self.rt
        out: dict[str, Any] = {
            "code": self.code,
            "tier": self.node.tier.value,
            "parent": self.node.parent,
            "children": self.topology.children(self.code),
            "started_at": self.started_at,
            "running": self.any_alive(),
        }
        if rt is None:
            return out
        verify = ssl_context(self.tls.ca if self.tls else None)
        with httpx.Client(timeout=3.0, verify=verify) as client:

            def ok(url: str) -> bool:
                try:
                    return client.get(url).status_code == 200
                except httpx.HTTPError:
                    return False

            out["url"] = rt.url
            out["healthy"] = ok(rt.check_url + "/health")
            out["ready"] = ok(rt.check_url + "/ready")
        names = self.leaf_names()
        link = self.parent_link()
        out["parent_link"] = (
            None if link is None else {"connected": link.connected, "refused": link.refused, "message": link.message}
        )
        out["children_links"] = {c: (None if names is None else c in names) for c in self.topology.children(self.code)}
        out["refused_children"] = self.refused_children()
        secrets = self.secrets()
        out["credentials"] = {
            c: {"issued_at": e.get("issued_at"), "revoked_at": e.get("revoked_at")} for c, e in secrets.children.items()
        }
        return out

    # -- stop ---------------------------------------------------------------------------------------------

    def stop(self, timeout: float = 15.0) -> None:
        """Services, then the nats-server, then PostgreSQL; removes node.json."""
        if self.rt is not None:
            terminate_all([p.ref for p in self.rt.processes.values() if p.ref is not None], timeout)
            if self.rt.nats is not None:
                self.rt.nats.stop()
        if self.postgres is not None:
            self.postgres.stop()
        self.state_path.unlink(missing_ok=True)
        self.log("stopped")

    def watch(self, report: Callable[[str], None], stop: Callable[[], bool]) -> None:
        """Foreground: report processes that exit (a nats-server restarted by `kam node credentials
        --revoke` is picked up from node.json), until `stop()` or node.json is removed."""
        reported: set[str] = set()
        idle = threading.Event()
        while not stop():
            if not self.state_path.exists():
                report("node.json removed (kam node down?); exiting")
                return
            rt = self.rt_or_fail()
            for proc in rt.processes.values():
                if proc.name not in reported and not proc.alive():
                    reported.add(proc.name)
                    report(f"{self.code}/{proc.name} exited (see {proc.log})")
            if rt.nats is not None and not rt.nats.running:
                data = json.loads(self.state_path.read_text(encoding="utf-8"))
                raw = ((data.get("node") or {}).get("nats") or {}).get("process")
                fresh = ProcessRef.from_dict(raw) if raw else None
                if fresh is not None and fresh.alive():
                    rt.nats.process = fresh
                elif "nats" not in reported:
                    reported.add("nats")
                    report(f"{self.code} nats-server exited (see {rt.nats.log_path})")
            idle.wait(1.0)


def _tail_lines(path: Path, lines: int) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]
