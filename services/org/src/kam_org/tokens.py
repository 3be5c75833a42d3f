"""Operator tokens (`kam token`): mint a token for an existing active user with the node's key,
without a password. Claims are built by the same code as the token endpoint."""

from __future__ import annotations

from kam_org.auth import service as auth_service
from kam_platform.db import create_database
from kam_platform.topology import Topology


async def issue_token(
    database_url: str,
    node: str,
    username: str,
    topology: Topology,
    scope_node: str | None = None,
    scope_level: str | None = None,
) -> str:
    db = create_database(database_url, pool_size=1, application_name=f"kam-token-{node}")
    try:
        async with db.sessionmaker() as session, session.begin():
            await auth_service.ensure_signing_key(session)
        async with db.sessionmaker() as session:
            issued = await auth_service.operator_token(
                session,
                node=node,
                topology=topology,
                username=username,
                scope_node=scope_node,
                scope_level=scope_level,
            )
        return issued.access_token
    finally:
        await db.dispose()
