"""Per-node NATS credentials and permissions of a federation (DESIGN §5, between nodes).

Every node's nats-server requires a user: services connect as ``kam-svc`` (may publish only under the
node's own subjects — ``up.<node>.>``, ``down.<scope>.>``, ``dlq.<node>.>`` — plus the JetStream API,
and may not create, change or delete streams), the sync service as ``kam-sync`` (also declares
streams), operators and tests as ``kam-admin``. A child's leafnode link authenticates as
``leaf-<child>`` and may not publish raw ``up.>``/``down.>``/``dlq.>`` messages into its parent: events
cross links only by JetStream sourcing, and each source is filtered to the child's own subtree.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from kam_platform.embedded.nats import LeafAuth
from kam_platform.federation import down_scope
from kam_platform.topology import Topology

SERVICE_USER = "kam-svc"
SYNC_USER = "kam-sync"
ADMIN_USER = "kam-admin"
ROLES = (SERVICE_USER, SYNC_USER, ADMIN_USER)

STREAM_ADMIN_API = [
    "$JS.API.STREAM.CREATE.>",
    "$JS.API.STREAM.UPDATE.>",
    "$JS.API.STREAM.DELETE.>",
    "$JS.API.STREAM.PURGE.>",
]
JS_CLIENT = ["$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "_INBOX.>"]


def with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _q(value: str) -> str:
    return json.dumps(value)


def _list(items: list[str]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


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
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
            os.chmod(tmp, 0o600)
            tmp.replace(path)
        return cls(data)

    def url(self, base_url: str, code: str, role: str) -> str:
        return with_credentials(base_url, role, self.passwords[code][role])

    def leaf_remote_url(self, parent_leaf_url: str, code: str) -> str:
        """The URL a node uses for its leafnode link to its parent (authenticates as leaf-<code>)."""
        return with_credentials(parent_leaf_url, f"leaf-{code}", self.passwords[code]["leaf"])

    def node_auth(self, topology: Topology, code: str) -> LeafAuth:
        scope = down_scope(topology, code)
        own = [f"up.{code}.>", f"down.{scope}.>", f"dlq.{code}.>"]
        pw = self.passwords[code]
        users = [
            f"    {{ user: {_q(SERVICE_USER)}, password: {_q(pw[SERVICE_USER])}, permissions: {{"
            f" publish: {{ allow: {_list(own + JS_CLIENT)}, deny: {_list(STREAM_ADMIN_API)} }},"
            f' subscribe: {{ allow: [">"] }} }} }}',
            f"    {{ user: {_q(SYNC_USER)}, password: {_q(pw[SYNC_USER])}, permissions: {{"
            f' publish: {{ allow: {_list(own + JS_CLIENT)} }}, subscribe: {{ allow: [">"] }} }} }}',
            f"    {{ user: {_q(ADMIN_USER)}, password: {_q(pw[ADMIN_USER])} }}",
        ]
        # a child's leafnode link authenticates as a user of this server; that user's permissions bound
        # what the child may send in (publish) — never raw event subjects
        users += [
            f"    {{ user: {_q('leaf-' + c)}, password: {_q(self.passwords[c]['leaf'])},"
            f' allowed_connection_types: ["LEAFNODE"], permissions: {{'
            f' publish: {{ deny: ["up.>", "down.>", "dlq.>"] }}, subscribe: {{ allow: [">"] }} }} }}'
            for c in topology.children(code)
        ]
        server_config = "authorization {\n  users: [\n" + ",\n".join(users) + "\n  ]\n}"
        return LeafAuth(server_config=server_config)
