"""The SLA evaluator (升级): one scheduled pass at the owner node over the open tickets with something
due — a deadline passed (the breach is recorded) or an escalation step reached (handler before the
breach, team leader at it, then the department, as the rule's ladder says).

Each fired step is delivered to the inbox of whom it names (`escalation_notes`), in the same transaction.
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
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_platform.audit import diff
from kam_platform.changes import Change
from kam_platform.notify import Note
from kam_service.deps import ClockFn
from kam_service.models import TroubleTicket
from kam_service.notifications import NOTIFICATIONS
from kam_service.ticket.events import AGGREGATE, CHANGES, ticket_message
from kam_service.ticket.repository import TicketRepository

from . import terms
from .repository import SlaRepository

log = logging.getLogger("kam.service.sla")
ACTOR = "system:sla-evaluator"


def due_steps(t: TroubleTicket, now: datetime) -> list[dict[str, Any]]:
    """The `escalation_fired` rows of the ticket's unfired steps due at `now` (to be claimed)."""
    out = []
    for s in t.escalation or []:
        due = terms.parse(s["dueAt"])
        if s.get("firedAt") is None and due is not None and due <= now:
            out.append(
                {
                    "ticket_id": t.id,
                    "step": s["step"],
                    "owner_node": t.owner_node,
                    "notified": s["to"],
                    "handler": t.handler,
                    "due_at": due,
                    "fired_at": now,
                }
            )
    return out


def judge(t: TroubleTicket, now: datetime, claimed: set[tuple[uuid.UUID, int]]) -> tuple[list[int], Change | None]:
    """Flag the breaches and mark the steps due at `now` on one locked ticket, `claimed` being the
    (ticket, step) pairs whose `escalation_fired` rows were written now (`SlaRepository.claim_steps`): the
    steps fired and the change to record (None: only ``next_due_at`` moved on). A step already recorded
    (by another evaluator, before a restart) is marked on the ticket but not fired again."""
    before = {
        "response_breached": t.response_breached,
        "resolve_breached": t.resolve_breached,
        "escalation_level": t.escalation_level,
    }
    if t.response_due_at and t.responded_at is None and now > t.response_due_at:
        t.response_breached = True
    if t.resolve_due_at and t.resolved_at is None and now > t.resolve_due_at:
        t.resolve_breached = True
    fired: list[int] = []
    steps = []
    for s in t.escalation or []:
        due = terms.parse(s["dueAt"])
        if s.get("firedAt") is None and due is not None and due <= now:
            if (t.id, s["step"]) in claimed:
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
    if not (changes or fired):
        return fired, None
    notes = [f"step {s['step']}: notify {s['to']}" for s in steps if s["step"] in fired]
    return fired, Change(t, "escalate" if fired else "breach", changes, "; ".join(notes) or None)


HANDLER = "handler"


def escalation_notes(t: TroubleTicket, fired: Sequence[int]) -> list[Note]:
    """The notifications of the steps fired now: a step to ``handler`` goes to the ticket's handler (to
    the handler role at the node while nobody handles it); any other `to` (``team_leader``,
    ``ka_dept_manager``, ``province``…) names a role, addressed to its holders at the owner node."""
    out = []
    for s in t.escalation or []:
        if s["step"] not in fired:
            continue
        to = str(s["to"])
        user = t.handler if to == HANDLER and t.handler else None
        out.append(
            Note(
                key=f"ticket:{t.id}:escalation:{s['step']}",
                kind="slaEscalation",
                title=f"工单升级 · {t.name}",
                text=(
                    f"工单 {t.customer_name} · {t.name} 升级第 {s['step']} 级（{to}）。"
                    f" Ticket escalated, step {s['step']} ({to})."
                ),
                subject_type="TroubleTicket",
                subject_id=t.id,
                user=user,
                role=None if user else to,
            )
        )
    return out


async def evaluate(session: AsyncSession, t: TroubleTicket, now: datetime) -> list[int]:
    """Record the breaches and fire the steps due at `now` for one locked ticket; the steps fired."""
    claimed = await SlaRepository.from_session(session).claim_steps(due_steps(t, now))
    fired, change = judge(t, now, claimed)
    if change is not None:
        await CHANGES.record_changes(
            session, [change], aggregate_type=AGGREGATE, event=ticket_message, actor=ACTOR, at=now
        )
    await NOTIFICATIONS.notify(session, escalation_notes(t, fired), node=t.owner_node, at=now)
    return fired


async def evaluate_batch(session: AsyncSession, rows: Sequence[TroubleTicket], now: datetime) -> dict[str, list[int]]:
    """`evaluate` for a batch of locked tickets, set-based: their due steps claimed in one statement,
    their versions written in one flush and their events and audit records in another (instead of a
    claim per step and two flushes per ticket); ticket id → steps fired. Tickets whose only change is
    ``next_due_at`` are written with the transaction's commit."""
    claimed = await SlaRepository.from_session(session).claim_steps([s for t in rows for s in due_steps(t, now)])
    out: dict[str, list[int]] = {}
    changes: list[Change] = []
    notes: list[Note] = []
    for t in rows:
        fired, change = judge(t, now, claimed)
        if fired:
            out[str(t.id)] = fired
            notes.extend(escalation_notes(t, fired))
        if change is not None:
            changes.append(change)
    await CHANGES.record_changes(session, changes, aggregate_type=AGGREGATE, event=ticket_message, actor=ACTOR, at=now)
    if rows:
        await NOTIFICATIONS.notify(session, notes, node=rows[0].owner_node, at=now)
    return out


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
                out.update(await evaluate_batch(session, rows, now))
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
