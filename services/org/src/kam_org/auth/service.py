"""Token issuing: the password grant and the operator token share one claim builder; the node's
Ed25519 signing key lives in the org schema and its public half is the JWKS.

The password grant is throttled per user name and per client address: after `max_failures` failures
within the window the key is locked out (429 with Retry-After, the password is not even checked) and
the lockout is audited; a successful login clears the user's failures (not the address's).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.api import Caller
from kam_org.audit import service as audit
from kam_org.auth import claims
from kam_org.auth.passwords import verify_password
from kam_org.auth.repository import LoginThrottleRepository, SigningKeyRepository
from kam_org.auth.schemas import TokenResponse
from kam_org.models import Staff
from kam_org.staff.repository import StaffRepository
from kam_platform.auth import (
    Principal,
)
from kam_platform.db.driver import driver_connection
from kam_platform.errors import KamError, Unauthorized
from kam_platform.settings import Settings
from kam_platform.topology import Topology

AUDIENCE = claims.AUDIENCE
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
    """Create the node's signing key when there is none (kam_org.auth.claims)."""
    await claims.ensure_signing_key(await driver_connection(session))


async def jwks(session: AsyncSession) -> dict[str, Any]:
    return {"keys": await SigningKeyRepository.from_session(session).public_jwks()}


async def _mint(
    session: AsyncSession,
    *,
    staff: Staff,
    topology: Topology,
    scope_node: str | None,
    scope_level: str | None = None,
) -> TokenResponse:
    """The token of `staff`, built by the one claim builder (kam_org.auth.claims) in this session."""
    issued = await claims.mint(
        await driver_connection(session),
        staff=claims.Subject.of(staff),
        topology=topology,
        scope_node=scope_node,
        scope_level=scope_level,
    )
    return TokenResponse(access_token=issued.token, scope_node=issued.scope_node)


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
    """A token for an existing active user without a password (the operator's `kam token` issues it
    on its own connection: kam_org.tokens)."""
    issued = await claims.operator_token(
        await driver_connection(session),
        node=node,
        topology=topology,
        username=username,
        scope_node=scope_node,
        scope_level=scope_level,
    )
    return TokenResponse(access_token=issued.token, scope_node=issued.scope_node)
