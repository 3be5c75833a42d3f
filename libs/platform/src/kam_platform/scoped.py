"""The scoped repository base: every domain's "get visible by id" and TMF630 page (filters, sort,
counts, keyset streaming for exports) with the caller's data scope applied in one place.

A domain repository names its table, its filterable attributes and — when its rows belong to a
customer — how a row reaches the customer's current account manager (the portfolio levels of the data
scope, `kam_platform.auth.ScopeLevel`)::

    class ContactRepository(ScopedRepository[Contact]):
        model = Contact
        filterable = FILTERABLE

        def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
            return Contact.customer_id.in_(select(Customer.id).where(Customer.account_manager.in_(managers)))

Every read through `scoped()` — lists, counts (X-Total-Count), exports, history behind `get_visible`
— carries the same WHERE clause, so none can leak. Rows without a `portfolio` clause are invisible to
portfolio-scoped callers (closed, never open). A `deleted_at` column hides soft-deleted rows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar, Generic, Self, TypeVar

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.auth import Principal, scope_filter
from kam_platform.changes import lock
from kam_platform.tmf import Filterable, ListQuery, Total, apply_filters, fetch_page
from kam_platform.topology import Topology

T = TypeVar("T")


class ScopedRepository(Generic[T]):
    model: ClassVar[Any]
    filterable: ClassVar[Mapping[str, Filterable]] = {}

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> Self:
        return cls(session)

    # --- what a domain may override ------------------------------------------------------------

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool] | None:
        """Rows that belong to a customer whose current account manager is one of `managers`; None
        when the rows belong to no customer (then portfolio-scoped callers see none)."""
        return None

    def search(self, stmt: Select[Any], term: str) -> Select[Any]:
        """The free-text `q=` of a list; by default not supported (ignored)."""
        return stmt

    # --- the scope, applied once -------------------------------------------------------------

    def _live(self, stmt: Select[Any]) -> Select[Any]:
        deleted_at = getattr(self.model, "deleted_at", None)
        return stmt if deleted_at is None else stmt.where(deleted_at.is_(None))

    def scope_clause(self, principal: Principal, topology: Topology) -> ColumnElement[bool]:
        def portfolio(managers: frozenset[str]) -> ColumnElement[bool]:
            clause = self.portfolio(managers)
            return clause if clause is not None else false()

        return scope_filter(self.model.owner_node, principal, topology, portfolio=portfolio)

    def scoped(self, principal: Principal, topology: Topology) -> Select[Any]:
        """Every live row the principal may see."""
        return self._live(select(self.model)).where(self.scope_clause(principal, topology))

    def filtered(self, principal: Principal, topology: Topology, lq: ListQuery) -> Select[Any]:
        stmt = apply_filters(self.scoped(principal, topology), lq, self.filterable)
        term = (lq.q or "").strip()
        return self.search(stmt, term) if term else stmt

    async def page(self, principal: Principal, topology: Topology, lq: ListQuery) -> tuple[Sequence[T], Total]:
        """One TMF page and the total of the filtered, scoped list: exact, except for a free-text search
        (`q=`) past `kam_platform.tmf.COUNT_BOUND` matches, where it is a lower bound (`Total.relation`
        "gte", answered as X-Total-Count-Relation)."""
        rows, total = await fetch_page(
            self.session, self.filtered(principal, topology, lq), lq, self.filterable, self.model.id
        )
        return rows, total

    async def stream(
        self, principal: Principal, topology: Topology, lq: ListQuery, *, chunk: int = 2000
    ) -> AsyncIterator[T]:
        """Every row of a filtered, scoped list, keyset-paged by id so memory stays constant (exports)."""
        base = self.filtered(principal, topology, lq)
        last: uuid.UUID | None = None
        while True:
            stmt = base.order_by(self.model.id).limit(chunk)
            if last is not None:
                stmt = stmt.where(self.model.id > last)
            rows = (await self.session.scalars(stmt)).all()
            if not rows:
                return
            for row in rows:
                yield row
            last = rows[-1].id
            self.session.expunge_all()

    async def get_visible(self, row_id: uuid.UUID, principal: Principal, topology: Topology) -> T | None:
        """The row when the principal may see it, else None (the endpoint answers 404)."""
        stmt = self.scoped(principal, topology).where(self.model.id == row_id)
        row: T | None = (await self.session.scalars(stmt)).one_or_none()
        return row

    async def get_for_update(self, row_id: uuid.UUID) -> T | None:
        """The live row as committed, under its lock (`kam_platform.changes.lock`); scope is judged
        by the caller on the locked row."""
        row: T | None = await lock(self.session, self.model, row_id)
        return row

    async def get(self, row_id: uuid.UUID) -> T | None:
        """The live row, unscoped (for rules that look at records the caller may not list)."""
        stmt = self._live(select(self.model)).where(self.model.id == row_id)
        row: T | None = (await self.session.scalars(stmt)).one_or_none()
        return row
