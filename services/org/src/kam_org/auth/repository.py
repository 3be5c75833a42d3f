"""SQL of the node's signing keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import SigningKey


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
