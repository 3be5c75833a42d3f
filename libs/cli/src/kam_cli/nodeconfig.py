"""`node.yaml`: what one node needs to run on its own machine (`kam node up --config node.yaml`).

    node: {code: gd, tier: province, parent: hq, name: {zh: 广东, en: Guangdong}}
    topology:                    # the nodes it must know: its ancestors and its subtree
      - {code: hq, tier: group, name: {zh: 中国电信集团, en: Group HQ}}
      - {code: gd-gz, tier: local, parent: gd, name: {zh: 广州, en: Guangzhou}}
    data_dir: /var/lib/kam       # relative paths are relative to this file
    process_per: node            # or service (one process per service plus the gateway)
    listen: {host: 0.0.0.0, port: 8443}
    public_url: https://gd.kam.example:8443          # optional
    database: {url: postgresql://kam:…@db:5432/kam}  # omitted: embedded PostgreSQL in data_dir
    nats:                        # embedded nats-server (default) …
      leafnodes: {host: 0.0.0.0, port: 7422, advertise: gd.kam.example}
      # … or an external server / cluster: external: {urls: [nats://n1:4222, …], monitor_url: …}
    parent: {url: tls://hq.kam.example:7422, credentials: gd.credentials.json}
    tls: {ca: certs/ca.pem, cert: certs/gd.pem, key: certs/gd-key.pem}
    # plain: true               # no TLS on the leafnode links and the node's port (development only)

Every mistake is reported with the field that is wrong (`NodeConfigError`), before anything starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kam_platform.topology import Node, Topology, TopologyError


class NodeConfigError(ValueError):
    """node.yaml is missing, unreadable or invalid (the message names the field)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeName(_Model):
    zh: str
    en: str


class NodeEntry(_Model):
    code: str
    tier: str
    parent: str | None = None
    name: NodeName | None = None


class Listen(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)


class Database(_Model):
    url: str | None = Field(default=None, description="an external PostgreSQL server; omitted: embedded")


class LeafListen(_Model):
    host: str = "0.0.0.0"
    port: int = Field(default=7422, ge=1, le=65535)
    advertise: str | None = Field(default=None, description="the host children connect to")


class ExternalNats(_Model):
    urls: list[str] = Field(min_length=1)
    monitor_url: str | None = None


class Nats(_Model):
    client_port: int | None = Field(default=None, ge=1, le=65535)
    monitor_port: int | None = Field(default=None, ge=1, le=65535)
    leafnodes: LeafListen = LeafListen()
    external: ExternalNats | None = None


class Parent(_Model):
    url: str | None = Field(default=None, description="the parent's leafnode listener (default: the credentials')")
    credentials: Path


class TLS(_Model):
    ca: Path
    cert: Path
    key: Path


class NodeConfig(_Model):
    node: NodeEntry
    topology: list[NodeEntry] = Field(default_factory=list)
    data_dir: Path = Path("kam-data")
    process_per: Literal["service", "node"] = "node"
    listen: Listen = Listen()
    public_url: str | None = None
    database: Database = Database()
    nats: Nats = Nats()
    parent: Parent | None = None
    tls: TLS | None = None
    plain: bool = False
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _check(self) -> NodeConfig:
        if self.tls is None and not self.plain:
            raise ValueError("tls: certificates are required (ca, cert, key); set `plain: true` for plain TCP")
        if self.tls is not None and self.plain:
            raise ValueError("tls and plain: choose one")
        if (self.node.parent is None) != (self.parent is None):
            raise ValueError(
                "parent: a node with a parent needs `parent: {credentials: …}`, and only such a node has one"
            )
        return self

    # -- derived -----------------------------------------------------------------------------------

    @property
    def code(self) -> str:
        return self.node.code

    def path(self, value: Path) -> Path:
        return value if value.is_absolute() else (self.base_dir / value).absolute()

    @property
    def data_path(self) -> Path:
        return self.path(self.data_dir)

    def tls_paths(self) -> TLS | None:
        if self.tls is None:
            return None
        return TLS(ca=self.path(self.tls.ca), cert=self.path(self.tls.cert), key=self.path(self.tls.key))

    def credentials_path(self) -> Path | None:
        return self.path(self.parent.credentials) if self.parent is not None else None

    def topology_dict(self) -> dict[str, Any]:
        entries = {e.code: e for e in self.topology}
        own = entries.get(self.node.code)
        if own is not None and own != self.node:
            raise NodeConfigError(f"topology: node {self.node.code!r} differs from `node:`")
        entries[self.node.code] = self.node
        return {
            "nodes": [
                {
                    "code": e.code,
                    "tier": e.tier,
                    "parent": e.parent,
                    "name": e.name.model_dump() if e.name else {"zh": e.code, "en": e.code},
                }
                for e in entries.values()
            ]
        }

    def build_topology(self) -> Topology:
        try:
            return Topology.from_dict(self.topology_dict())
        except TopologyError as exc:
            raise NodeConfigError(f"topology: {exc}") from exc

    def own_node(self) -> Node:
        return self.build_topology().node(self.code)

    @classmethod
    def load(cls, path: str | Path) -> NodeConfig:
        file = Path(path).absolute()
        try:
            raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise NodeConfigError(f"cannot read {file}: {exc.strerror or exc}") from exc
        except yaml.YAMLError as exc:
            raise NodeConfigError(f"{file} is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise NodeConfigError(f"{file}: expected a mapping at the top")
        try:
            config = cls.model_validate({**raw, "base_dir": file.parent})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors(include_url=False)
            )
            raise NodeConfigError(f"{file}: {problems}") from None
        config.build_topology()  # a bad tree is a config error, before anything starts
        return config
