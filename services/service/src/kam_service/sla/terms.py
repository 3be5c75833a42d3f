"""A ticket's SLA (服务时限): the terms fixed at acceptance from the effective SLA rule for the customer's
grade and the ticket type, the deadlines on the ticket's clock, the pause while waiting for the
customer, and what is due next for the evaluator.

The terms are copied onto the ticket when it is accepted (as Salesforce's entitlement process is): a rule
published later never moves the deadlines of a ticket already open, and an ancestor reading the replica
sees the terms the owner worked to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kam_service.models import TroubleTicket
from kam_service.ticket.states import RULE_TYPE, TicketType

from .workcal import ALWAYS, BUSINESS, ROUND_THE_CLOCK, Clock


def iso(value: datetime) -> str:
    return value.isoformat()


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def timer_for(parameters: dict[str, Any], grade: str, ticket_type: str) -> dict[str, Any] | None:
    """The rule's timer for this grade and ticket type (consultations and change requests use the
    rule's REQUEST timer); None when the rule has none."""
    by_type = parameters.get("timers", {}).get(grade) or {}
    timer = by_type.get(RULE_TYPE[TicketType(ticket_type)])
    return timer if isinstance(timer, dict) else None


def start(
    t: TroubleTicket, *, rule_id: Any, rule_version: int, parameters: dict[str, Any], clock_of: Any, now: datetime
) -> None:
    """Fix the terms and compute the deadlines and the escalation ladder from `now` (acceptance)."""
    timer = timer_for(parameters, t.customer_grade, t.ticket_type)
    if timer is None:
        return
    t.sla_rule_id = rule_id
    t.sla_rule_version = rule_version
    t.sla_calendar = str(timer.get("calendar") or ROUND_THE_CLOCK)
    t.response_minutes = int(timer["responseMinutes"])
    t.resolve_minutes = int(timer["resolveMinutes"])
    clock: Clock = clock_of(t.sla_calendar)
    t.response_due_at = clock.add(now, t.response_minutes)
    t.resolve_due_at = clock.add(now, t.resolve_minutes)
    t.escalation = [
        {
            "step": i,
            "afterMinutes": int(s["afterMinutes"]),
            "to": str(s["to"]),
            "dueAt": iso(clock.add(now, int(s["afterMinutes"]))),
            "firedAt": None,
        }
        for i, s in enumerate(parameters.get("escalation") or [], start=1)
    ]
    refresh_next_due(t)


def clock_for(calendar: str | None, business: Clock) -> Clock:
    return business if calendar == BUSINESS else ALWAYS


def pause(t: TroubleTicket, now: datetime) -> None:
    """Waiting for the customer: the clock stops (the evaluator skips the ticket)."""
    if t.paused_since is None:
        t.paused_since = now
    t.next_due_at = None


def resume(t: TroubleTicket, clock: Clock, now: datetime) -> None:
    """The customer answered: every deadline and unfired step moves by the SLA minutes the pause lasted
    (what was left at the pause is left now; one already passed stays passed)."""
    since = t.paused_since
    if since is None:
        return
    t.paused_since = None
    t.paused_minutes = (t.paused_minutes or 0) + clock.between(since, now)

    def moved(due: datetime | None) -> datetime | None:
        if due is None or due <= since:
            return due
        return clock.add(now, clock.between(since, due))

    if t.responded_at is None:
        t.response_due_at = moved(t.response_due_at)
    t.resolve_due_at = moved(t.resolve_due_at)
    steps = []
    for s in t.escalation or []:
        if s.get("firedAt") is None:
            s = {**s, "dueAt": iso(moved(parse(s["dueAt"])) or now)}
        steps.append(s)
    t.escalation = steps
    refresh_next_due(t)


def refresh_next_due(t: TroubleTicket) -> None:
    """The earliest instant the evaluator has something to do for this ticket (None: nothing)."""
    if t.paused_since is not None:
        t.next_due_at = None
        return
    candidates: list[datetime] = []
    resolving = t.resolved_at is None and t.status not in ("closed", "rejected", "cancelled")
    if t.response_due_at is not None and t.responded_at is None and not t.response_breached and resolving:
        candidates.append(t.response_due_at)
    if t.resolve_due_at is not None and resolving and not t.resolve_breached:
        candidates.append(t.resolve_due_at)
    if resolving:
        candidates.extend(d for s in t.escalation or [] if s.get("firedAt") is None if (d := parse(s["dueAt"])))
    t.next_due_at = min(candidates) if candidates else None


def responded(t: TroubleTicket, now: datetime) -> None:
    if t.responded_at is None:
        t.responded_at = now
        if t.response_due_at is not None and now > t.response_due_at:
            t.response_breached = True


def resolved(t: TroubleTicket, now: datetime) -> None:
    responded(t, now)
    t.resolved_at = now
    if t.resolve_due_at is not None and now > t.resolve_due_at:
        t.resolve_breached = True
