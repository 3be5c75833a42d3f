"""All SQL of recognition: the customers a run judges, their spend, candidates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer.models import Customer, Organization
from kam_platform.auth import Principal, scope_filter
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page, uuid_filter
from kam_platform.topology import Topology

from .models import MonthlySpend, RecognitionCandidate

FILTERABLE: dict[str, Filterable] = {
    "status": Filterable(RecognitionCandidate.status),
    "customerId": Filterable(
        RecognitionCandidate.customer_id, predicate=uuid_filter(RecognitionCandidate.customer_id), sortable=False
    ),
    "customerCode": Filterable(RecognitionCandidate.customer_code),
    "proposedGrade": Filterable(RecognitionCandidate.proposed_grade),
    "currentGrade": Filterable(RecognitionCandidate.current_grade),
    "runId": Filterable(
        RecognitionCandidate.run_id, predicate=uuid_filter(RecognitionCandidate.run_id), sortable=False
    ),
    "proposedAt": Filterable(RecognitionCandidate.proposed_at),
}


def _managed_by(managers: frozenset[str]) -> Any:
    """The portfolio levels of the data scope (kam_platform.auth.ScopeLevel): customers managed by them."""
    return Customer.account_manager.in_(managers)


def _candidates_of(managers: frozenset[str]) -> Any:
    return RecognitionCandidate.customer_id.in_(select(Customer.id).where(_managed_by(managers)))


class RecognitionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> RecognitionRepository:
        return cls(session)

    async def customers_to_judge(self, node: str, principal: Principal, topology: Topology) -> Sequence[Customer]:
        """Live customers this node owns (only the owner changes a grade) within the caller's scope;
        an exited customer re-enters by a person's decision, not by a run."""
        stmt = (
            select(Customer)
            .where(
                Customer.owner_node == node,
                scope_filter(Customer.owner_node, principal, topology, portfolio=_managed_by),
                Customer.deleted_at.is_(None),
                Customer.recog_status != "EXITED",
                # not yet recognisable (F1): industry still 待补充, or the legal entity still 待核实
                Customer.industry != "UNKNOWN",
                or_(
                    Customer.organization_id.is_(None),
                    Customer.organization_id.not_in(
                        select(Organization.id).where(Organization.status == "initialized")
                    ),
                ),
            )
            .order_by(Customer.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def spend(
        self, customer_ids: Sequence[uuid.UUID], months: Sequence[date]
    ) -> dict[uuid.UUID, dict[date, Decimal]]:
        out: dict[uuid.UUID, dict[date, Decimal]] = {}
        if not customer_ids:
            return out
        rows = await self.session.execute(
            select(MonthlySpend.customer_id, MonthlySpend.month, MonthlySpend.amount).where(
                MonthlySpend.customer_id.in_(customer_ids), MonthlySpend.month.in_(months)
            )
        )
        for cid, month, amount in rows:
            out.setdefault(cid, {})[month] = amount
        return out

    async def open_candidates(self, customer_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        if not customer_ids:
            return set()
        rows = await self.session.scalars(
            select(RecognitionCandidate.customer_id).where(
                RecognitionCandidate.customer_id.in_(customer_ids), RecognitionCandidate.status == "PROPOSED"
            )
        )
        return set(rows)

    async def add_candidates(self, rows: list[dict[str, Any]]) -> list[uuid.UUID]:
        """Insert; a customer that got an open proposal concurrently keeps that one."""
        if not rows:
            return []
        stmt = (
            insert(RecognitionCandidate)
            .on_conflict_do_nothing(
                index_elements=[RecognitionCandidate.customer_id], index_where=RecognitionCandidate.status == "PROPOSED"
            )
            .returning(RecognitionCandidate.id)
        )
        return list((await self.session.execute(stmt, rows)).scalars())

    def _scoped(self, principal: Principal, topology: Topology) -> Any:
        return select(RecognitionCandidate).where(
            scope_filter(RecognitionCandidate.owner_node, principal, topology, portfolio=_candidates_of)
        )

    async def page(
        self, principal: Principal, topology: Topology, lq: ListQuery
    ) -> tuple[Sequence[RecognitionCandidate], int]:
        stmt = apply_filters(self._scoped(principal, topology), lq, FILTERABLE)
        return await fetch_page(self.session, stmt, lq, FILTERABLE, RecognitionCandidate.proposed_at.desc())

    async def get_visible(
        self, candidate_id: uuid.UUID, principal: Principal, topology: Topology, *, lock: bool = False
    ) -> RecognitionCandidate | None:
        stmt = self._scoped(principal, topology).where(RecognitionCandidate.id == candidate_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        found: RecognitionCandidate | None = await self.session.scalar(stmt)
        return found

    async def upsert_spend(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        stmt = insert(MonthlySpend)
        stmt = stmt.on_conflict_do_update(
            index_elements=[MonthlySpend.customer_id, MonthlySpend.month],
            set_={"amount": stmt.excluded.amount, "updated_at": func.now()},
        )
        await self.session.execute(stmt, rows)

    async def visible_owned(
        self, ids: Sequence[uuid.UUID], node: str, principal: Principal, topology: Topology
    ) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            select(Customer.id).where(
                Customer.id.in_(ids),
                Customer.owner_node == node,
                scope_filter(Customer.owner_node, principal, topology, portfolio=_managed_by),
                Customer.deleted_at.is_(None),
            )
        )
        return set(rows)
