"""The in-process schedule of the expiry-reminder job: every `every` seconds, at the app's clock, as the
node's configured identity (`run_as`, default the node's seeded administrator). Its token comes from the
identity service's `issue_token` hook, found through the service specs (as customer/recognition's
schedule does), so the run asks the rules service for the reminder rule in force like any caller. Without
an identity (no hook, no such user, no rules address) it uses the documented default offsets and says so
(`rule: "default"`). Either way each reminder is given once (the table's key). The same run delivers the
opportunities' due follow-ups (`opportunity.service.notify_follow_ups`), once each."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_platform.service import find_hook
from kam_platform.settings import Settings
from kam_rules.client import RulesClient
from kam_sales.clock import Clock
from kam_sales.opportunity import service as opportunity_service
from kam_sales.probability import Asker

from . import service

log = logging.getLogger("kam.sales.reminders")
RUN_AS = "admin"
AskFor = Callable[[], Awaitable[Asker | None]]


def identity(settings: Settings, rules: RulesClient | None, run_as: str) -> AskFor:
    """How the schedule asks the rules service: a fresh token of `run_as` per run (None when it cannot)."""

    async def ask() -> Asker | None:
        client = rules or (RulesClient(settings.public_url) if settings.public_url else None)
        issue = find_hook("issue_token")
        if client is None or issue is None:
            return None
        try:
            token: str = await issue(settings.database_url, settings.node, run_as, settings.topology)
        except Exception as exc:  # no such user here: the defaults, said in each reminder's `rule`
            log.warning("no token for %s at %s (%s); using the default offsets", run_as, settings.node, exc)
            return None
        return Asker(client, token)

    return ask


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    ask_for: AskFor | None = None,
    *,
    run_as: str = RUN_AS,
) -> int:
    ask = await ask_for() if ask_for is not None else None
    now = clock.now()
    async with sessionmaker() as session, session.begin():
        actor = f"system:schedule:{run_as}"
        written = await service.remind_due(session, settings=settings, now=now, ask=ask, actor=actor)
        follow_ups = await opportunity_service.notify_follow_ups(session, node=settings.node, now=now)
    if written or follow_ups:
        log.info("gave %d contract expiry reminder(s), %d follow-up reminder(s)", len(written), follow_ups)
    return len(written)


async def run_every(
    every: float,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    ask_for: AskFor | None = None,
    *,
    run_as: str = RUN_AS,
) -> None:
    while True:
        try:
            await run_once(sessionmaker, settings, clock, ask_for, run_as=run_as)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the next round retries; a reminder not given now is given then
            log.warning("expiry-reminder run failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(every)
