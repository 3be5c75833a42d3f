"""Designations (全国大客户名录) and their answers as platform datasets (`kam_platform.dataset`,
docs/datasets.md): the messages that carry a row's full state, the conversions both ways, and the two
`Dataset` declarations that give the customer service's replication their claims, versioned apply,
snapshot and restore copies.

- `DESIGNATIONS`: owned by the group, flows **down** to the whole federation (``down.all.customer…``),
  never up (``upward=False``).
- `RESPONSES`: owned by the answering node, flows **up** to its ancestors, never down.

Writes still go through the customer `ChangeLog.record_change` (version, event, audit in one call), with
the event and route the dataset declares (`change_of`). No ``validFor``: a designation is in force while
it is ACTIVE (its status, not a date, ends it); `Dataset.in_force_at` is not used for it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts import customer_pb2
from kam_customer.customer.events import SERVICE
from kam_customer.models import SCHEMA, Designation, DesignationResponse
from kam_platform.dataset import Dataset
from kam_platform.federation import down_scope
from kam_platform.outbox import from_ts, ts
from kam_platform.settings import Settings


def designation_state(d: Designation) -> customer_pb2.DesignationState:
    return customer_pb2.DesignationState(
        id=str(d.id),
        owner_node=d.owner_node,
        version=d.version,
        customer_id=str(d.customer_id),
        customer_code=d.customer_code,
        customer_name=d.customer_name,
        grade=d.grade,
        group_account_manager=d.group_account_manager or "",
        group_account_manager_name=d.group_account_manager_name or "",
        service_level=d.service_level or "",
        status=d.status,
        note=d.note or "",
        designated_by=d.designated_by,
        updated_at=ts(d.updated_at),
        customer_owner_node=d.customer_owner_node,
    )


def response_state(r: DesignationResponse) -> customer_pb2.DesignationResponseState:
    return customer_pb2.DesignationResponseState(
        id=str(r.id),
        owner_node=r.owner_node,
        version=r.version,
        designation_id=str(r.designation_id),
        status=r.status,
        reason=r.reason or "",
        account_manager=r.account_manager or "",
        account_manager_name=r.account_manager_name or "",
        responded_by=r.responded_by,
        updated_at=ts(r.updated_at),
    )


def designation_changed(d: Designation) -> customer_pb2.DesignationChanged:
    return customer_pb2.DesignationChanged(designation=designation_state(d))


def response_changed(r: DesignationResponse) -> customer_pb2.DesignationResponseChanged:
    return customer_pb2.DesignationResponseChanged(response=response_state(r))


def designation_row(msg: Message) -> dict[str, Any]:
    d = msg.designation if isinstance(msg, customer_pb2.DesignationChanged) else msg
    assert isinstance(d, customer_pb2.DesignationState)
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(d.id),
        "owner_node": d.owner_node,
        "version": d.version,
        "customer_id": uuid.UUID(d.customer_id),
        "customer_code": d.customer_code,
        "customer_name": d.customer_name,
        "customer_owner_node": d.customer_owner_node,
        "grade": d.grade,
        "group_account_manager": d.group_account_manager or None,
        "group_account_manager_name": d.group_account_manager_name or None,
        "service_level": d.service_level or None,
        "status": d.status,
        "note": d.note or None,
        "designated_by": d.designated_by,
        "created_at": from_ts(d.updated_at) or now,
        "updated_at": from_ts(d.updated_at) or now,
    }


def response_row(msg: Message) -> dict[str, Any]:
    r = msg.response if isinstance(msg, customer_pb2.DesignationResponseChanged) else msg
    assert isinstance(r, customer_pb2.DesignationResponseState)
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(r.id),
        "owner_node": r.owner_node,
        "version": r.version,
        "designation_id": uuid.UUID(r.designation_id),
        "status": r.status,
        "reason": r.reason or None,
        "account_manager": r.account_manager or None,
        "account_manager_name": r.account_manager_name or None,
        "responded_by": r.responded_by,
        "created_at": from_ts(r.updated_at) or now,
        "updated_at": from_ts(r.updated_at) or now,
    }


DESIGNATIONS: Dataset[Designation] = Dataset(
    name="designation",
    service=SERVICE,
    schema=SCHEMA,
    model=Designation,
    message=customer_pb2.DesignationChanged,
    to_message=designation_changed,
    to_row=designation_row,
    upward=False,  # the group's directive: down to the federation, nowhere up
)

RESPONSES: Dataset[DesignationResponse] = Dataset(
    name="designation_response",
    service=SERVICE,
    schema=SCHEMA,
    model=DesignationResponse,
    message=customer_pb2.DesignationResponseChanged,
    to_message=response_changed,
    to_row=response_row,
)


def change_of(dataset: Dataset[Any], settings: Settings) -> dict[str, Any]:
    """How a change of the dataset's record travels, for `ChangeLog.record_change`: its aggregate type,
    its event (the stored row's state) and its route — designations down from the group, responses up."""
    return {
        "aggregate_type": dataset.name,
        "event": dataset.to_message,
        "down_scope": None if dataset.upward else down_scope(settings.topology, settings.node),
    }
