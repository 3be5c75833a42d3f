"""The SLA evaluator (升级): one scheduled pass at the owner node over the open tickets with something
due — a deadline passed (the breach is recorded) or an escalation step reached (handler before the
breach, team leader at it, then the department, as the rule's ladder says).

Each step fires exactly once: a row in ``escalation_fired`` (primary key ticket + step) is inserted in
the same transaction as the ticket's change, so a second evaluator, a retry after a crash or a restarted
node finds the step taken and does nothing. Tickets another evaluator holds are skipped (SKIP LOCKED).
Replicas are never evaluated (``owner_node`` = this node only; their ``next_due_at`` is NULL). The clock
is injected: tests move time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_platform.audit import diff
from kam_service.deps import ClockFn
from kam_service.models import TroubleTicket
from kam_service.ticket.events import AGGREGATE, CHANGES, ticket_message
from kam_service.ticket.repository import TicketRepository

from . import terms
from .repository import SlaRepository

log = logging.getLogger("kam.service.sla")
ACTOR = "system:sla-evaluator"


async def evaluate(session: AsyncSession, t: TroubleTicket, now: datetime) -> list[int]:
    """Record the breaches and fire the steps due at `now` for one locked ticket; the steps fired."""
    before = {
        "response_breached": t.response_breached,
        "resolve_breached": t.resolve_breached,
        "escalation_level": t.escalation_level,
    }
    if t.response_due_at and t.responded_at is None and now > t.response_due_at:
        t.response_breached = True
    if t.resolve_due_at and t.resolved_at is None and now > t.resolve_due_at:
        t.resolve_breached = True
    repo = SlaRepository.from_session(session)
    fired: list[int] = []
    steps = []
    for s in t.escalation or []:
        due = terms.parse(s["dueAt"])
        if s.get("firedAt") is None and due is not None and due <= now:
            if await repo.claim_step(
                ticket_id=t.id,
                step=s["step"],
                node=t.owner_node,
                notified=s["to"],
                handler=t.handler,
                due_at=due,
                at=now,
            ):
                fired.append(s["step"])
            s = {**s, "firedAt": now.isoformat()}
            t.escalation_level = max(t.escalation_level, int(s["step"]))
        steps.append(s)
    t.escalation = steps
    terms.refresh_next_due(t)
    after = {
        "response_breached": t.response_breached,
        "resolve_breached": t.resolve_breached,
        "escalation_level": t.escalation_level,
    }
    changes = diff(before, after)
    if changes or fired:
        notes = [f"step {s['step']}: notify {s['to']}" for s in steps if s["step"] in fired]
        await CHANGES.record_change(
            session,
            t,
            aggregate_type=AGGREGATE,
            event=ticket_message,
            actor=ACTOR,
            action="escalate" if fired else "breach",
            changes=changes,
            note="; ".join(notes) or None,
            at=now,
        )
    else:
        await session.flush()  # next_due_at moved on
    return fired


class Evaluator:
    """`run_once()` evaluates what is due now; `run()` repeats it every `interval` seconds."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        node: str,
        clock: ClockFn,
        interval: float = 30.0,
        batch: int = 200,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.node = node
        self.clock = clock
        self.interval = interval
        self.batch = batch
        self._stop = asyncio.Event()

    async def run_once(self) -> dict[str, list[int]]:
        """One pass (in batches until nothing is due); ticket id → steps fired in this pass."""
        out: dict[str, list[int]] = {}
        for _ in range(1000):  # bounded: each batch moves every ticket it took past `now`
            now = self.clock()
            async with self.sessionmaker() as session, session.begin():
                rows = await TicketRepository.from_session(session).due_for_update(self.node, now, limit=self.batch)
                for t in rows:
                    fired = await evaluate(session, t, now)
                    if fired:
                        out[str(t.id)] = fired
            if len(rows) < self.batch:
                break
        return out

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("SLA evaluator pass failed at %s; next pass in %.0fs", self.node, self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

    def stop(self) -> None:
        self._stop.set()
