"""Customer domain events (proto messages from kam_contracts) and the audit trail.

Every write appends an audit row and its AuditRecorded event, plus the state-transfer event of the
aggregate, in the caller's transaction.
"""

from __future__ import annotations

import functools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_customer.models import SCHEMA, Audit, Customer
from kam_platform.audit import jsonable
from kam_platform.observability import request_id_var
from kam_platform.outbox import add_event, ts

SERVICE = "customer"


@functools.lru_cache(maxsize=256)
def _ts(dt: datetime) -> Timestamp:
    # a bulk import stamps every row with the transaction time: convert it once, not twice a row
    # (the message constructor copies the Timestamp, so sharing the cached one is safe)
    return ts(dt)


def customer_state(c: Customer) -> customer_pb2.CustomerState:
    cp = c.credit_profile or {}
    limit = cp.get("creditLimit") or {}
    return customer_pb2.CustomerState(
        id=str(c.id),
        owner_node=c.owner_node,
        version=c.version,
        customer_code=c.customer_code,
        name=c.name,
        short_name=c.short_name or "",
        customer_type=c.customer_type,
        nature=c.nature or "",
        mgmt_level=c.mgmt_level,
        industry=c.industry,
        value_type=c.value_type or "",
        grade=c.grade,
        life_status=c.life_status,
        recog_status=c.recog_status,
        credit_code=c.credit_code or "",
        parent_customer_id=str(c.parent_customer_id or ""),
        account_manager=c.account_manager or "",
        account_manager_name=c.account_manager_name or "",
        address=c.address or "",
        description=c.description or "",
        status_reason=c.status_reason or "",
        enterprise_scale=c.enterprise_scale or "",
        organization_id=str(c.organization_id or ""),
        credit_profile=customer_pb2.CreditProfile(
            credit_level=str(cp.get("creditLevel") or ""),
            credit_score=int(cp.get("creditScore") or 0),
            credit_limit=customer_pb2.Money(unit=limit.get("unit", ""), value=str(limit.get("value", ""))),
        )
        if cp
        else None,
        created_at=_ts(c.created_at) if c.created_at else None,
        updated_at=_ts(c.updated_at) if c.updated_at else None,
    )


async def emit(
    session: AsyncSession,
    *,
    node: str,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    version: int,
    message: Message,
    actor: str,
) -> None:
    await add_event(
        session,
        schema=SCHEMA,
        node=node,
        service=SERVICE,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        version=version,
        message=message,
        actor=actor,
        defer=True,  # written in one statement with the transaction's other events, at commit
    )


async def audit(
    session: AsyncSession,
    *,
    node: str,
    entity_type: str,
    entity_id: uuid.UUID,
    action: str,
    actor: str,
    changes: dict[str, Any],
    note: str | None = None,
) -> Audit:
    # the time is set here, not by the column default, so that the event carries the stored value and
    # every replica holds the same `at` as the owner
    row = Audit(
        at=datetime.now(UTC),
        owner_node=node,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=actor,
        changes=jsonable(changes),
        request_id=request_id_var.get(),
        note=note,
    )
    session.add(row)
    await session.flush()
    await emit(
        session,
        node=node,
        aggregate_type="audit",
        aggregate_id=row.id,
        version=1,
        actor=actor,
        message=customer_pb2.AuditRecorded(
            id=str(row.id),
            owner_node=node,
            entity_type=entity_type,
            entity_id=str(entity_id),
            action=action,
            actor=actor,
            at=ts(row.at),
            changes_json=json.dumps(row.changes, ensure_ascii=False),
            request_id=row.request_id or "",
        ),
    )
    return row
