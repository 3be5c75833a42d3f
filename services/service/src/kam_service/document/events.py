"""A document's wire form (DocumentChanged: metadata with every file version) and its content's
(DocumentChunkAdded), both travelling up the tree like every record the node owns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.dataset import UpwardRecords
from kam_platform.outbox import build_event, channel, from_ts
from kam_platform.settings import Settings
from kam_service.models import SCHEMA
from kam_service.models.documents import Document, DocumentChunk
from kam_service.ticket.events import SERVICE, _iso_ts, _ts, _ts_iso

DOCUMENT = "document"
CHUNK = "document_chunk"
# a resync republishes content in small pages: a page of chunks is held in memory at once
CHUNK_PAGE = 32


def chunk_id(document_id: uuid.UUID, version_number: int, seq: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"kam:service:document:{document_id}:{version_number}:{seq}")


def document_message(d: Document) -> service_pb2.DocumentChanged:
    return service_pb2.DocumentChanged(
        document=service_pb2.DocumentState(
            id=str(d.id),
            owner_node=d.owner_node,
            version=d.version,
            title=d.title,
            category=d.category,
            description=d.description or "",
            customer_id=str(d.customer_id),
            customer_name=d.customer_name,
            account_manager=d.account_manager or "",
            related_type=d.related_type or "",
            related_id=d.related_id or "",
            access_roles=list(d.access_roles or []),
            expires_on=d.expires_on.isoformat() if d.expires_on else "",
            status="DELETED" if d.deleted_at else "ACTIVE",
            current_version=d.current_version,
            versions=[
                service_pb2.DocumentVersion(
                    number=v["number"],
                    file_name=v["fileName"],
                    content_type=v["contentType"],
                    size=v["size"],
                    sha256=v["sha256"],
                    chunks=v["chunks"],
                    uploaded_by=v["uploadedBy"],
                    uploaded_at=_iso_ts(v["uploadedAt"]),
                    note=v.get("note") or "",
                )
                for v in d.versions or []
            ],
            created_by=d.created_by,
            created_at=_ts(d.created_at),
            updated_at=_ts(d.updated_at),
        )
    )


def document_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.DocumentChanged)
    s = msg.document
    now = datetime.now(UTC)
    updated = from_ts(s.updated_at) or now
    return {
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "title": s.title,
        "category": s.category,
        "description": s.description,
        "customer_id": uuid.UUID(s.customer_id),
        "customer_name": s.customer_name,
        "account_manager": s.account_manager or None,
        "related_type": s.related_type or None,
        "related_id": s.related_id or None,
        "access_roles": list(s.access_roles),
        "expires_on": date.fromisoformat(s.expires_on) if s.expires_on else None,
        "current_version": s.current_version,
        "versions": [
            {
                "number": v.number,
                "fileName": v.file_name,
                "contentType": v.content_type,
                "size": v.size,
                "sha256": v.sha256,
                "chunks": v.chunks,
                "uploadedBy": v.uploaded_by,
                "uploadedAt": _ts_iso(v.uploaded_at),
                "note": v.note or None,
            }
            for v in s.versions
        ],
        "created_by": s.created_by,
        "created_at": from_ts(s.created_at) or now,
        "updated_at": updated,
        "deleted_at": updated if s.status == "DELETED" else None,
    }


def chunk_message(c: DocumentChunk) -> service_pb2.DocumentChunkAdded:
    return service_pb2.DocumentChunkAdded(
        id=str(c.id),
        owner_node=c.owner_node,
        document_id=str(c.document_id),
        version_number=c.version_number,
        seq=c.seq,
        data=c.data,
        sha256=c.sha256,
    )


def chunk_row(msg: Message) -> dict[str, Any]:
    assert isinstance(msg, service_pb2.DocumentChunkAdded)
    return {
        "id": uuid.UUID(msg.id),
        "owner_node": msg.owner_node,
        "version": 1,
        "document_id": uuid.UUID(msg.document_id),
        "version_number": msg.version_number,
        "seq": msg.seq,
        "size": len(msg.data),
        "sha256": msg.sha256,
        "data": msg.data,
    }


def _chunk_record(msg: Message) -> tuple[str, str, int]:
    assert isinstance(msg, service_pb2.DocumentChunkAdded)
    return msg.id, msg.owner_node, 1


class ChunkRecords(UpwardRecords[DocumentChunk]):
    """Content chunks: applied like any upward record (a chunk never changes: version 1), republished
    for an ancestor's resync a few at a time (a chunk is up to 128 KiB)."""

    async def republish(self, session: AsyncSession, settings: Settings, *, down: bool = True) -> int:
        if down:
            return 0
        last: uuid.UUID | None = None
        count = 0
        while True:
            # table rows, not ORM objects: nothing of the content stays in the session's identity map
            stmt = (
                select(DocumentChunk.__table__)
                .where(DocumentChunk.owner_node == settings.node)
                .order_by(DocumentChunk.id)
                .limit(CHUNK_PAGE)
            )
            if last is not None:
                stmt = stmt.where(DocumentChunk.id > last)
            rows: Sequence[Any] = (await session.execute(stmt)).all()
            if not rows:
                break
            last = rows[-1].id
            out = []
            for r in rows:
                event_id, subject, etype, payload = build_event(
                    node=settings.node,
                    service=SERVICE,
                    aggregate_type=CHUNK,
                    aggregate_id=str(r.id),
                    version=1,
                    message=service_pb2.DocumentChunkAdded(
                        id=str(r.id),
                        owner_node=r.owner_node,
                        document_id=str(r.document_id),
                        version_number=r.version_number,
                        seq=r.seq,
                        data=r.data,
                        sha256=r.sha256,
                    ),
                    actor="system:resync",
                    snapshot=True,
                )
                out.append({"id": event_id, "subject": subject, "etype": etype, "agg": str(r.id), "v": 1, "p": payload})
            await session.execute(
                text(
                    f'INSERT INTO "{SCHEMA}".outbox (id, subject, event_type, aggregate_id, version, payload) '
                    "VALUES (:id, :subject, :etype, :agg, :v, :p)"
                ),
                out,
            )
            count += len(out)
        if count:
            await session.execute(text("SELECT pg_notify(:ch, '')"), {"ch": channel(SCHEMA)})
        return count


DOCUMENTS: UpwardRecords[Document] = UpwardRecords(
    name=DOCUMENT,
    service=SERVICE,
    schema=SCHEMA,
    model=Document,
    message=service_pb2.DocumentChanged,
    to_message=document_message,
    to_row=document_row,
)

CHUNKS: ChunkRecords = ChunkRecords(
    name=CHUNK,
    service=SERVICE,
    schema=SCHEMA,
    model=DocumentChunk,
    message=service_pb2.DocumentChunkAdded,
    to_message=chunk_message,
    to_row=chunk_row,
    record_of=_chunk_record,
)
