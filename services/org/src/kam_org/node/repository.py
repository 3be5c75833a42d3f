"""SQL of the node tree: upsert from the topology, list, and walk it with recursive queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Node
from kam_platform.tmf import Filterable, ListQuery, apply_filters, apply_sort, fetch_page

NODE_FILTERS: dict[str, Filterable] = {
    "id": Filterable(Node.code),  # a node's id is its code
    "code": Filterable(Node.code),
    "tier": Filterable(Node.tier),
    "parent": Filterable(Node.parent),
    "nameZh": Filterable(Node.name_zh),
    "nameEn": Filterable(Node.name_en),
}


class NodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> NodeRepository:
        return cls(session)

    async def upsert(self, rows: list[dict[str, Any]]) -> None:
        """Make the table equal to `rows` (concurrent start-ups may run this at the same time)."""
        if rows:
            stmt = insert(Node).values(rows)
            stmt = stmt.on_conflict_do_update(
                index_elements=[Node.code],
                set_={c: stmt.excluded[c] for c in ("tier", "parent", "name_zh", "name_en")},
            )
            await self.session.execute(stmt)
        await self.session.execute(delete(Node).where(Node.code.not_in([r["code"] for r in rows])))

    async def get(self, code: str) -> Node | None:
        return await self.session.get(Node, code)

    async def page(self, lq: ListQuery) -> tuple[Sequence[Node], int]:
        stmt = apply_filters(select(Node), lq, NODE_FILTERS)
        if lq.q:
            like = f"%{lq.q}%"
            stmt = stmt.where(Node.code.ilike(like) | Node.name_zh.ilike(like) | Node.name_en.ilike(like))
        return await fetch_page(self.session, stmt, lq, NODE_FILTERS, Node.code)

    async def walk(self, code: str, direction: Literal["up", "down"], lq: ListQuery) -> tuple[Sequence[Node], int]:
        """Ancestors (parent first, root last) or the subtree (the node first, then by depth)."""
        if direction == "up":
            start = select(Node.parent.label("code"), literal(1).label("depth")).where(Node.code == code)
            tree = start.cte("tree", recursive=True)
            step = select(Node.parent, tree.c.depth + 1).join(tree, Node.code == tree.c.code)
        else:
            start = select(Node.code.label("code"), literal(0).label("depth")).where(Node.code == code)
            tree = start.cte("tree", recursive=True)
            step = select(Node.code, tree.c.depth + 1).join(tree, Node.parent == tree.c.code)
        tree = tree.union_all(step)
        stmt = select(Node).join(tree, Node.code == tree.c.code)
        stmt = apply_filters(stmt, lq, NODE_FILTERS)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        # without sort=, tree order: nearest first
        stmt = apply_sort(stmt, lq, NODE_FILTERS, Node.code) if lq.sort else stmt.order_by(tree.c.depth, Node.code)
        return (await self.session.scalars(stmt.offset(lq.offset).limit(lq.limit))).all(), int(total or 0)
