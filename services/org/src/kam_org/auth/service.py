"""Token issuing: the password grant and the operator token share one claim builder; the node's
Ed25519 signing key lives in the org schema and its public half is the JWKS."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.auth.passwords import verify_password
from kam_org.auth.repository import SigningKeyRepository
from kam_org.auth.schemas import TOKEN_LIFETIME_SECONDS, TokenResponse
from kam_org.models import Staff
from kam_org.role import service as role_service
from kam_org.staff.repository import StaffRepository
from kam_platform.auth import generate_signing_key, load_private_key, private_key_pem, public_jwk, sign_token
from kam_platform.errors import Forbidden, NotFound, Unauthorized
from kam_platform.ids import uuid7
from kam_platform.topology import Topology

AUDIENCE = "kam"
BAD_LOGIN = "invalid user name or password"


async def ensure_signing_key(session: AsyncSession) -> None:
    """Create the node's signing key when there is none (safe when several processes start at once)."""
    repo = SigningKeyRepository.from_session(session)
    if await repo.active() is not None:
        return
    key = generate_signing_key()
    kid = f"kam-{uuid7().hex[:16]}"
    await repo.insert_if_none_active(kid=kid, private_pem=private_key_pem(key), public_jwk=public_jwk(key, kid))


async def jwks(session: AsyncSession) -> dict[str, Any]:
    return {"keys": await SigningKeyRepository.from_session(session).public_jwks()}


def _scope(topology: Topology, home: str, requested: str | None) -> str:
    """The data scope of a token: the home node, or a descendant of it — never wider, never a sibling."""
    if not requested or requested == home:
        return home
    if requested not in topology or not topology.is_in_subtree(requested, home):
        raise Forbidden(f"scope node {requested!r} is not within the subtree of home node {home!r}")
    return requested


async def _mint(session: AsyncSession, *, staff: Staff, topology: Topology, scope_node: str | None) -> TokenResponse:
    """Resolve roles and permissions now, build the claims (docs/architecture.md) and sign them."""
    scope = _scope(topology, staff.owner_node, scope_node)
    roles = (await StaffRepository.from_session(session).roles_of([staff.id]))[staff.id]
    perms = await role_service.permissions_for_roles(session, roles=roles)
    key = await SigningKeyRepository.from_session(session).active()
    if key is None:
        raise Unauthorized("this node has no signing key yet")
    now = int(time.time())
    claims = {
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
    token = sign_token(load_private_key(key.private_pem), key.kid, claims)
    return TokenResponse(access_token=token, scope_node=scope)


async def password_grant(
    session: AsyncSession,
    *,
    node: str,
    topology: Topology,
    username: str,
    password: str,
    scope_node: str | None = None,
) -> TokenResponse:
    """OAuth 2.0 password grant; a wrong password, an unknown or an inactive user look the same (401)."""
    staff = await StaffRepository.from_session(session).get_by_username(node, username)
    ok = await verify_password(staff.password_hash if staff else None, password)
    if staff is None or not ok or not staff.is_active:
        raise Unauthorized(BAD_LOGIN)
    return await _mint(session, staff=staff, topology=topology, scope_node=scope_node)


async def operator_token(
    session: AsyncSession, *, node: str, topology: Topology, username: str, scope_node: str | None = None
) -> TokenResponse:
    """A token for an existing active user without a password (the operator's `kam token`)."""
    staff = await StaffRepository.from_session(session).get_by_username(node, username)
    if staff is None or not staff.is_active:
        raise NotFound(f"no active user {username!r} at node {node!r}")
    return await _mint(session, staff=staff, topology=topology, scope_node=scope_node)
