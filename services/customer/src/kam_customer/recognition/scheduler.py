"""The recognition schedule: a background task of the customer app that makes a node's due run as the
person who set the schedule. Its token comes from the identity service's `issue_token` hook (found
through the service specs, not by name): the run asks the rules service like any caller, and the
candidates it proposes name that person, so someone else decides them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_platform.auth import principal_from_claims
from kam_platform.service import find_hook
from kam_platform.settings import Settings
from kam_rules.client import RulesClient

from . import service
from .models import RecognitionSchedule

log = logging.getLogger("kam.customer.recognition")

CHECK_EVERY_SECONDS = 60.0
TokenFor = Callable[[Settings, str], Awaitable[str]]


async def operator_token(settings: Settings, username: str) -> str:
    issue = find_hook("issue_token")
    if issue is None:
        raise RuntimeError("no service provides the issue_token hook")
    token: str = await issue(settings.database_url, settings.node, username, settings.topology)
    return token


async def run_due(
    app: FastAPI,
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    token_for: TokenFor = operator_token,
    now: datetime | None = None,
) -> str | None:
    """Make this node's run if it is due; returns the run's result text, None when nothing was due.
    The schedule row is claimed under its lock (several processes may run the loop)."""
    settings: Settings = app.state.settings
    maker = sessionmaker or app.state.db.sessionmaker
    at = now or datetime.now(UTC)
    async with maker() as session, session.begin():
        sched = await session.scalar(
            select(RecognitionSchedule)
            .where(
                RecognitionSchedule.node == settings.node,
                RecognitionSchedule.is_enabled.is_(True),
                RecognitionSchedule.next_run_at <= at,
            )
            .with_for_update(skip_locked=True)
        )
        if sched is None:
            return None
        sched.next_run_at = at + timedelta(days=sched.interval_days)
        sched.last_run_at = at
        try:
            token = await token_for(settings, sched.run_as)
            principal = principal_from_claims(await app.state.verifier.verify(token), settings.topology)
            client = getattr(app.state, "rules_client", None)
            if not isinstance(client, RulesClient):
                client = RulesClient(settings.public_url or "http://127.0.0.1")
            async with session.begin_nested():
                run_id, rule, evaluated, made = await service.run(
                    session, settings=settings, principal=principal, client=client, token=token, on=at.date()
                )
            sched.last_run_id = run_id
            sched.last_result = f"evaluated {evaluated}, proposed {len(made)} by rule {rule.id} v{rule.version}"
        except Exception as exc:  # the schedule records why, and tries again at the next interval
            sched.last_run_id = None
            sched.last_result = f"failed: {type(exc).__name__}: {exc}"[:2000]
            log.warning("scheduled recognition run at %s: %s", settings.node, sched.last_result)
        return sched.last_result


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The recognition router's lifespan (merged into the app's: the database is up by then)."""
    stopping = asyncio.Event()

    async def loop() -> None:
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), CHECK_EVERY_SECONDS)
            if stopping.is_set():
                return
            try:
                await run_due(app)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database outage: try again at the next check
                log.warning("recognition schedule check failed: %s: %s", type(exc).__name__, exc)

    task = asyncio.create_task(loop(), name="recognition-schedule")
    try:
        yield
    finally:
        stopping.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
