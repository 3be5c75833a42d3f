"""All SQL of the knowledge base: what a node sees (its own items, its ancestors' and its subtree's
published ones), the bigram search with its ranking, revisions and contributions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, Text, any_, case, cast, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.auth import Principal, scope_nodes
from kam_platform.changes import lock
from kam_platform.errors import ValidationFailed
from kam_platform.tmf import (
    COUNT_BOUND,
    Filterable,
    ListQuery,
    Total,
    apply_filters,
    apply_sort,
    count,
    is_search,
)
from kam_platform.topology import Topology
from kam_service.models import SCHEMA, KnowledgeContribution, KnowledgeItem, KnowledgeRevision

from .states import ContributionStatus, ItemKind, ItemStatus


def _tags(op: str, values: list[Any]) -> ColumnElement[bool]:
    # tags=a,b: items carrying any of them
    return KnowledgeItem.tags.op("&&")(cast([str(v) for v in values], ARRAY(Text)))


FILTERABLE = {
    "kind": Filterable(KnowledgeItem.kind, ItemKind),
    "status": Filterable(KnowledgeItem.status, ItemStatus),
    "tags": Filterable(KnowledgeItem.tags, sortable=False, predicate=_tags),
    "ownerNode": Filterable(KnowledgeItem.owner_node),
    "revision": Filterable(KnowledgeItem.revision, int),
    "publishedAt": Filterable(KnowledgeItem.published_at, datetime),
    "lastUpdate": Filterable(KnowledgeItem.updated_at, datetime),
    "title": Filterable(KnowledgeItem.title),
}

CONTRIBUTION_FILTERABLE = {
    "kind": Filterable(KnowledgeContribution.kind, ItemKind),
    "status": Filterable(KnowledgeContribution.status, ContributionStatus),
    "ownerNode": Filterable(KnowledgeContribution.owner_node),
    "reviewingNode": Filterable(KnowledgeContribution.reviewing_node),
    "lastUpdate": Filterable(KnowledgeContribution.updated_at, datetime),
}


# A search ranks at most this many of its matches, the first the bigram index yields (all of them when
# there are fewer): a common term (专线 in half the items) costs a bounded scan, not a rank of every match.
# Its pages end with the window (an offset past it is a 422; `sort=` orders every match). docs/service.md,
# "Knowledge base".
RANK_WINDOW = 1000


def bigrams(term: str) -> list[str]:
    """The 2-character pieces of a term without whitespace, as ``service.text_bigrams`` cuts them."""
    return sorted({term[i : i + 2] for i in range(len(term) - 1) if not any(c.isspace() for c in term[i : i + 2])})


def terms_of(q: str) -> list[str]:
    return [t for t in dict.fromkeys(q.lower().split()) if t][:8]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class KnowledgeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> KnowledgeRepository:
        return cls(session)

    # --- items ---------------------------------------------------------------------------------

    def visible(self, principal: Principal, topology: Topology, node: str) -> Select[Any]:
        """This node's own items in every status; its ancestors' (in force here) and its subtree's
        (within the caller's scope) when published. Portfolio scopes read the knowledge base like the
        node (it belongs to no customer)."""
        above = [node, *topology.ancestors(node)]
        below = scope_nodes(principal, topology)
        return select(KnowledgeItem).where(
            KnowledgeItem.owner_node.in_(sorted({*above, *below})),
            or_(KnowledgeItem.owner_node == node, KnowledgeItem.status == ItemStatus.PUBLISHED.value),
        )

    def _search(self, stmt: Select[Any], terms: list[str]) -> tuple[Select[Any], ColumnElement[Any]]:
        """Every term is in the text (bigram index first, then the exact substring); ranked by a hit in
        the title (5), a tag (3) and the number of occurrences in the text (at most 20 each)."""
        text_bigrams = getattr(func, SCHEMA).text_bigrams(KnowledgeItem.search_text)
        rank: ColumnElement[Any] = literal(0)
        for term in terms:
            grams = bigrams(term)
            if grams:
                stmt = stmt.where(text_bigrams.op("@>")(cast(grams, ARRAY(Text))))
            stmt = stmt.where(KnowledgeItem.search_text.like(_like(term)))
            occurrences = (
                func.char_length(KnowledgeItem.search_text)
                - func.char_length(func.replace(KnowledgeItem.search_text, term, ""))
            ) / len(term)
            rank = (
                rank
                + case((func.lower(KnowledgeItem.title).like(_like(term)), 5), else_=0)
                + case((literal(term) == any_(KnowledgeItem.tags), 3), else_=0)
                + func.least(cast(occurrences, Integer), 20)
            )
        return stmt, rank

    async def page(
        self, principal: Principal, topology: Topology, node: str, lq: ListQuery
    ) -> tuple[Sequence[tuple[KnowledgeItem, float | None]], Total]:
        """One page and the total: for a search (`q=`) the count stops at COUNT_BOUND (a lower bound past
        it, `kam_platform.tmf.count`) and, unless `sort=` asks for an order of every match, the page is
        ranked within the RANK_WINDOW first matches (the same window for every page of it)."""
        stmt = apply_filters(self.visible(principal, topology, node), lq, FILTERABLE)
        terms = terms_of(lq.q or "")
        if not terms:
            total = await count(self.session, stmt)
            plain = apply_sort(stmt, lq, FILTERABLE, KnowledgeItem.id)
            items = (await self.session.scalars(plain.offset(lq.offset).limit(lq.limit))).all()
            return [(i, None) for i in items], total
        stmt, rank = self._search(stmt, terms)
        total = await count(self.session, stmt, bound=COUNT_BOUND if is_search(lq) else None)
        if lq.sort:
            ranked = apply_sort(stmt.add_columns(rank.label("rank")), lq, FILTERABLE, KnowledgeItem.id)
        else:
            # the window is cut in the order the index yields rows, by one process (a parallel scan would
            # hand a different first RANK_WINDOW to each call, and pages would overlap)
            await self.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            if lq.offset >= RANK_WINDOW:
                raise ValidationFailed(
                    f"offset: a search ranks its first {RANK_WINDOW} matches; narrow it (more words, filters) "
                    "or sort it (sort=) to page further",
                    field="offset",
                )
            window = stmt.add_columns(rank.label("rank")).limit(RANK_WINDOW).subquery()
            item = aliased(KnowledgeItem, window)
            ranked = select(item, window.c.rank).order_by(window.c.rank.desc(), window.c.id)
        rows = (await self.session.execute(ranked.offset(lq.offset).limit(lq.limit))).all()
        return [(r[0], float(r[1])) for r in rows], total

    async def get_visible(
        self, item_id: uuid.UUID, principal: Principal, topology: Topology, node: str
    ) -> KnowledgeItem | None:
        stmt = self.visible(principal, topology, node).where(KnowledgeItem.id == item_id)
        row: KnowledgeItem | None = (await self.session.scalars(stmt)).one_or_none()
        return row

    async def lock(self, item_id: uuid.UUID) -> KnowledgeItem | None:
        return await lock(self.session, KnowledgeItem, item_id)

    async def add(self, row: Any) -> None:
        self.session.add(row)
        await self.session.flush()

    async def revisions(self, item_id: uuid.UUID) -> Sequence[KnowledgeRevision]:
        stmt = (
            select(KnowledgeRevision)
            .where(KnowledgeRevision.item_id == item_id)
            .order_by(KnowledgeRevision.revision.desc())
        )
        return (await self.session.scalars(stmt)).all()

    async def answer_to(self, contribution_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, KnowledgeItem]:
        """The reviewing node's item for each contribution (the newest, should there be several)."""
        if not contribution_ids:
            return {}
        stmt = (
            select(KnowledgeItem)
            .where(KnowledgeItem.source_contribution_id.in_(contribution_ids))
            .order_by(KnowledgeItem.created_at)
        )
        return {
            i.source_contribution_id: i for i in (await self.session.scalars(stmt)).all() if i.source_contribution_id
        }

    # --- contributions -------------------------------------------------------------------------

    def contributions(self, principal: Principal, topology: Topology) -> Select[Any]:
        return select(KnowledgeContribution).where(
            KnowledgeContribution.owner_node.in_(scope_nodes(principal, topology))
        )

    async def contribution_page(
        self, principal: Principal, topology: Topology, lq: ListQuery
    ) -> tuple[Sequence[KnowledgeContribution], int]:
        stmt = apply_filters(self.contributions(principal, topology), lq, CONTRIBUTION_FILTERABLE)
        total = await self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        stmt = apply_sort(stmt, lq, CONTRIBUTION_FILTERABLE, KnowledgeContribution.id)
        rows = (await self.session.scalars(stmt.offset(lq.offset).limit(lq.limit))).all()
        return rows, int(total or 0)

    async def contribution(
        self, contribution_id: uuid.UUID, principal: Principal, topology: Topology
    ) -> KnowledgeContribution | None:
        stmt = self.contributions(principal, topology).where(KnowledgeContribution.id == contribution_id)
        row: KnowledgeContribution | None = (await self.session.scalars(stmt)).one_or_none()
        return row

    async def lock_contribution(self, contribution_id: uuid.UUID) -> KnowledgeContribution | None:
        return await lock(self.session, KnowledgeContribution, contribution_id)
