"""Records that travel up only (what a node owns because it was created there: tickets, knowledge
contributions): the platform dataset's owner claim, versioned apply and snapshot, plus "never down"."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.dataset import Dataset
from kam_platform.replication import Claim, Event, Refused
from kam_platform.settings import Settings

R = TypeVar("R")


class UpwardRecords(Dataset[R]):
    def _events(self, settings: Settings, row: R) -> list[str | None]:
        return [None]

    def claims(self, ev: Event) -> list[Claim]:
        if not ev.subject.startswith("up."):
            raise Refused(f"{self.event_type} on {ev.subject}: {self.name} records flow up the tree only")
        return super().claims(ev)

    async def republish(self, session: AsyncSession, settings: Settings, *, down: bool = True) -> int:
        if down:  # a descendant's resync: nothing of this kind flows down
            return 0
        return await super().republish(session, settings, down=False)
