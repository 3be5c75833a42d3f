"""Knowledge items and contributions on the wire (full state, applied by version): items are a downward
dataset of the group and provinces (drafts stay home, except the province's take-up of a contribution,
which its contributor follows); contributions travel up to the reviewing province."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from google.protobuf.message import Message

from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.dataset import Dataset, UpwardRecords
from kam_platform.outbox import from_ts
from kam_service.models import SCHEMA, KnowledgeContribution, KnowledgeItem
from kam_service.ticket.events import SERVICE, _ts

from .states import ItemStatus


def search_text(title: str, summary: str, body: str, tags: list[str]) -> str:
    return "\n".join([title, " ".join(tags), summary, body]).lower()


def item_message(r: KnowledgeItem) -> service_pb2.KnowledgeItemChanged:
    return service_pb2.KnowledgeItemChanged(
        item=service_pb2.KnowledgeItemState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            kind=r.kind,
            title=r.title,
            summary=r.summary,
            body=r.body,
            tags=list(r.tags),
            status=r.status,
            revision=r.revision,
            author=r.author,
            reviewer=r.reviewer or "",
            reviewed_at=_ts(r.reviewed_at),
            published_at=_ts(r.published_at),
            retired_at=_ts(r.retired_at),
            source_contribution_id=str(r.source_contribution_id) if r.source_contribution_id else "",
            contributed_by_node=r.contributed_by_node or "",
            status_reason=r.status_reason or "",
            valid_from=r.valid_from.isoformat(),
            valid_to=r.valid_to.isoformat() if r.valid_to else "",
            created_at=_ts(r.created_at),
            updated_at=_ts(r.updated_at),
        )
    )


def item_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.KnowledgeItemChanged)
    s = msg.item
    now = datetime.now(UTC)
    tags = list(s.tags)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "kind": s.kind,
        "title": s.title,
        "summary": s.summary,
        "body": s.body,
        "tags": tags,
        "status": s.status,
        "revision": s.revision,
        "author": s.author,
        "reviewer": s.reviewer or None,
        "reviewed_at": from_ts(s.reviewed_at),
        "published_at": from_ts(s.published_at),
        "retired_at": from_ts(s.retired_at),
        "source_contribution_id": uuid.UUID(s.source_contribution_id) if s.source_contribution_id else None,
        "contributed_by_node": s.contributed_by_node or None,
        "status_reason": s.status_reason or None,
        "valid_from": date.fromisoformat(s.valid_from) if s.valid_from else now.date(),
        "valid_to": date.fromisoformat(s.valid_to) if s.valid_to else None,
        "search_text": search_text(s.title, s.summary, s.body, tags),
        "created_at": from_ts(s.created_at) or now,
        "updated_at": from_ts(s.updated_at) or now,
    }


def contribution_message(r: KnowledgeContribution) -> service_pb2.KnowledgeContributionChanged:
    return service_pb2.KnowledgeContributionChanged(
        contribution=service_pb2.KnowledgeContributionState(
            id=str(r.id),
            owner_node=r.owner_node,
            version=r.version,
            kind=r.kind,
            title=r.title,
            summary=r.summary,
            body=r.body,
            tags=list(r.tags),
            author=r.author,
            reviewing_node=r.reviewing_node,
            status=r.status,
            created_at=_ts(r.created_at),
            updated_at=_ts(r.updated_at),
        )
    )


def contribution_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.KnowledgeContributionChanged)
    s = msg.contribution
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "kind": s.kind,
        "title": s.title,
        "summary": s.summary,
        "body": s.body,
        "tags": list(s.tags),
        "author": s.author,
        "reviewing_node": s.reviewing_node,
        "status": s.status,
        "created_at": from_ts(s.created_at) or now,
        "updated_at": from_ts(s.updated_at) or now,
    }


def _publishable(r: KnowledgeItem) -> bool:
    # a draft stays home (replicas keep the last published revision) unless it answers a contribution,
    # whose contributor follows the review
    return r.status in (ItemStatus.PUBLISHED, ItemStatus.RETIRED) or r.source_contribution_id is not None


KNOWLEDGE: Dataset[KnowledgeItem] = Dataset(
    name="knowledge_item",
    service=SERVICE,
    schema=SCHEMA,
    model=KnowledgeItem,
    message=service_pb2.KnowledgeItemChanged,
    to_message=item_message,
    to_row=item_row,
    publishable=_publishable,
)

CONTRIBUTIONS: UpwardRecords[KnowledgeContribution] = UpwardRecords(
    name="knowledge_contribution",
    service=SERVICE,
    schema=SCHEMA,
    model=KnowledgeContribution,
    message=service_pb2.KnowledgeContributionChanged,
    to_message=contribution_message,
    to_row=contribution_row,
)
