"""All SQL of documents: the scoped page (node subtree, portfolio by the customer's account manager at
creation, and the document's access roles), and the content chunks (written and read one at a time)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, Text, and_, func, insert, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.auth import Principal
from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_platform.topology import Topology
from kam_service.models.documents import Document, DocumentChunk

from .states import Category, RelatedType

FILTERABLE = {
    "category": Filterable(Document.category, Category),
    "relatedParty.id": Filterable(Document.customer_id, sortable=False, predicate=uuid_filter(Document.customer_id)),
    "relatedEntity.type": Filterable(Document.related_type, RelatedType),
    "relatedEntity.id": Filterable(Document.related_id),
    "ownerNode": Filterable(Document.owner_node),
    "expiresOn": Filterable(Document.expires_on, date),
    "title": Filterable(Document.title),
    "lastUpdate": Filterable(Document.updated_at),
}


@dataclass(frozen=True)
class ContentState:
    chunks: int  # chunks held at this node
    size: int
    intact: bool  # every chunk matches its own digest


class DocumentRepository(ScopedRepository[Document]):
    model = Document
    filterable = FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return Document.account_manager.in_(managers)

    def search(self, stmt: Select[Any], term: str) -> Select[Any]:
        like = f"%{term.replace('%', '').replace('_', '')}%"
        return stmt.where(or_(Document.title.ilike(like), Document.customer_name.ilike(like)))

    def scope_clause(self, principal: Principal, topology: Topology) -> ColumnElement[bool]:
        """The data scope, and the document's own access list: none, or one of the caller's roles."""
        roles = sorted(principal.roles) or [""]
        by_role = or_(
            func.cardinality(Document.access_roles) == 0,
            Document.access_roles.overlap(literal(roles, ARRAY(Text))),
        )
        return and_(super().scope_clause(principal, topology), by_role)

    async def add(self, doc: Document) -> None:
        self.session.add(doc)
        await self.session.flush()

    async def add_chunk(self, row: dict[str, Any]) -> None:
        # a Core insert: the bytes do not stay in the session's identity map
        await self.session.execute(insert(DocumentChunk), [row])

    async def content_state(self, document_id: uuid.UUID, number: int) -> ContentState:
        digest_ok = func.encode(func.sha256(DocumentChunk.data), "hex") == DocumentChunk.sha256
        stmt = select(
            func.count(),
            func.coalesce(func.sum(DocumentChunk.size), 0),
            func.coalesce(func.bool_and(digest_ok), True),
        ).where(DocumentChunk.document_id == document_id, DocumentChunk.version_number == number)
        count, size, intact = (await self.session.execute(stmt)).one()
        return ContentState(chunks=int(count), size=int(size), intact=bool(intact))

    async def chunk(self, document_id: uuid.UUID, number: int, seq: int) -> bytes | None:
        stmt = select(DocumentChunk.data).where(
            DocumentChunk.document_id == document_id,
            DocumentChunk.version_number == number,
            DocumentChunk.seq == seq,
        )
        data: bytes | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return data
