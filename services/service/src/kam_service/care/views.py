"""Stored care plans and activities as their answers."""

from __future__ import annotations

from fastapi import Request

from kam_platform.tmf import href
from kam_service.models.care import CareActivity, CarePlan

from .schemas import CareActivityRead, CarePlanRead, Money, PartyRead, TargetRead
from .states import CareKind, CareStatus

PLANS = "/api/v1/service/care/plan"
ACTIVITIES = "/api/v1/service/care/activity"


def plan_read(request: Request, p: CarePlan) -> CarePlanRead:
    return CarePlanRead(
        id=str(p.id),
        href=href(request, f"{PLANS}/{p.id}"),
        kind=CareKind(p.kind),
        name=p.name,
        segment=p.segment or "",
        occasion=p.occasion or None,
        lead_days=p.lead_days,
        budget_per_target=Money(value=p.budget_per_target) if p.budget_per_target is not None else None,
        targets=[
            TargetRead(
                customer_id=t["customerId"],
                customer_name=t["customerName"],
                contact_id=t.get("contactId"),
                contact_name=t.get("contactName"),
                month_day=t.get("monthDay"),
            )
            for t in p.targets or []
        ],
        is_active=p.is_active,
        owner_node=p.owner_node,
        version=p.version,
        created_by=p.created_by,
        last_update=p.updated_at,
    )


def activity_read(request: Request, a: CareActivity) -> CareActivityRead:
    parties = [PartyRead(id=str(a.customer_id), role="customer", name=a.customer_name)]
    if a.contact_id:
        parties.append(PartyRead(id=str(a.contact_id), role="contact", name=a.contact_name))
    return CareActivityRead(
        id=str(a.id),
        href=href(request, f"{ACTIVITIES}/{a.id}"),
        kind=CareKind(a.kind),
        title=a.title,
        plan_id=str(a.plan_id) if a.plan_id else None,
        related_party=parties,
        due_on=a.due_on,
        status=CareStatus(a.status),
        cost=Money(value=a.cost) if a.cost is not None else None,
        feedback=a.feedback,
        satisfaction=a.satisfaction,
        owner_node=a.owner_node,
        version=a.version,
        created_by=a.created_by,
        creation_date=a.created_at,
        last_update=a.updated_at,
    )
