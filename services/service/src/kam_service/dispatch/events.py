"""The dispatch directive (TICKET_DISPATCH) on the wire: owned by the reporting node, published down its
subtree (and up, so its ancestors see where their subtree's faults went), applied by version."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.dataset import Dataset
from kam_platform.outbox import from_ts
from kam_service.models import SCHEMA, TicketDispatch
from kam_service.ticket.events import SERVICE, _ts

AGGREGATE = "ticket_dispatch"


def dispatch_message(d: TicketDispatch) -> service_pb2.TicketDispatchChanged:
    ticket = service_pb2.TroubleTicketState()
    ticket.ParseFromString(d.ticket)
    return service_pb2.TicketDispatchChanged(
        dispatch=service_pb2.TicketDispatchState(
            id=str(d.id),
            owner_node=d.owner_node,
            version=d.version,
            target_node=d.target_node,
            status=d.status,
            reason=d.reason or "",
            ticket=ticket,
            actor=d.actor,
            created_at=_ts(d.created_at),
            updated_at=_ts(d.updated_at),
        )
    )


def dispatch_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.TicketDispatchChanged)
    s = msg.dispatch
    now = datetime.now(UTC)
    created = from_ts(s.created_at) or now
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "ticket_id": uuid.UUID(s.ticket.id),
        "target_node": s.target_node,
        "status": s.status,
        "reason": s.reason or None,
        "ticket": s.ticket.SerializeToString(),
        "actor": s.actor,
        "valid_from": created.date(),
        "valid_to": None,
        "created_at": created,
        "updated_at": from_ts(s.updated_at) or now,
    }


DISPATCHES: Dataset[TicketDispatch] = Dataset(
    name=AGGREGATE,
    service=SERVICE,
    schema=SCHEMA,
    model=TicketDispatch,
    message=service_pb2.TicketDispatchChanged,
    to_message=dispatch_message,
    to_row=dispatch_row,
)


def handler_ticket_id(dispatch_id: uuid.UUID) -> uuid.UUID:
    """The handler's ticket of a directive: known to the reporter from the start, and the same however
    often the directive is applied."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"kam:service:dispatch:{dispatch_id}")
