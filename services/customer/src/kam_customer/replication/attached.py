"""The F1 record types (issue 14) in the customer service's apply: which events they are, what each
claims, and their versioned apply. `CustomerApplier` hands them every event type it does not know."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer.attached import Kind
from kam_customer.competitor.events import COMPETITORS
from kam_customer.decision.events import RELATIONS
from kam_customer.merge.events import MERGES
from kam_customer.needs.events import NEEDS
from kam_customer.verification.events import VERIFICATIONS
from kam_platform.replication import Claim, Event

KINDS: dict[str, Kind] = {k.event_type: k for k in (NEEDS, COMPETITORS, RELATIONS, VERIFICATIONS, MERGES)}


def claims(ev: Event) -> list[Claim] | None:
    kind = KINDS.get(ev.event_type)
    return kind.claims(ev) if kind is not None else None


async def apply(session: AsyncSession, events: Sequence[Event]) -> None:
    """Apply the events of the F1 record types (others are ignored); newest version per record wins."""
    by_kind: dict[str, list[Event]] = {}
    for ev in events:
        if ev.event_type in KINDS:
            by_kind.setdefault(ev.event_type, []).append(ev)
    for etype, evs in by_kind.items():
        await KINDS[etype].apply(session, evs)
