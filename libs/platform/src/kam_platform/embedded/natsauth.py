"""Per-node NATS credentials and permissions of a federation (DESIGN §5, between nodes).

Every permission is an allow-list: a user may publish and subscribe only to what its code uses, and
everything else — above all the rest of the JetStream API (purge, delete, message get/delete, restore,
snapshot, stream and consumer listing) — is refused by the server.

- ``kam-svc`` (the services): publish the node's own events (``up.<node>.>``, ``down.<scope>.>``), the
  dead letters of the services that apply replicated events (``dlq.<node>.<service>``), and drive
  durable pull consumers (create, info, next, ack) on the streams the node's services read; stream
  info only for the streams they apply. It cannot create, change, purge or delete streams, read a
  message by sequence or delete consumers.
- ``kam-sync`` (the sync service, and a whole-node process, which hosts it): the same, plus creating,
  updating and inspecting the node's own streams (``federation.plan``) and listing the consumers of
  the inbound streams. No delete, purge, message or restore API.
- ``kam-admin``: operators and tests, unrestricted.
- ``leaf-<child>``: a child's leafnode link. Events cross links only by JetStream sourcing, so the link
  carries exactly that: the parent's requests to create the consumer that feeds ``UP_<child>`` upward
  and the child's requests to create the consumer on the parent's downward stream, the API replies, the
  deliveries (under a per-link deliver prefix, so a child cannot feed a sibling's source) and flow
  control. A child can neither reach another API subject of the parent, of the grandparent or of a
  sibling (their ``$JS.<domain>.API.>`` requests cross this link), nor publish raw ``up``/``down``/
  ``dlq`` messages, nor listen to traffic not meant for it.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from kam_platform.embedded.nats import LeafAuth
from kam_platform.federation import (
    deliver_prefix,
    down_scope,
    down_stream,
    inbound_streams,
    plan,
    up_stream,
)
from kam_platform.service import discover
from kam_platform.topology import Topology

SERVICE_USER = "kam-svc"
SYNC_USER = "kam-sync"
ADMIN_USER = "kam-admin"
ROLES = (SERVICE_USER, SYNC_USER, ADMIN_USER)


def applying_services() -> tuple[str, ...]:
    """Services that run apply consumers and therefore publish dead letters (``dlq.<node>.<service>``):
    those whose spec applies replicated events (``ServiceSpec.applies``)."""
    return tuple(name for name, spec in discover().items() if spec.applies)


# nats.py's replies (PubAcks, API responses, pull batches) arrive on the connection's inbox.
CLIENT_INBOX = "_INBOX.>"
# Replies of the JetStream API to requests the server itself makes (sourcing).
SERVER_REPLIES = "$JSC.R.>"


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]

    def config(self) -> str:
        return f"{{ publish: {{ allow: {_list(self.publish)} }}, subscribe: {{ allow: {_list(self.subscribe)} }} }}"


def with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _q(value: str) -> str:
    return json.dumps(value)


def _list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


def _pull_consumer(stream: str) -> list[str]:
    """What a durable pull consumer on `stream` needs: create (both API forms nats.py may use), info,
    next and acks."""
    api = "$JS.API.CONSUMER"
    return [
        f"{api}.DURABLE.CREATE.{stream}.*",
        f"{api}.CREATE.{stream}.*",
        f"{api}.CREATE.{stream}.*.>",
        f"{api}.INFO.{stream}.*",
        f"{api}.MSG.NEXT.{stream}.*",
        f"$JS.ACK.{stream}.>",
    ]


def service_permissions(topology: Topology, code: str) -> Permissions:
    inbound = inbound_streams(topology, code)
    # the TMF hub reads the node's own stream; the apply consumers read the inbound streams
    consumed = list(dict.fromkeys([up_stream(code), *inbound]))
    publish = [
        f"up.{code}.>",
        f"down.{down_scope(topology, code)}.>",
        *(f"dlq.{code}.{s}" for s in applying_services()),
        *(f"$JS.API.STREAM.INFO.{s}" for s in inbound),
        *(subject for s in consumed for subject in _pull_consumer(s)),
    ]
    return Permissions(tuple(publish), (CLIENT_INBOX,))


def sync_permissions(topology: Topology, code: str) -> Permissions:
    svc = service_permissions(topology, code)
    streams = [spec.name for spec in plan(topology, code)]
    publish = [
        *svc.publish,
        *(f"$JS.API.STREAM.{op}.{s}" for s in streams for op in ("CREATE", "UPDATE", "INFO")),
        *(f"$JS.API.CONSUMER.LIST.{s}" for s in inbound_streams(topology, code)),
    ]
    return Permissions(tuple(dict.fromkeys(publish)), svc.subscribe)


def leaf_permissions(topology: Topology, parent: str, child: str) -> Permissions:
    """The link of `child` into `parent`: publish = what the child sends in, subscribe = what the
    parent sends out to it."""
    up, down = up_stream(child), down_stream(topology, parent)
    prefix = deliver_prefix(child)
    publish = (
        SERVER_REPLIES,  # the child's JetStream answering the parent's consumer-create for UP_<child>
        f"{prefix}.>",  # UP_<child> deliveries to the parent's source
        f"$JS.{parent}.API.CONSUMER.CREATE.{down}",  # the child's source of the downward stream
        f"$JS.{parent}.API.CONSUMER.CREATE.{down}.>",
        f"$JS.FC.{down}.>",  # flow-control replies for that source
    )
    subscribe = (
        SERVER_REPLIES,
        f"{prefix}.>",  # the downward stream's deliveries to the child's source
        f"$JS.{child}.API.CONSUMER.CREATE.{up}",
        f"$JS.{child}.API.CONSUMER.CREATE.{up}.>",
        f"$JS.FC.{up}.>",
    )
    return Permissions(publish, subscribe)


@dataclass
class FederationCredentials:
    """Random passwords per node and role, kept in a 0600 file of the run directory."""

    passwords: dict[str, dict[str, str]]

    @classmethod
    def load_or_create(cls, path: Path, topology: Topology) -> FederationCredentials:
        data: dict[str, dict[str, str]] = {}
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
        changed = False
        for node in topology:
            entry = data.setdefault(node.code, {})
            for role in (*ROLES, "leaf"):
                if role not in entry:
                    entry[role] = secrets.token_urlsafe(18)
                    changed = True
        if changed or not path.exists():
            # the directory's mode is the run directory's business (see kam_cli.runtime); a new one
            # starts private
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            # created 0600, never world-readable for an instant
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(data, indent=2))
            os.chmod(tmp, 0o600)
            tmp.replace(path)
        return cls(data)

    def url(self, base_url: str, code: str, role: str) -> str:
        return with_credentials(base_url, role, self.passwords[code][role])

    def leaf_remote_url(self, parent_leaf_url: str, code: str) -> str:
        """The URL a node uses for its leafnode link to its parent (authenticates as leaf-<code>)."""
        return with_credentials(parent_leaf_url, f"leaf-{code}", self.passwords[code]["leaf"])

    def node_auth(self, topology: Topology, code: str) -> LeafAuth:
        children = {c: self.passwords[c]["leaf"] for c in topology.children(code)}
        return server_auth(topology, code, self.passwords[code], children)


def server_auth(
    topology: Topology, code: str, passwords: Mapping[str, str], child_leaf_passwords: Mapping[str, str]
) -> LeafAuth:
    """The users of node `code`'s nats-server: the three roles with `passwords`, and one leafnode user
    per child that holds credentials (`child_leaf_passwords`; a child without an entry — never issued,
    or revoked — is refused)."""
    users = [
        f"    {{ user: {_q(SERVICE_USER)}, password: {_q(passwords[SERVICE_USER])},"
        f" permissions: {service_permissions(topology, code).config()} }}",
        f"    {{ user: {_q(SYNC_USER)}, password: {_q(passwords[SYNC_USER])},"
        f" permissions: {sync_permissions(topology, code).config()} }}",
        f"    {{ user: {_q(ADMIN_USER)}, password: {_q(passwords[ADMIN_USER])} }}",
    ]
    # a child's leafnode link authenticates as a user of this server: its publish permissions bound
    # what the child may send in, its subscribe permissions what this server sends out to it
    users += [
        f"    {{ user: {_q(leaf_user(c))}, password: {_q(child_leaf_passwords[c])},"
        f' allowed_connection_types: ["LEAFNODE"], permissions: {leaf_permissions(topology, code, c).config()} }}'
        for c in topology.children(code)
        if c in child_leaf_passwords
    ]
    server_config = "authorization {\n  users: [\n" + ",\n".join(users) + "\n  ]\n}"
    return LeafAuth(server_config=server_config)


def leaf_user(child: str) -> str:
    return f"leaf-{child}"


def _write_private(path: Path, text: str) -> None:
    """Write a file created 0600 (never readable by others, not even for an instant), atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    tmp.replace(path)


