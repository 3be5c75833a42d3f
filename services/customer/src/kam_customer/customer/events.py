"""Customer domain events (proto messages from kam_contracts) and the service's `ChangeLog`.

Every write goes through `record_change` (kam_platform.changes): the version bump, the state-transfer
event of the aggregate, the audit row and its AuditRecorded event, in the caller's transaction.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from kam_contracts import customer_pb2
from kam_customer.models import SCHEMA, Audit, Customer
from kam_platform.changes import ChangeLog, audit_changes_json
from kam_platform.outbox import ts

SERVICE = "customer"


@functools.lru_cache(maxsize=256)
def _ts(dt: datetime) -> Timestamp:
    # a bulk import stamps every row with the transaction time: convert it once, not twice a row
    # (the message constructor copies the Timestamp, so sharing the cached one is safe)
    return ts(dt)


def customer_state(
    c: Customer, into: RepeatedCompositeFieldContainer[customer_pb2.CustomerState] | None = None
) -> customer_pb2.CustomerState:
    """The customer's state message; with `into`, made in place as a new element of that repeated field
    (a batch event of an import: appending a finished message would copy it)."""
    cp = c.credit_profile or {}
    limit = cp.get("creditLimit") or {}
    return (customer_pb2.CustomerState if into is None else into.add)(
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
        tmf_attributes_json=tmf_json(getattr(c, "tmf_attributes", None)),
    )


def tmf_json(attributes: dict[str, Any] | None) -> str:
    """The standard TMF attributes kept as given, as the events carry them ("" for none)."""
    return json.dumps(attributes, ensure_ascii=False, sort_keys=True) if attributes else ""


def customer_changed(
    state: customer_pb2.CustomerState,
    *,
    created: bool,
    changes: Collection[str],
    status_from: str = "",
) -> Message:
    """The event of a customer's write, by what changed: created, status changed, or updated. Both
    write paths (the API, the import) choose it here."""
    if created:
        return customer_pb2.CustomerCreated(customer=state)
    if "status" in changes:
        return customer_pb2.CustomerStatusChanged(
            customer=state, from_status=status_from, to_status=state.life_status, reason=state.status_reason
        )
    return customer_pb2.CustomerUpdated(customer=state, changed_fields=sorted(changes))


def account_manager_assigned(
    *,
    assignment_id: uuid.UUID,
    owner_node: str,
    customer_id: uuid.UUID,
    account_manager: str | None,
    previous: str | None,
    assigned_by: str,
    valid_from: Timestamp,
    reason: str | None,
    into: RepeatedCompositeFieldContainer[customer_pb2.AccountManagerAssigned] | None = None,
) -> customer_pb2.AccountManagerAssigned:
    return (customer_pb2.AccountManagerAssigned if into is None else into.add)(
        id=str(assignment_id),
        owner_node=owner_node,
        customer_id=str(customer_id),
        account_manager=account_manager or "",
        previous_account_manager=previous or "",
        assigned_by=assigned_by,
        valid_from=valid_from,
        reason=reason or "",
    )


def audit_message(
    *,
    audit_id: uuid.UUID,
    owner_node: str,
    entity_type: str,
    entity_id: uuid.UUID,
    action: str,
    actor: str,
    at: Timestamp,
    changes_json: str,
    request_id: str | None,
) -> customer_pb2.AuditRecorded:
    return customer_pb2.AuditRecorded(
        id=str(audit_id),
        owner_node=owner_node,
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        actor=actor,
        at=at,
        changes_json=changes_json,
        request_id=request_id or "",
    )


def audit_recorded(row: Audit) -> customer_pb2.AuditRecorded:
    return audit_message(
        audit_id=row.id,
        owner_node=row.owner_node,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        action=row.action,
        actor=row.actor,
        at=ts(row.at),
        changes_json=audit_changes_json(row),
        request_id=row.request_id,
    )


# every write of the customer service goes through this: version, outbox event and audit in one call
CHANGES = ChangeLog(schema=SCHEMA, service=SERVICE, audit_model=Audit, audit_event=audit_recorded)
emit = CHANGES.emit
audit = CHANGES.audit
record_change = CHANGES.record_change
record_created = CHANGES.record_created
