"""Care plans and activities on the wire (CarePlanChanged, CareActivityChanged): records owned where they
were made, travelling up."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.dataset import UpwardRecords
from kam_platform.outbox import from_ts
from kam_service.models import SCHEMA
from kam_service.models.care import CareActivity, CarePlan
from kam_service.ticket.events import SERVICE, _ts

PLAN = "care_plan"
ACTIVITY = "care_activity"


def _money(v: Decimal | None) -> str:
    return "" if v is None else str(v)


def _decimal(v: str) -> Decimal | None:
    return Decimal(v) if v else None


def plan_message(p: CarePlan) -> service_pb2.CarePlanChanged:
    return service_pb2.CarePlanChanged(
        plan=service_pb2.CarePlanState(
            id=str(p.id),
            owner_node=p.owner_node,
            version=p.version,
            kind=p.kind,
            name=p.name,
            segment=p.segment or "",
            occasion=p.occasion or "",
            lead_days=p.lead_days,
            budget_per_target=_money(p.budget_per_target),
            is_active=p.is_active,
            targets=[
                service_pb2.CarePlanTarget(
                    customer_id=t["customerId"],
                    customer_name=t["customerName"],
                    contact_id=t.get("contactId") or "",
                    contact_name=t.get("contactName") or "",
                    month_day=t.get("monthDay") or "",
                    account_manager=t.get("accountManager") or "",
                )
                for t in p.targets or []
            ],
            created_by=p.created_by,
            created_at=_ts(p.created_at),
            updated_at=_ts(p.updated_at),
        )
    )


def plan_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.CarePlanChanged)
    s = msg.plan
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "kind": s.kind,
        "name": s.name,
        "segment": s.segment,
        "occasion": s.occasion,
        "lead_days": s.lead_days,
        "budget_per_target": _decimal(s.budget_per_target),
        "is_active": s.is_active,
        "targets": [
            {
                "customerId": t.customer_id,
                "customerName": t.customer_name,
                "contactId": t.contact_id or None,
                "contactName": t.contact_name or None,
                "monthDay": t.month_day or None,
                "accountManager": t.account_manager or None,
            }
            for t in s.targets
        ],
        "created_by": s.created_by,
        "created_at": from_ts(s.created_at) or now,
        "updated_at": from_ts(s.updated_at) or now,
    }


def activity_message(a: CareActivity) -> service_pb2.CareActivityChanged:
    return service_pb2.CareActivityChanged(
        activity=service_pb2.CareActivityState(
            id=str(a.id),
            owner_node=a.owner_node,
            version=a.version,
            kind=a.kind,
            title=a.title,
            plan_id=str(a.plan_id) if a.plan_id else "",
            customer_id=str(a.customer_id),
            customer_name=a.customer_name,
            contact_id=str(a.contact_id) if a.contact_id else "",
            contact_name=a.contact_name or "",
            due_on=a.due_on.isoformat(),
            status=a.status,
            cost=_money(a.cost),
            feedback=a.feedback or "",
            satisfaction=a.satisfaction or 0,
            created_by=a.created_by,
            created_at=_ts(a.created_at),
            updated_at=_ts(a.updated_at),
            account_manager=a.account_manager or "",
        )
    )


def activity_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.CareActivityChanged)
    s = msg.activity
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "kind": s.kind,
        "title": s.title,
        "plan_id": uuid.UUID(s.plan_id) if s.plan_id else None,
        "customer_id": uuid.UUID(s.customer_id),
        "customer_name": s.customer_name,
        "account_manager": s.account_manager or None,
        "contact_id": uuid.UUID(s.contact_id) if s.contact_id else None,
        "contact_name": s.contact_name or None,
        "due_on": date.fromisoformat(s.due_on),
        "status": s.status,
        "cost": _decimal(s.cost),
        "feedback": s.feedback or None,
        "satisfaction": s.satisfaction or None,
        # the owner's de-duplication key stays at the owner (its job is the only proposer)
        "proposal_key": None,
        "created_by": s.created_by,
        "created_at": from_ts(s.created_at) or now,
        "updated_at": from_ts(s.updated_at) or now,
    }


PLANS: UpwardRecords[CarePlan] = UpwardRecords(
    name=PLAN,
    service=SERVICE,
    schema=SCHEMA,
    model=CarePlan,
    message=service_pb2.CarePlanChanged,
    to_message=plan_message,
    to_row=plan_row,
)

ACTIVITIES: UpwardRecords[CareActivity] = UpwardRecords(
    name=ACTIVITY,
    service=SERVICE,
    schema=SCHEMA,
    model=CareActivity,
    message=service_pb2.CareActivityChanged,
    to_message=activity_message,
    to_row=activity_row,
)
