"""The daily care job: once a day (by the injectable clock) propose the node's due care. Checked every
`interval` seconds; a pass is idempotent, so a restart or a second process proposes nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_service.deps import ClockFn

from . import service

log = logging.getLogger("kam.service.care")
# the day a greeting is due is the customer's day: China's (as the default business calendar)
ZONE = ZoneInfo("Asia/Shanghai")


def local_day(now: datetime) -> date:
    return now.astimezone(ZONE).date()


class CareJob:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, node: str, clock: ClockFn, interval: float = 3600.0
    ) -> None:
        self.sessionmaker, self.node, self.clock, self.interval = sessionmaker, node, clock, interval
        self.last_day: date | None = None
        self._stop = asyncio.Event()

    async def run_once(self) -> int:
        now = self.clock()
        async with self.sessionmaker() as session, session.begin():
            made = await service.propose_due(session, node=self.node, today=local_day(now), now=now)
        self.last_day = local_day(now)
        return len(made)

    async def run(self) -> None:
        while not self._stop.is_set():
            if self.last_day != local_day(self.clock()):
                try:
                    n = await self.run_once()
                    log.info("care: %d activities proposed at %s", n, self.node)
                except Exception:  # a failed pass is retried at the next tick
                    log.exception("care: the daily proposal failed at %s", self.node)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

    def stop(self) -> None:
        self._stop.set()
