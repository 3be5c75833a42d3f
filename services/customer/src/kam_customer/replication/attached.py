"""The F1 record types (issue 14) in the customer service's apply: which events they are, what each
claims, and their versioned apply. `CustomerApplier` hands them every event type it does not know.

A customer's transfer takes its F1 records (needs profile, competitor presence, decision map) to the new
owner inside the `CustomerOwnershipTransferred` event, as its contacts travel: `transfer` re-owns them at
the old owner and answers their states; `transfer_claims` and `apply_transferred` take them at replicas
(and the lowest common ancestor relays the whole event down the new owner's branch)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_customer.attached import Kind
from kam_customer.competitor.events import COMPETITORS
from kam_customer.decision.events import RELATIONS
from kam_customer.merge.events import MERGES
from kam_customer.needs.events import NEEDS
from kam_customer.verification.events import VERIFICATIONS
from kam_platform.replication import Claim, Event, Refused, upsert_newest

KINDS: dict[str, Kind] = {k.event_type: k for k in (NEEDS, COMPETITORS, RELATIONS, VERIFICATIONS, MERGES)}
# the kinds a node also publishes down to its subtree (a province's verdicts on its local networks'
# customers): a child's resync gets them back with the reference data
DOWNWARD: tuple[Kind, ...] = (VERIFICATIONS,)

# the records owned with the customer that a transfer carries: the event's field, the kind. Merges stay
# with the node that merged (its act, reversible only there); verdicts are the province's records.
TRANSFERRED: dict[str, Kind] = {
    "needs_profiles": NEEDS,
    "competitor_presences": COMPETITORS,
    "contact_relations": RELATIONS,
}


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


def _state(kind: Kind, message: Message) -> Any:
    """The state sub-message of a kind's event (``NeedsProfileChanged.profile`` …)."""
    (field,) = message.DESCRIPTOR.fields
    return getattr(message, field.name)


async def transfer(session: AsyncSession, customer_id: uuid.UUID, to_node: str, now: datetime) -> dict[str, list[Any]]:
    """Re-own the customer's F1 records (deleted ones too: the new owner's snapshot must hold them) for
    its transfer to `to_node`, under their row locks; their states by the transfer event's field."""
    out: dict[str, list[Any]] = {}
    for field, kind in TRANSFERRED.items():
        model = kind.dataset.model
        stmt = (
            select(model)
            .where(model.customer_id == customer_id)
            .order_by(model.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        rows = (await session.scalars(stmt)).all()
        for row in rows:
            row.owner_node = to_node
            row.version += 1
            row.updated_at = now
        await session.flush()
        out[field] = [_state(kind, kind.dataset.to_message(row)) for row in rows]
    return out


def transfer_claims(t: customer_pb2.CustomerOwnershipTransferred) -> list[Claim]:
    """What a transfer's F1 records write: each owned by the new owner, handed over by the old one."""
    out = []
    for field, kind in TRANSFERRED.items():
        for s in getattr(t, field):
            if s.customer_id != t.customer.id or s.owner_node != t.to_node:
                raise Refused(
                    f"transfer of customer {t.customer.id} carries {kind.dataset.name} {s.id} of another owner"
                )
            out.append(Claim(kind.dataset.table.name, uuid.UUID(s.id), s.owner_node, s.version, True, t.from_node))
    return out


async def apply_transferred(session: AsyncSession, ev: Event, t: customer_pb2.CustomerOwnershipTransferred) -> None:
    """Upsert the transfer's F1 records where the stored version is older (newest wins)."""
    for field, kind in TRANSFERRED.items():
        (state_field,) = kind.dataset.message.DESCRIPTOR.fields
        rows = [(ev, kind.dataset.to_row(kind.dataset.message(**{state_field.name: s}))) for s in getattr(t, field)]
        if rows:
            await upsert_newest(session, kind.dataset.model, rows)
