"""A contact scheme on the wire (ContactSchemeChanged): owned by the node that keeps it, travelling up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.dataset import UpwardRecords
from kam_platform.outbox import from_ts
from kam_service.models import SCHEMA
from kam_service.models.care import ContactScheme
from kam_service.ticket.events import SERVICE, _ts

SCHEME = "contact_scheme"
ENTRY_KEYS = (
    ("level", "level"),
    ("customer_branch", "customerBranch"),
    ("customer_contact", "customerContact"),
    ("customer_phone", "customerPhone"),
    ("telecom_node", "telecomNode"),
    ("telecom_office", "telecomOffice"),
    ("telecom_contact", "telecomContact"),
    ("telecom_phone", "telecomPhone"),
)


def scheme_message(c: ContactScheme) -> service_pb2.ContactSchemeChanged:
    return service_pb2.ContactSchemeChanged(
        scheme=service_pb2.ContactSchemeState(
            id=str(c.id),
            owner_node=c.owner_node,
            version=c.version,
            customer_id=str(c.customer_id),
            customer_name=c.customer_name,
            account_manager=c.account_manager or "",
            hotlines=list(c.hotlines),
            entries=[
                service_pb2.ContactSchemeEntry(**{wire: e.get(key) or "" for wire, key in ENTRY_KEYS})
                for e in c.entries or []
            ],
            note=c.note or "",
            created_at=_ts(c.created_at),
            updated_at=_ts(c.updated_at),
        )
    )


def scheme_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.ContactSchemeChanged)
    s = msg.scheme
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "customer_id": uuid.UUID(s.customer_id),
        "customer_name": s.customer_name,
        "account_manager": s.account_manager or None,
        "hotlines": list(s.hotlines),
        "entries": [{key: getattr(e, wire) or None for wire, key in ENTRY_KEYS} for e in s.entries],
        "note": s.note,
        "created_at": from_ts(s.created_at) or now,
        "updated_at": from_ts(s.updated_at) or now,
    }


SCHEMES: UpwardRecords[ContactScheme] = UpwardRecords(
    name=SCHEME,
    service=SERVICE,
    schema=SCHEMA,
    model=ContactScheme,
    message=service_pb2.ContactSchemeChanged,
    to_message=scheme_message,
    to_row=scheme_row,
)
