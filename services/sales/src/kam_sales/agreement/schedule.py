"""The in-process schedule of the expiry-reminder job: every `every` seconds, at the app's clock. It has
no user identity to ask the rules service with, so it uses the documented default offsets; a run with
the rule in force is `POST /api/v1/sales/agreementReminder/run` (an operator's schedule calls it with a
service account's token). Either way each reminder is given once (the table's key)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_platform.settings import Settings
from kam_sales.clock import Clock

from . import service

log = logging.getLogger("kam.sales.reminders")


async def run_once(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock) -> int:
    async with sessionmaker() as session, session.begin():
        written = await service.remind_due(
            session, settings=settings, now=clock.now(), ask=None, actor="system:schedule"
        )
    if written:
        log.info("gave %d contract expiry reminder(s)", len(written))
    return len(written)


async def run_every(
    every: float, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> None:
    while True:
        try:
            await run_once(sessionmaker, settings, clock)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the next round retries; a reminder not given now is given then
            log.warning("expiry-reminder run failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(every)
