"""Visits' rules: owned and written where planned; planned → done (recorded: participants, outcome,
minutes, follow-up tasks) or cancelled; follow-ups kept up to date after; and visit completion
(VISIT_DONE = done ÷ planned) by node — each child's subtree rolled up — or by account manager."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Forbidden, InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_sales.changes import CHANGES
from kam_sales.models import Visit
from kam_sales.opportunity import service as opportunity_service

from .dataset import VISITS
from .repository import VisitRepository
from .schemas import TRANSITIONS, FollowUp, Participant, VisitCreate, VisitRecord, VisitUpdate

AGGREGATE = "visit"


def snapshot(r: Visit) -> dict[str, Any]:
    return {
        "customerId": r.customer_id,
        "opportunityId": r.opportunity_id,
        "subject": r.subject,
        "purpose": r.purpose,
        "location": r.location,
        "status": r.status,
        "plannedAt": r.planned_at,
        "visitedAt": r.visited_at,
        "participants": r.participants,
        "outcome": r.outcome,
        "minutes": r.minutes,
        "followUps": r.follow_ups,
        "accountManager": r.account_manager,
    }


def _participants(items: Sequence[Participant]) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json", by_alias=True, exclude_none=True) for p in items]


def _follow_ups(items: Sequence[FollowUp]) -> list[dict[str, Any]]:
    return [
        {"id": str(i + 1), **f.model_dump(mode="json", by_alias=True, exclude_none=True)} for i, f in enumerate(items)
    ]


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"{field}: {value!r} is not an id", field=field) from None


async def _opportunity(
    session: AsyncSession, settings: Settings, who: Principal, ref_id: str, customer_id: uuid.UUID
) -> uuid.UUID:
    oid = _uuid(ref_id, "opportunity.id")
    try:
        o = await opportunity_service.get_visible(session, settings=settings, principal=who, opportunity_id=oid)
    except NotFound:
        raise ValidationFailed(f"opportunity.id: no opportunity {oid} in your scope", field="opportunity.id") from None
    if o.customer_id != customer_id:
        raise ValidationFailed(
            f"opportunity.id: opportunity {oid} is with customer {o.customer_id}, not {customer_id}",
            field="opportunity.id",
        )
    return oid


async def _record(
    session: AsyncSession, r: Visit, who: Principal, action: str, changes: dict[str, Any], now: datetime
) -> None:
    await CHANGES.record_change(
        session,
        r,
        aggregate_type=AGGREGATE,
        event=VISITS.to_message,
        actor=who.username,
        action=action,
        changes=changes,
        created=action == "create",
        at=now,
    )


async def create(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: VisitCreate, now: datetime
) -> Visit:
    customer_id = _uuid(data.customer.id, "customer.id")
    r = Visit(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        customer_id=customer_id,
        opportunity_id=(
            await _opportunity(session, settings, principal, data.opportunity.id, customer_id)
            if data.opportunity
            else None
        ),
        subject=data.subject,
        purpose=data.purpose,
        location=data.location,
        status="planned",
        planned_at=data.planned_at,
        participants=_participants(data.participants),
        follow_ups=[],
        account_manager=data.account_manager or principal.username,
        created_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    session.add(r)
    await _record(session, r, principal, "create", diff({}, snapshot(r)), now)
    return r


async def get_visible(session: AsyncSession, *, settings: Settings, principal: Principal, visit_id: uuid.UUID) -> Visit:
    r = await VisitRepository.from_session(session).get_visible(visit_id, principal, settings.topology)
    if r is None:
        raise NotFound(f"visit {visit_id} not found")
    return r


async def list_visits(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[Visit], int]:
    return await VisitRepository.from_session(session).page(principal, settings.topology, lq)


async def _locked_own(session: AsyncSession, settings: Settings, who: Principal, visit_id: uuid.UUID) -> Visit:
    await get_visible(session, settings=settings, principal=who, visit_id=visit_id)
    r = await VisitRepository.from_session(session).get_for_update(visit_id)
    if r is None:
        raise NotFound(f"visit {visit_id} not found")
    if r.owner_node != settings.node:
        raise NotOwner("visit", str(r.id), r.owner_node)
    return r


def _refuse(r: Visit, to: str, why: str = "") -> InvalidTransition:
    allowed = TRANSITIONS[r.status]
    return InvalidTransition(
        f"visit {r.id} is {r.status}{why}; it may move to {', '.join(allowed) if allowed else 'nothing'}",
        details={"from": r.status, "to": to, "allowed": list(allowed)},
    )


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    visit_id: uuid.UUID,
    patch: VisitUpdate,
    present: set[str],
    now: datetime,
) -> Visit:
    r = await _locked_own(session, settings, principal, visit_id)
    for key, attr in (("subject", "subject"), ("plannedAt", "planned_at"), ("status", "status")):
        if key in present and getattr(patch, attr) is None:
            raise ValidationFailed(f"{key} cannot be removed (null)", field=key)
    plan = present - {"status", "followUps"}
    if plan and r.status != "planned":
        raise _refuse(r, r.status, " (the plan of a visit no longer planned is fixed)")
    before = snapshot(r)
    if patch.subject is not None:
        r.subject = patch.subject
    if "purpose" in present:
        r.purpose = patch.purpose
    if "location" in present:
        r.location = patch.location
    if patch.planned_at is not None:
        r.planned_at = patch.planned_at
    if patch.participants is not None:
        r.participants = _participants(patch.participants)
    if "followUps" in present:
        r.follow_ups = _follow_ups(patch.follow_ups or [])
    action = "update"
    if patch.status is not None and patch.status.value != r.status:
        if patch.status.value == "done":
            raise _refuse(r, "done", " (a visit is done by recording it: POST …/record)")
        if patch.status.value not in TRANSITIONS[r.status]:
            raise _refuse(r, patch.status.value)
        r.status = action = patch.status.value
    changes = diff(before, snapshot(r))
    if changes:
        await _record(session, r, principal, action, changes, now)
    return r


async def record(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    visit_id: uuid.UUID,
    data: VisitRecord,
    now: datetime,
) -> Visit:
    """planned → done with what happened."""
    r = await _locked_own(session, settings, principal, visit_id)
    if r.status != "planned":
        raise _refuse(r, "done", " (only a planned visit is recorded)")
    visited = data.visited_at or now
    if visited > now:
        raise ValidationFailed("visitedAt: a visit is recorded once it took place", field="visitedAt")
    before = snapshot(r)
    r.status, r.visited_at, r.outcome, r.minutes = "done", visited, data.outcome.value, data.minutes
    r.participants, r.follow_ups = _participants(data.participants), _follow_ups(data.follow_ups)
    await _record(session, r, principal, "done", diff(before, snapshot(r)), now)
    return r


def _rollup_key(settings: Settings, node: str, owner: str) -> str | None:
    topo = settings.topology
    if owner == node:
        return node
    for child in topo.children(node):
        if topo.is_in_subtree(owner, child):
            return child
    return None


async def completion(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    node: str | None,
    start: date,
    end: date,
    by: str,
) -> tuple[str, list[dict[str, Any]]]:
    """VISIT_DONE per line: one for the node's own visits and one per child (its subtree rolled up), or
    one per account manager; in the caller's scope only."""
    topo = settings.topology
    target = node or principal.scope_node
    if target not in topo:
        raise ValidationFailed(f"node: unknown node {target!r}", field="node")
    if not topo.is_in_subtree(target, principal.scope_node):
        raise Forbidden(f"node {target} is outside your scope {principal.scope_node}")
    if end <= start:
        raise ValidationFailed("end: the period ends after it starts", field="end")
    rows = await VisitRepository.from_session(session).completion(
        principal, topo, start, end, by_manager=by == "accountManager"
    )
    lines: dict[str, dict[str, Any]] = {}
    if by == "node":
        lines = {n: {"key": n, "planned": 0, "done": 0} for n in [target, *topo.children(target)]}
    for r in rows:
        key = r["key"] if by == "accountManager" else _rollup_key(settings, target, r["key"])
        if key is None:
            continue
        line = lines.setdefault(key, {"key": key, "planned": 0, "done": 0})
        line["planned"] += r["planned"]
        line["done"] += r["done"]
    out = sorted(lines.values(), key=lambda x: str(x["key"]))
    for line in out:
        line["rate"] = (
            f"{(Decimal(line['done']) * 100 / Decimal(line['planned'])).quantize(Decimal('0.01'))}"
            if line["planned"]
            else None
        )
    return target, out
