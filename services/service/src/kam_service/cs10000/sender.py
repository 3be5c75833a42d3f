"""The sender: delivers the durable outbound queue to the 10000 system at least once — due messages
locked (`SKIP LOCKED`: several senders never send one message at once), sent concurrently, the outcome
stored in the same transaction; a failure is retried with exponential back-off and jitter, a refusal
(NACK) is kept for the reconciliation. It also runs the daily reconciliation of the day before, once.
The clock is injectable and `run_once()` is one pass (tests drive it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_service.models.cs10000 import CsOutbound, CsReconciliation

from . import service
from .config import Cs10000Settings
from .repository import OutboundRepository
from .transport import Outcome, Transport, envelope

log = logging.getLogger("kam.service.cs10000")

ClockFn = Callable[[], datetime]


@dataclass
class Pass:
    acked: int = 0
    nacked: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.acked + self.nacked + self.retried


class Sender:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        node: str,
        config: Cs10000Settings,
        transport: Transport | None,
        clock: ClockFn,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.node = node
        self.config = config
        self.transport = transport
        self.clock = clock
        self.jitter = jitter
        self._stop = asyncio.Event()

    def backoff(self, attempts: int) -> timedelta:
        """Doubling from `backoff_seconds`, capped, with jitter (half to the full delay): a crowd of
        messages failing together does not come back together."""
        delay = min(self.config.backoff_max_seconds, self.config.backoff_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=delay * (0.5 + 0.5 * self.jitter()))

    async def run_once(self) -> Pass:
        result = Pass()
        if self.transport is None:
            return result
        transport = self.transport
        now = self.clock()
        async with self.sessionmaker() as session, session.begin():
            rows = await OutboundRepository.from_session(session).due(now, self.config.batch)
            if not rows:
                return result
            gate = asyncio.Semaphore(self.config.concurrency)

            async def one(row: CsOutbound) -> Outcome:
                async with gate:
                    return await transport.send(envelope(row, node=self.node, now=self.clock()))

            outcomes = await asyncio.gather(*(one(r) for r in rows))
            for row, outcome in zip(rows, outcomes, strict=True):
                self._record(row, outcome, now, result)
        return result

    def _record(self, row: CsOutbound, outcome: Outcome, now: datetime, result: Pass) -> None:
        row.attempts += 1
        row.first_sent_at = row.first_sent_at or now
        if outcome.kind == "ack":
            row.status, row.acked_at, row.ack_code, row.last_error = "ACKED", self.clock(), outcome.code, None
            result.acked += 1
        elif outcome.kind == "nack":
            row.status, row.ack_code = "NACKED", outcome.code
            row.last_error = f"{outcome.code}: {outcome.detail}"
            result.nacked += 1
            log.warning("10000 refused %s (%s): %s", row.idempotency_key, outcome.code, outcome.detail)
        else:
            row.next_attempt_at = now + self.backoff(row.attempts)
            row.last_error = f"{outcome.code}: {outcome.detail}"
            result.retried += 1
            result.errors.append(outcome.code)

    async def reconcile_due(self) -> CsReconciliation | None:
        """The reconciliation of the business day before today, when it has not run yet."""
        now = self.clock()
        day = service.business_day(now, self.config.time_zone) - timedelta(days=1)
        async with self.sessionmaker() as session, session.begin():
            if await OutboundRepository.from_session(session).report(day) is not None:
                return None
            return await self.reconcile(session, day=day)

    async def reconcile(self, session: AsyncSession, *, day: date) -> CsReconciliation:
        """The day's report, asking the 10000 system which of the day's keys it holds (when it cannot
        say, the report lists only what KAM knows)."""
        received: set[str] | None = None
        if self.transport is not None:
            start, end = service.day_bounds(day, self.config.time_zone)
            keys = [r.idempotency_key for r in await OutboundRepository.from_session(session).of_period(start, end)]
            try:
                received = await self.transport.received(keys) if keys else set()
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                log.warning("the 10000 system could not say what it received on %s: %s", day, exc)
        return await service.reconcile(session, day=day, tz=self.config.time_zone, now=self.clock(), received=received)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        last_reconcile: datetime | None = None
        while not self._stop.is_set():
            try:
                result = await self.run_once()
                now = self.clock()
                if last_reconcile is None or now - last_reconcile >= timedelta(
                    seconds=self.config.reconcile_every_seconds
                ):
                    last_reconcile = now
                    await self.reconcile_due()
            except Exception:  # a database hiccup must not end the sender; the next pass retries
                log.exception("10000 sender pass failed")
                result = Pass()
            if result.sent == 0 or result.retried == result.sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=self.config.poll_seconds)
