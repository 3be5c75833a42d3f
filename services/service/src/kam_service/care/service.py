"""Care rules (客户关怀): plans for a customer or a segment's customers and contacts, activities planned,
done (cost, feedback, satisfaction) or cancelled, and the daily proposal of due care: for each active
plan, every target whose occasion (the contact's birthday, the plan's yearly day, or its one date) falls
within the plan's lead days becomes a PROPOSED activity — once per target and occurrence."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.notify import Note
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_service.lookups import Lookups
from kam_service.models.care import CareActivity, CarePlan
from kam_service.notifications import NOTIFICATIONS
from kam_service.ticket.events import CHANGES

from .events import ACTIVITY, PLAN, activity_message, plan_message
from .repository import ActivityRepository, PlanRepository
from .schemas import CareActivityCreate, CareActivityUpdate, CarePlanCreate, CarePlanUpdate, TargetIn, _check_kind
from .states import TRANSITIONS, CareKind, CareStatus

JOB = "system:care"
PLAN_TRACKED = ("name", "segment", "occasion", "lead_days", "budget_per_target", "is_active", "targets")
ACTIVITY_TRACKED = ("title", "due_on", "status", "cost", "feedback", "satisfaction")


def _snap(row: Any, keys: Sequence[str]) -> dict[str, Any]:
    return {k: getattr(row, k) for k in keys}


def _id(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"{field}: not a valid id", field=field) from None


# --- plans ----------------------------------------------------------------------------------------


async def _targets(
    targets: Sequence[TargetIn], lookups: Lookups, token: str, *, birthdays: bool
) -> list[dict[str, Any]]:
    """Each target's customer as the caller sees it (name and account manager kept on the plan); for a
    birthday greeting, a target without monthDay takes its contact's birthday (birthDate) and name from
    the customer service."""
    facts: dict[uuid.UUID, Any] = {}
    out = []
    for i, t in enumerate(targets):
        cid = _id(t.customer_id, f"targets[{i}].customerId")
        if cid not in facts:
            facts[cid] = await lookups.customer(cid, token)
        month_day, contact_name = t.month_day, t.contact_name
        if t.contact_id is not None:
            contact_id = _id(t.contact_id, f"targets[{i}].contactId")
            if birthdays and month_day is None:
                contact = await lookups.contact(contact_id, token, field=f"targets[{i}].contactId")
                if contact.customer_id != cid:
                    raise ValidationFailed(
                        f"targets[{i}].contactId: contact {contact_id} is not a contact of customer {cid}",
                        field=f"targets[{i}].contactId",
                    )
                if contact.birth_date is None:
                    raise ValidationFailed(
                        f"targets[{i}].monthDay: contact {contact_id} has no birthDate; give monthDay (MM-DD)",
                        field=f"targets[{i}].monthDay",
                    )
                month_day = contact.birth_date.strftime("%m-%d")
                contact_name = contact_name or contact.name
        c = facts[cid]
        out.append(
            {
                "customerId": str(cid),
                "customerName": c.name,
                "contactId": t.contact_id,
                "contactName": contact_name,
                "monthDay": month_day,
                "accountManager": c.account_manager,
            }
        )
    return out


async def list_plans(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[CarePlan], int]:
    return await PlanRepository.from_session(session).page(principal, settings.topology, lq)


async def get_plan(session: AsyncSession, *, settings: Settings, principal: Principal, plan_id: uuid.UUID) -> CarePlan:
    p = await PlanRepository.from_session(session).get_visible(plan_id, principal, settings.topology)
    if p is None:
        raise NotFound(f"carePlan {plan_id} not found")
    return p


async def create_plan(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    data: CarePlanCreate,
    lookups: Lookups,
    token: str,
    now: datetime,
) -> CarePlan:
    p = CarePlan(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        kind=data.kind.value,
        name=data.name,
        segment=data.segment,
        occasion=data.occasion or "",
        lead_days=data.lead_days,
        budget_per_target=data.budget_per_target.value if data.budget_per_target else None,
        is_active=data.is_active,
        targets=await _targets(data.targets, lookups, token, birthdays=data.kind is CareKind.BIRTHDAY_GREETING),
        created_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    await PlanRepository.from_session(session).add(p)
    await CHANGES.record_change(
        session,
        p,
        aggregate_type=PLAN,
        event=plan_message,
        actor=principal.username,
        action="create",
        changes=diff({}, _snap(p, PLAN_TRACKED)),
        created=True,
        at=now,
    )
    return p


async def update_plan(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    plan_id: uuid.UUID,
    patch: CarePlanUpdate,
    present: set[str],
    lookups: Lookups,
    token: str,
    now: datetime,
) -> CarePlan:
    await get_plan(session, settings=settings, principal=principal, plan_id=plan_id)
    p = await PlanRepository.from_session(session).get_for_update(plan_id)
    if p is None:
        raise NotFound(f"carePlan {plan_id} not found")
    if p.owner_node != settings.node:
        raise NotOwner("carePlan", str(p.id), p.owner_node)
    for name in ("name", "leadDays", "targets", "isActive"):
        attr = {"leadDays": "lead_days", "isActive": "is_active"}.get(name, name)
        if name in present and getattr(patch, attr) is None:
            raise ValidationFailed(f"{name}: may not be null", field=name)
    before = _snap(p, PLAN_TRACKED)
    occasion = patch.occasion if "occasion" in present else (p.occasion or None)
    try:
        _check_kind(CareKind(p.kind), occasion, patch.targets)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=str(exc).split(":", 1)[0]) from None
    for attr in ("name", "segment", "lead_days", "is_active"):
        value = getattr(patch, attr)
        if value is not None:
            setattr(p, attr, value)
    if "occasion" in present:
        p.occasion = patch.occasion or ""
    if "budgetPerTarget" in present:
        p.budget_per_target = patch.budget_per_target.value if patch.budget_per_target else None
    if patch.targets is not None:
        p.targets = await _targets(patch.targets, lookups, token, birthdays=p.kind == CareKind.BIRTHDAY_GREETING.value)
    changes = diff(before, _snap(p, PLAN_TRACKED))
    if changes:
        await CHANGES.record_change(
            session, p, aggregate_type=PLAN, event=plan_message, actor=principal.username, action="update",
            changes=changes, at=now,
        )  # fmt: skip
    return p


# --- activities -----------------------------------------------------------------------------------


async def list_activities(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[CareActivity], int]:
    return await ActivityRepository.from_session(session).page(principal, settings.topology, lq)


async def get_activity(
    session: AsyncSession, *, settings: Settings, principal: Principal, activity_id: uuid.UUID
) -> CareActivity:
    a = await ActivityRepository.from_session(session).get_visible(activity_id, principal, settings.topology)
    if a is None:
        raise NotFound(f"careActivity {activity_id} not found")
    return a


async def create_activity(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    data: CareActivityCreate,
    lookups: Lookups,
    token: str,
    now: datetime,
) -> CareActivity:
    party = {p.role: p for p in data.related_party}
    customer = await lookups.customer(_id(party["customer"].id, "relatedParty"), token)
    contact = party.get("contact")
    a = CareActivity(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        kind=data.kind.value,
        title=data.title,
        plan_id=None,
        customer_id=customer.id,
        customer_name=customer.name,
        account_manager=customer.account_manager,
        contact_id=_id(contact.id, "relatedParty") if contact else None,
        contact_name=contact.name if contact else None,
        due_on=data.due_on,
        status=CareStatus.PLANNED.value,
        cost=data.cost.value if data.cost else None,
        created_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    await ActivityRepository.from_session(session).add(a)
    await CHANGES.record_change(
        session, a, aggregate_type=ACTIVITY, event=activity_message, actor=principal.username, action="create",
        changes=diff({}, _snap(a, ACTIVITY_TRACKED)), created=True, at=now,
    )  # fmt: skip
    return a


async def update_activity(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    activity_id: uuid.UUID,
    patch: CareActivityUpdate,
    present: set[str],
    now: datetime,
) -> CareActivity:
    await get_activity(session, settings=settings, principal=principal, activity_id=activity_id)
    a = await ActivityRepository.from_session(session).get_for_update(activity_id)
    if a is None:
        raise NotFound(f"careActivity {activity_id} not found")
    if a.owner_node != settings.node:
        raise NotOwner("careActivity", str(a.id), a.owner_node)
    for name in ("title", "dueOn", "status"):
        if name in present and getattr(patch, {"dueOn": "due_on"}.get(name, name)) is None:
            raise ValidationFailed(f"{name}: may not be null", field=name)
    current = CareStatus(a.status)
    if not TRANSITIONS[current] and present:
        raise InvalidTransition(f"careActivity {a.id} is {a.status}; it no longer changes")
    before = _snap(a, ACTIVITY_TRACKED)
    if patch.status is not None and patch.status is not current:
        if patch.status not in TRANSITIONS[current]:
            allowed = sorted(s.value for s in TRANSITIONS[current])
            raise InvalidTransition(
                f"careActivity {a.id} cannot go from {a.status} to {patch.status.value}; allowed: {', '.join(allowed)}",
                details={"allowed": allowed},
            )
        a.status = patch.status.value
    if patch.title is not None:
        a.title = patch.title
    if patch.due_on is not None:
        a.due_on = patch.due_on
    if "cost" in present:
        a.cost = patch.cost.value if patch.cost else None
    if "feedback" in present:
        a.feedback = patch.feedback
    if "satisfaction" in present:
        a.satisfaction = patch.satisfaction
    changes = diff(before, _snap(a, ACTIVITY_TRACKED))
    if changes:
        await CHANGES.record_change(
            session, a, aggregate_type=ACTIVITY, event=activity_message, actor=principal.username,
            action="status" if "status" in changes else "update", changes=changes, at=now,
        )  # fmt: skip
    return a


# --- the daily proposal ---------------------------------------------------------------------------


def _on_or_after(month_day: str, today: date) -> date:
    """The next day with this MM-DD, today included (29 February: the 28th in other years)."""
    month, day = (int(x) for x in month_day.split("-"))
    for year in (today.year, today.year + 1):
        last = calendar.monthrange(year, month)[1]
        d = date(year, month, min(day, last))
        if d >= today:
            return d
    raise AssertionError("unreachable")  # pragma: no cover


def occurrence(plan: CarePlan, target: dict[str, Any], today: date) -> date | None:
    """When the target's next occasion of this plan is (None: a one-off date already past)."""
    if plan.kind == CareKind.BIRTHDAY_GREETING.value:
        return _on_or_after(target["monthDay"], today) if target.get("monthDay") else None
    if len(plan.occasion) == 10:  # YYYY-MM-DD: once
        d = date.fromisoformat(plan.occasion)
        return d if d >= today else None
    return _on_or_after(plan.occasion, today) if plan.occasion else None


