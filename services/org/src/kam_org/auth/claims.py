"""The claims of a node's tokens and the reads they need: the one claim builder of the token endpoint's
password grant (kam_org.auth.service) and of the operator's `kam token` (kam_org.tokens).

Light on purpose (issue 10: `kam token` under 1 s): asyncpg, the signing code and the topology only —
no SQLAlchemy, no FastAPI, no models. The reads are plain SQL on an asyncpg connection; the service
passes its request session's own connection (`kam_platform.db.driver.driver_connection`), so both run the
same statements in the caller's transaction.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kam_platform.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.signing import ScopeLevel, generate_signing_key, load_private_key, private_key_pem, public_jwk
from kam_platform.signing import sign_token as sign
from kam_platform.topology import Topology

if TYPE_CHECKING:
    import asyncpg

AUDIENCE = "kam"
TOKEN_LIFETIME_SECONDS = 3600
SCHEMA = "org"  # kam_org.models.base.SCHEMA (importing it would import SQLAlchemy)


@dataclass(frozen=True)
class Subject:
    """The user a token is for, as the claims need it (from `subject_by_username`, or the service's
    Staff row)."""

    id: uuid.UUID
    username: str
    owner_node: str
    display_name: str
    is_active: bool
    must_change_password: bool

    @classmethod
    def of(cls, staff: Any) -> Subject:
        """From anything with the Staff columns (the service's ORM row)."""
        return cls(
            id=staff.id,
            username=staff.username,
            owner_node=staff.owner_node,
            display_name=staff.display_name,
            is_active=bool(staff.is_active),
            must_change_password=bool(staff.must_change_password),
        )


@dataclass(frozen=True)
class Issued:
    token: str
    scope_node: str
    claims: dict[str, Any]


# --- reads ------------------------------------------------------------------------------------


async def subject_by_username(conn: asyncpg.Connection, node: str, username: str) -> Subject | None:
    row = await conn.fetchrow(
        f"SELECT id, username, owner_node, display_name, is_active, must_change_password FROM {SCHEMA}.staff "
        "WHERE owner_node = $1 AND username = $2",
        node,
        username,
    )
    return None if row is None else Subject(**dict(row))


async def roles_of(conn: asyncpg.Connection, staff_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        f"SELECT r.code FROM {SCHEMA}.staff_role sr JOIN {SCHEMA}.role r ON r.id = sr.role_id "
        "WHERE sr.staff_id = $1 ORDER BY r.code",
        staff_id,
    )
    return [row["code"] for row in rows]


async def permissions_for_roles(conn: asyncpg.Connection, roles: list[str]) -> list[str]:
    rows = await conn.fetch(
        f"SELECT DISTINCT rp.permission_code FROM {SCHEMA}.role_permission rp JOIN {SCHEMA}.role r "
        "ON r.id = rp.role_id WHERE r.code = ANY($1::text[]) ORDER BY rp.permission_code",
        roles,
    )
    return [row["permission_code"] for row in rows]


async def team_usernames(conn: asyncpg.Connection, staff_id: uuid.UUID) -> list[str]:
    """Whose customers a team-scoped token sees (F19 职责): the members and leaders of every team the
    user belongs to or leads."""
    rows = await conn.fetch(
        f"""
        WITH teams AS (
            SELECT team_id AS id FROM {SCHEMA}.team_member WHERE staff_id = $1
            UNION SELECT id FROM {SCHEMA}.team WHERE leader_id = $1
        ), people AS (
            SELECT staff_id AS id FROM {SCHEMA}.team_member WHERE team_id IN (SELECT id FROM teams)
            UNION SELECT leader_id FROM {SCHEMA}.team WHERE id IN (SELECT id FROM teams) AND leader_id IS NOT NULL
        )
        SELECT DISTINCT username FROM {SCHEMA}.staff WHERE id IN (SELECT id FROM people) ORDER BY username
        """,
        staff_id,
    )
    return [row["username"] for row in rows]


async def active_key(conn: asyncpg.Connection) -> tuple[str, str] | None:
    """The kid and private PEM of the node's active signing key."""
    row = await conn.fetchrow(
        f"SELECT kid, private_pem FROM {SCHEMA}.signing_key WHERE is_active ORDER BY created_at DESC LIMIT 1"
    )
    return None if row is None else (str(row["kid"]), str(row["private_pem"]))


async def ensure_signing_key(conn: asyncpg.Connection) -> None:
    """Create the node's signing key when there is none (safe when several processes start at once:
    the partial unique index on the active key makes a concurrent second insert a no-op)."""
    if await active_key(conn) is not None:
        return
    import json

    key = generate_signing_key()
    kid = f"kam-{uuid7().hex[:16]}"
    await conn.execute(
        f"INSERT INTO {SCHEMA}.signing_key (kid, private_pem, public_jwk, is_active) "
        "VALUES ($1, $2, $3::jsonb, true) ON CONFLICT DO NOTHING",
        kid,
        private_key_pem(key),
        json.dumps(public_jwk(key, kid)),
    )


# --- the claims -------------------------------------------------------------------------------


def scope_of(topology: Topology, home: str, requested: str | None) -> str:
    """The data scope of a token: the home node, or a descendant of it — never wider, never a sibling."""
    if not requested or requested == home:
        return home
    if requested not in topology or not topology.is_in_subtree(requested, home):
        raise Forbidden(f"scope node {requested!r} is not within the subtree of home node {home!r}")
    return requested


def level_of(requested: str | None) -> ScopeLevel:
    """The data-scope level a token asks for: the whole node subtree (default), the user's team's
    portfolio, or the user's own portfolio (F19)."""
    try:
        return ScopeLevel(requested or ScopeLevel.NODE)
    except ValueError:
        allowed = ", ".join(level.value for level in ScopeLevel)
        raise ValidationFailed(f"scope_level: {requested!r} is not one of {allowed}", field="scope_level") from None


async def mint(
    conn: asyncpg.Connection,
    *,
    staff: Subject,
    topology: Topology,
    scope_node: str | None,
    scope_level: str | None = None,
) -> Issued:
    """Resolve roles and permissions now, build the claims (docs/architecture.md) and sign them."""
    scope = scope_of(topology, staff.owner_node, scope_node)
    level = level_of(scope_level)
    roles = await roles_of(conn, staff.id)
    perms = await permissions_for_roles(conn, roles)
    if staff.must_change_password:  # a one-time password: the token may do nothing until it is changed
        perms = []
    key = await active_key(conn)
    if key is None:
        raise Unauthorized("this node has no signing key yet")
    kid, pem = key
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": staff.username,
        "node": staff.owner_node,
        "scope_node": scope,
        "roles": roles,
        "perms": perms,
        "name": staff.display_name,
        "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "jti": str(uuid7()),
        "aud": AUDIENCE,
        "iss": f"kam:{staff.owner_node}",
    }
    if staff.must_change_password:
        claims["must_change_password"] = True  # the console sends the user to change it (kam_org.auth.bootstrap)
    if level is not ScopeLevel.NODE:  # node-level tokens keep the claims they always had
        claims["scope_level"] = level.value
        if level is ScopeLevel.TEAM:
            claims["portfolio"] = await team_usernames(conn, staff.id)
    return Issued(token=sign(load_private_key(pem), kid, claims), scope_node=scope, claims=claims)


async def operator_token(
    conn: asyncpg.Connection,
    *,
    node: str,
    topology: Topology,
    username: str,
    scope_node: str | None = None,
    scope_level: str | None = None,
) -> Issued:
    """A token for an existing active user without a password (the operator's `kam token`)."""
    staff = await subject_by_username(conn, node, username)
    if staff is None or not staff.is_active:
        raise NotFound(f"no active user {username!r} at node {node!r}")
    return await mint(conn, staff=staff, topology=topology, scope_node=scope_node, scope_level=scope_level)
