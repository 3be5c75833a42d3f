"""Catalogue items as a downward dataset (`kam_platform.dataset`): the wire form of a row and back.
Items in design stay at the authoring node; active and retired ones flow down its subtree (and up)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import sales_pb2
from kam_platform.dataset import Dataset
from kam_platform.federation import down_scope
from kam_platform.outbox import from_ts, ts
from kam_platform.settings import Settings
from kam_sales.models import SCHEMA, CatalogItem

SERVICE = "sales"


def item_message(r: CatalogItem) -> sales_pb2.CatalogItemChanged:
    return sales_pb2.CatalogItemChanged(
        item=sales_pb2.CatalogItemState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            kind=r.kind,
            name=r.name,
            description=r.description or "",
            lifecycle_status=r.lifecycle_status,
            valid_from=r.valid_from.isoformat(),
            valid_to=r.valid_to.isoformat() if r.valid_to else "",
            body_json=json.dumps(r.body, sort_keys=True, ensure_ascii=False),
            created_at=ts(r.created_at),
            updated_at=ts(r.updated_at),
        )
    )


def item_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, sales_pb2.CatalogItemChanged)
    s = msg.item
    updated = from_ts(s.updated_at) or datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "kind": s.kind,
        "name": s.name,
        "description": s.description or None,
        "lifecycle_status": s.lifecycle_status,
        "valid_from": date.fromisoformat(s.valid_from),
        "valid_to": date.fromisoformat(s.valid_to) if s.valid_to else None,
        "body": json.loads(s.body_json or "{}"),
        "created_at": from_ts(s.created_at) or updated,
        "updated_at": updated,
    }


class CatalogDataset(Dataset[CatalogItem]):
    """The platform dataset, with one more event at the root: its items also go to its own upward
    subject (``up.<root>.sales.catalog_item.…``, captured by its ``UP_<root>`` and sourced by no one),
    because that is the stream a node's TMF /hub listens to (`kam_platform.hub`); below the root the
    upward event exists anyway."""

    def _events(self, settings: Settings, row: CatalogItem) -> list[str | None]:
        if settings.this_node.parent is None:
            return [down_scope(settings.topology, settings.node), None]
        return super()._events(settings, row)


CATALOG: Dataset[CatalogItem] = CatalogDataset(
    name="catalog_item",
    service=SERVICE,
    schema=SCHEMA,
    model=CatalogItem,
    message=sales_pb2.CatalogItemChanged,
    to_message=item_message,
    to_row=item_row,
    # a draft (inDesign) is the author's work; once active it is published to the subtree
    publishable=lambda r: r.lifecycle_status != "inDesign",
)
