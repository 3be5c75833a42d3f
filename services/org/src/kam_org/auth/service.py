"""Token issuing: the password grant and the operator token share one claim builder; the node's
Ed25519 signing key lives in the org schema and its public half is the JWKS.

The password grant is throttled per user name and per client address: after `max_failures` failures
within the window the key is locked out (429 with Retry-After, the password is not even checked) and
the lockout is audited; a successful login clears the user's failures (not the address's).
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.api import Caller
from kam_org.audit import service as audit
from kam_org.auth.passwords import verify_password
from kam_org.auth.repository import LoginThrottleRepository, PortfolioRepository, SigningKeyRepository
from kam_org.auth.schemas import TOKEN_LIFETIME_SECONDS, TokenResponse
from kam_org.models import Staff
from kam_org.role import service as role_service
from kam_org.staff.repository import StaffRepository
from kam_platform.auth import (
    Principal,
    ScopeLevel,
    generate_signing_key,
    load_private_key,
    private_key_pem,
    public_jwk,
    sign_token,
)
from kam_platform.errors import Forbidden, KamError, NotFound, Unauthorized, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.topology import Topology

AUDIENCE = "kam"
BAD_LOGIN = "invalid user name or password"
_THROTTLE_NAMESPACE = uuid.UUID("5d3c1f0e-8a4b-4f6e-9c2d-6b7a8e9f0a1b")


class LoginRefused(KamError):
    """A refused password grant. The endpoint answers it rather than raising it through the session
    scope, so the failure it counted is committed, not rolled back."""

    headers: dict[str, str] = {}  # noqa: RUF012


class LoginFailed(LoginRefused, Unauthorized):
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012


class LoginThrottled(LoginRefused):
    status, code, reason = 429, "TOO_MANY_REQUESTS", "Too many failed logins"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s", details={"retryAfter": retry_after})
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True)
class LoginLimits:
    max_failures_per_user: int = 10
    max_failures_per_address: int = 50
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            max_failures_per_user=settings.login_max_failures_per_user,
            max_failures_per_address=settings.login_max_failures_per_address,
            window=timedelta(seconds=settings.login_failure_window_seconds),
            lockout=timedelta(seconds=settings.login_lockout_seconds),
        )

    def max_for(self, kind: str) -> int:
        return self.max_failures_per_user if kind == "user" else self.max_failures_per_address


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


def _level(requested: str | None) -> ScopeLevel:
    """The data-scope level a token asks for: the whole node subtree (default), the user's team's
    portfolio, or the user's own portfolio (F19)."""
    try:
        return ScopeLevel(requested or ScopeLevel.NODE)
    except ValueError:
        allowed = ", ".join(level.value for level in ScopeLevel)
        raise ValidationFailed(f"scope_level: {requested!r} is not one of {allowed}", field="scope_level") from None


async def _mint(
    session: AsyncSession,
    *,
    staff: Staff,
    topology: Topology,
    scope_node: str | None,
    scope_level: str | None = None,
) -> TokenResponse:
    """Resolve roles and permissions now, build the claims (docs/architecture.md) and sign them."""
    scope = _scope(topology, staff.owner_node, scope_node)
    level = _level(scope_level)
    roles = (await StaffRepository.from_session(session).roles_of([staff.id]))[staff.id]
    perms = await role_service.permissions_for_roles(session, roles=roles)
    if staff.must_change_password:  # a one-time password: the token may do nothing until it is changed
        perms = []
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
    if staff.must_change_password:
        claims["must_change_password"] = True  # the console sends the user to change it (kam_org.auth.bootstrap)
    if level is not ScopeLevel.NODE:  # node-level tokens keep the claims they always had
        claims["scope_level"] = level.value
        if level is ScopeLevel.TEAM:
            claims["portfolio"] = await PortfolioRepository.from_session(session).team_usernames(staff.id)
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
    client_address: str | None = None,
    limits: LoginLimits | None = None,
    scope_level: str | None = None,
) -> TokenResponse:
    """OAuth 2.0 password grant; a wrong password, an unknown or an inactive user look the same (401).
    Raises LoginThrottled (429) while the user name or the client address is locked out."""
    limits = limits or LoginLimits()
    throttle = LoginThrottleRepository.from_session(session)
    # keys fit the column whatever a client sends; a name that long matches no staff anyway
    keys = [("user", username[:256])] + ([("address", client_address[:256])] if client_address else [])
    locked = await throttle.locked_for(keys)
    if locked:
        raise LoginThrottled(max(1, math.ceil(max(locked.values()))))
    staff = await StaffRepository.from_session(session).get_by_username(node, username)
    ok = await verify_password(staff.password_hash if staff else None, password)
    if staff is None or not ok or not staff.is_active:
        for kind, key in keys:
            failures, now_locked = await throttle.record_failure(
                kind, key, max_failures=limits.max_for(kind), window=limits.window, lockout=limits.lockout
            )
            if now_locked:
                await _audit_lockout(
                    session,
                    node=node,
                    topology=topology,
                    username=username,
                    kind=kind,
                    key=key,
                    failures=failures,
                    limits=limits,
                    client_address=client_address,
                )
        raise LoginFailed(BAD_LOGIN)
    await throttle.clear(*keys[0])
    return await _mint(session, staff=staff, topology=topology, scope_node=scope_node, scope_level=scope_level)


async def _audit_lockout(
    session: AsyncSession,
    *,
    node: str,
    topology: Topology,
    username: str,
    kind: str,
    key: str,
    failures: int,
    limits: LoginLimits,
    client_address: str | None,
) -> None:
    who = Principal(
        username=username[:128], home_node=node, scope_node=node, roles=frozenset(), permissions=frozenset()
    )
    seconds = int(limits.lockout.total_seconds())
    await audit.record(
        session,
        caller=Caller(principal=who, node=node, topology=topology),
        entity_type="login_throttle",
        entity_id=uuid.uuid5(_THROTTLE_NAMESPACE, f"{kind}:{key}"),
        action="lockout",
        old={},
        new={"kind": kind, "key": key, "failures": failures, "lockout_seconds": seconds, "address": client_address},
        note=f"password logins locked for {kind} {key!r} for {seconds} s after {failures} failures",
    )


async def operator_token(
    session: AsyncSession,
    *,
    node: str,
    topology: Topology,
    username: str,
    scope_node: str | None = None,
    scope_level: str | None = None,
) -> TokenResponse:
    """A token for an existing active user without a password (the operator's `kam token`)."""
    staff = await StaffRepository.from_session(session).get_by_username(node, username)
    if staff is None or not staff.is_active:
        raise NotFound(f"no active user {username!r} at node {node!r}")
    return await _mint(session, staff=staff, topology=topology, scope_node=scope_node, scope_level=scope_level)
