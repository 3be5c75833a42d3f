"""All SQL of merges: the rows a merge locks and moves, the redirect of a victim, the merge records in
the caller's scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, cast, select, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.sql.elements import ColumnElement

from kam_customer.attached import AttachedRepository
from kam_customer.duplicates.models import DuplicateCandidate
from kam_customer.models import Customer
from kam_platform.tmf import Filterable, uuid_filter

from .models import CustomerMerge

MERGED = "MERGED"
# a survivor merged again into another: how many hops a redirect or a history follows
MAX_CHAIN = 10


FILTERABLE: dict[str, Filterable] = {
    "survivorId": Filterable(CustomerMerge.survivor_id, str, predicate=uuid_filter(CustomerMerge.survivor_id)),
    "status": Filterable(CustomerMerge.status),
    "ownerNode": Filterable(CustomerMerge.owner_node),
    "mergedBy": Filterable(CustomerMerge.merged_by),
    "createdAt": Filterable(CustomerMerge.created_at, datetime),
}


def _ids(ids: Sequence[uuid.UUID]) -> Any:
    return cast(list(ids), ARRAY(UUID(as_uuid=True)))


class MergeRepository(AttachedRepository):
    model = CustomerMerge
    filterable = FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        clause: ColumnElement[bool] = CustomerMerge.survivor_id.in_(
            select(Customer.id).where(Customer.account_manager.in_(managers))
        )
        return clause

    async def lock_customers(self, ids: Sequence[uuid.UUID], *, live: bool = True) -> list[Customer]:
        """The customers as committed, under their row locks, in id order (two merges of overlapping
        sets lock in the same order, so they cannot deadlock)."""
        stmt = select(Customer).where(Customer.id.in_(ids))
        if live:
            stmt = stmt.where(Customer.deleted_at.is_(None))
        stmt = stmt.order_by(Customer.id).with_for_update().execution_options(populate_existing=True)
        return list((await self.session.scalars(stmt)).all())

    async def lock_of_customers(
        self, model: Any, customer_ids: Sequence[uuid.UUID], *, live: bool = True
    ) -> Sequence[Any]:
        """The rows of `model` attached to the customers (``customer_id``), locked, in id order."""
        stmt = select(model).where(model.customer_id.in_(customer_ids))
        if live and hasattr(model, "deleted_at"):
            stmt = stmt.where(model.deleted_at.is_(None))
        stmt = stmt.order_by(model.id).with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(stmt)).all()

    async def lock_rows(self, model: Any, ids: Sequence[uuid.UUID]) -> Sequence[Any]:
        if not ids:
            return []
        stmt = (
            select(model)
            .where(model.id.in_(ids))
            .order_by(model.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).all()

    async def lock_children(
        self, parent_ids: Sequence[uuid.UUID], node: str, *, exclude: Sequence[uuid.UUID]
    ) -> Sequence[Customer]:
        """Live branches of the given customers that this node owns (and so may re-parent), but those in
        `exclude` (the merge's own customers, already locked and being changed)."""
        stmt = (
            select(Customer)
            .where(Customer.parent_customer_id.in_(parent_ids), Customer.owner_node == node)
            .where(Customer.id.not_in(exclude))
            .where(Customer.deleted_at.is_(None))
            .order_by(Customer.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).all()

    async def for_update(self, merge_id: uuid.UUID) -> CustomerMerge | None:
        stmt = (
            select(CustomerMerge)
            .where(CustomerMerge.id == merge_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def survivor_of(self, victim_id: uuid.UUID) -> uuid.UUID | None:
        """The customer a victim was merged into, following a survivor merged again (bounded)."""
        current, seen = victim_id, {victim_id}
        for _ in range(MAX_CHAIN):
            stmt = select(CustomerMerge.survivor_id).where(
                CustomerMerge.status == MERGED, CustomerMerge.victim_ids.contains(_ids([current]))
            )
            nxt = (await self.session.scalars(stmt.order_by(CustomerMerge.created_at.desc()).limit(1))).first()
            if nxt is None or nxt in seen:
                break
            current = nxt
            seen.add(nxt)
        return current if current != victim_id else None

    async def merged_into(self, survivor_id: uuid.UUID) -> list[uuid.UUID]:
        """Every customer merged (directly or through a merged victim) into `survivor_id`."""
        out: list[uuid.UUID] = []
        frontier = [survivor_id]
        for _ in range(MAX_CHAIN):
            stmt = select(CustomerMerge.victim_ids).where(
                CustomerMerge.status == MERGED, CustomerMerge.survivor_id.in_(frontier)
            )
            found = [v for row in (await self.session.scalars(stmt)).all() for v in row if v not in out]
            if not found:
                break
            out.extend(found)
            frontier = found
        return out

    async def mark_pairs(self, ids: Sequence[uuid.UUID], status: str, *, reviewer: str, only: str) -> None:
        """The review queue's pairs among `ids` (status `only`) get `status`."""
        await self.session.execute(
            update(DuplicateCandidate)
            .where(
                and_(
                    DuplicateCandidate.customer_a.in_(ids),
                    DuplicateCandidate.customer_b.in_(ids),
                    DuplicateCandidate.status == only,
                )
            )
            .values(status=status, reviewed_by=reviewer)
        )