CREDENTIALS_KIND = "kam-node-credentials"


class CredentialsError(ValueError):
    """A node credentials file is missing, unreadable or for another node."""


@dataclass(frozen=True)
class ChildCredentials:
    """What a parent issues to a child (`kam node credentials --child CODE`): the leafnode user and
    password the child presents on its link, and where the parent's leafnode listener is."""

    node: str
    parent: str
    password: str
    issued_at: str
    parent_url: str | None = None

    @property
    def user(self) -> str:
        return leaf_user(self.node)

    def to_json(self) -> str:
        data = {
            "kind": CREDENTIALS_KIND,
            "version": 1,
            "node": self.node,
            "parent": self.parent,
            "user": self.user,
            "password": self.password,
            "issued_at": self.issued_at,
            "parent_url": self.parent_url,
        }
        return json.dumps(data, indent=2) + "\n"

    def write(self, path: Path) -> None:
        _write_private(path, self.to_json())

    @classmethod
    def load(cls, path: Path, *, node: str, parent: str) -> ChildCredentials:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CredentialsError(f"cannot read the node credentials {path}: {exc}") from exc
        if not isinstance(data, dict) or data.get("kind") != CREDENTIALS_KIND:
            raise CredentialsError(f"{path} is not a KAM node credentials file (kam node credentials --child)")
        if data.get("node") != node or data.get("parent") != parent:
            raise CredentialsError(
                f"{path} holds the credentials of node {data.get('node')!r} under {data.get('parent')!r}, "
                f"not of {node!r} under {parent!r}"
            )
        return cls(
            node=node,
            parent=parent,
            password=str(data["password"]),
            issued_at=str(data.get("issued_at", "")),
            parent_url=data.get("parent_url"),
        )