async def propose_due(session: AsyncSession, *, node: str, today: date, now: datetime) -> list[CareActivity]:
    """The daily job's pass at this node: PROPOSED activities for every occasion within lead days, made
    once per (plan, target, occurrence) even when several processes run it; each delivered to the
    customer's account manager's inbox in the same transaction."""
    plans_repo = PlanRepository.from_session(session)
    repo = ActivityRepository.from_session(session)
    await repo.lock_job(node)
    due: list[tuple[str, CarePlan, dict[str, Any], date]] = []
    for plan in await plans_repo.active_of(node):
        for t in plan.targets or []:
            when = occurrence(plan, t, today)
            if when is not None and when <= today + timedelta(days=plan.lead_days):
                key = f"{plan.id}:{t['customerId']}:{t.get('contactId') or ''}:{when.isoformat()}"
                due.append((key, plan, t, when))
    done = await repo.proposed_keys([k for k, *_ in due])
    made = []
    for key, plan, t, when in due:
        if key in done:
            continue
        done.add(key)
        who = t.get("contactName") or t["customerName"]
        a = CareActivity(
            id=uuid.uuid4(),
            owner_node=node,
            version=1,
            kind=plan.kind,
            title=f"{plan.name} · {who}",
            plan_id=plan.id,
            customer_id=uuid.UUID(t["customerId"]),
            customer_name=t["customerName"],
            account_manager=t.get("accountManager"),
            contact_id=uuid.UUID(t["contactId"]) if t.get("contactId") else None,
            contact_name=t.get("contactName"),
            due_on=when,
            status=CareStatus.PROPOSED.value,
            cost=plan.budget_per_target,
            proposal_key=key,
            created_by=JOB,
            created_at=now,
            updated_at=now,
        )
        await repo.add(a)
        await CHANGES.record_change(
            session, a, aggregate_type=ACTIVITY, event=activity_message, actor=JOB, action="propose",
            changes=diff({}, _snap(a, ACTIVITY_TRACKED)), note=f"care plan {plan.name}", created=True, at=now,
        )  # fmt: skip
        made.append(a)
    await NOTIFICATIONS.notify(session, [care_note(a) for a in made], node=node, at=now)
    return made


# who receives a proposal whose target names no account manager: the node's key-account managers
UNASSIGNED_CARE_ROLE = "ka_dept_manager"


def care_note(a: CareActivity) -> Note:
    """The notification of one proposed care activity, to the customer's account manager (key: the proposal's)."""
    return Note(
        key=f"care:{a.proposal_key}",
        kind="careProposal",
        title=f"客户关怀 · {a.title}",
        text=f"{a.customer_name}：{a.due_on.isoformat()} 的关怀待安排。 Care for {a.customer_name} due {a.due_on}.",
        subject_type="CareActivity",
        subject_id=a.id,
        user=a.account_manager,
        role=None if a.account_manager else UNASSIGNED_CARE_ROLE,
    )
