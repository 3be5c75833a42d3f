"""Operator tokens (`kam token`): mint a token for an existing active user with the node's key,
without a password. The claims are built by the token endpoint's own claim builder
(kam_org.auth.claims), on one plain asyncpg connection: no SQLAlchemy, no FastAPI, no models are
imported (issue 10; libs/cli/tests/test_cli_startup.py checks it)."""

from __future__ import annotations

from kam_org.auth import claims
from kam_platform.topology import Topology


async def issue_token(
    database_url: str,
    node: str,
    username: str,
    topology: Topology,
    scope_node: str | None = None,
    scope_level: str | None = None,
) -> str:
    import asyncpg

    dsn = "postgresql://" + database_url.split("://", 1)[1]  # asyncpg takes no `+driver` in the scheme
    conn = await asyncpg.connect(dsn, server_settings={"application_name": f"kam-token-{node}"})
    try:
        await claims.ensure_signing_key(conn)
        issued = await claims.operator_token(
            conn, node=node, topology=topology, username=username, scope_node=scope_node, scope_level=scope_level
        )
        return issued.token
    finally:
        await conn.close()