@dataclass
class NodeSecrets:
    """One node's NATS secrets (a 0600 JSON file in its data directory): the passwords of its own
    roles, and the leafnode passwords it issued to its children (with issue and revocation times)."""

    path: Path
    roles: dict[str, str]
    children: dict[str, dict[str, str | None]]

    @classmethod
    def load_or_create(cls, path: Path) -> NodeSecrets:
        data: dict[str, Any] = {}
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
        roles = dict(data.get("roles", {}))
        changed = not path.exists()
        for role in ROLES:
            if role not in roles:
                roles[role] = secrets.token_urlsafe(18)
                changed = True
        out = cls(path, roles, dict(data.get("children", {})))
        if changed:
            out.save()
        return out

    def save(self) -> None:
        _write_private(self.path, json.dumps({"roles": self.roles, "children": self.children}, indent=2) + "\n")

    def active_children(self) -> dict[str, str]:
        """child → leafnode password, for the children whose credentials are issued and not revoked."""
        return {
            code: str(entry["password"])
            for code, entry in self.children.items()
            if entry.get("password") and not entry.get("revoked_at")
        }

    def issue(self, child: str, now: str) -> str:
        """A new leafnode password for `child` (replacing any earlier one: rotation)."""
        password = secrets.token_urlsafe(24)
        self.children[child] = {"password": password, "issued_at": now, "revoked_at": None}
        self.save()
        return password

    def revoke(self, child: str, now: str) -> bool:
        """Revoke `child`'s credentials; False when it had none in force."""
        entry = self.children.get(child)
        if entry is None or entry.get("revoked_at") or not entry.get("password"):
            return False
        entry["revoked_at"] = now
        entry["password"] = None
        self.save()
        return True

    def auth(self, topology: Topology, code: str) -> LeafAuth:
        return server_auth(topology, code, self.roles, self.active_children())

    def url(self, base_url: str, role: str) -> str:
        """`base_url` (one URL or a comma-separated cluster list) with `role`'s user and password."""
        return ",".join(with_credentials(u, role, self.roles[role]) for u in base_url.split(",") if u.strip())
