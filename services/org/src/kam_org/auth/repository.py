"""SQL of the node's signing keys and of the login throttle (what a token carries is read by
kam_org.auth.claims)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, null, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import LoginThrottle, SigningKey


class SigningKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> SigningKeyRepository:
        return cls(session)

    async def active(self) -> SigningKey | None:
        stmt = select(SigningKey).where(SigningKey.is_active).order_by(SigningKey.created_at.desc()).limit(1)
        return (await self.session.scalars(stmt)).one_or_none()

    async def insert_if_none_active(self, *, kid: str, private_pem: str, public_jwk: dict[str, Any]) -> None:
        """The partial unique index on the active key makes a concurrent second insert a no-op."""
        await self.session.execute(
            insert(SigningKey)
            .values(kid=kid, private_pem=private_pem, public_jwk=public_jwk, is_active=True)
            .on_conflict_do_nothing()
        )

    async def public_jwks(self) -> list[dict[str, Any]]:
        return list(await self.session.scalars(select(SigningKey.public_jwk).order_by(SigningKey.created_at)))


class LoginThrottleRepository:
    """Failure counters per (kind, key); every change is one atomic statement, so parallel logins of
    one user (in any process) count exactly."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> LoginThrottleRepository:
        return cls(session)

    async def locked_for(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """The keys locked now → seconds until they unlock."""
        t = LoginThrottle.__table__
        remaining = func.extract("epoch", t.c.locked_until - func.clock_timestamp())
        rows = await self.session.execute(
            select(t.c.kind, t.c.key, remaining).where(
                tuple_(t.c.kind, t.c.key).in_(keys), t.c.locked_until > func.clock_timestamp()
            )
        )
        return {(kind, key): float(left) for kind, key, left in rows}

    async def record_failure(
        self, kind: str, key: str, *, max_failures: int, window: timedelta, lockout: timedelta
    ) -> tuple[int, bool]:
        """Count a failure (a new window once the last one or its lockout is over); returns the
        failures in the window and whether this failure locked the key."""
        t = LoginThrottle.__table__
        stale = or_(
            t.c.window_started_at < func.clock_timestamp() - window,
            and_(t.c.locked_until.is_not(None), t.c.locked_until <= func.clock_timestamp()),
        )
        failures = case((stale, 1), else_=t.c.failures + 1)
        stmt = (
            insert(LoginThrottle)
            .values(
                kind=kind,
                key=key,
                failures=1,
                window_started_at=func.clock_timestamp(),
                locked_until=func.clock_timestamp() + lockout if max_failures <= 1 else None,
            )
            .on_conflict_do_update(
                index_elements=[t.c.kind, t.c.key],
                set_={
                    "failures": failures,
                    "window_started_at": case((stale, func.clock_timestamp()), else_=t.c.window_started_at),
                    "locked_until": case((failures >= max_failures, func.clock_timestamp() + lockout), else_=null()),
                },
            )
            .returning(t.c.failures)
        )
        count = int((await self.session.execute(stmt)).scalar_one())
        return count, count == max_failures

    async def clear(self, kind: str, key: str) -> None:
        await self.session.execute(delete(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key))
