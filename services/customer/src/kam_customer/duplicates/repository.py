"""All SQL of duplicate detection: candidates of one customer (or of attributes about to be created)
and the scan of a whole scope, both within the caller's data scope; the review queue."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, String, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kam_customer.customer.repository import CustomerRepository
from kam_customer.models import Contact, Customer
from kam_platform.auth import Principal, ScopeKey, scope_key
from kam_platform.db.driver import Kept, compile_kept, driver_connection
from kam_platform.topology import Topology

from .models import DuplicateCandidate

NAME_KEY = func.customer.name_key
TEXT_KEY = func.customer.text_key
# a group larger than this (one phone shared by a hundred customers: a switchboard) says little about
# any one pair; its pairs are not listed
MAX_GROUP = 50
# the candidates listed for one customer
MAX_CANDIDATES = 50
OWNERS_CHUNK = 10_000
# the matching statements kept, by scope and signals (DuplicateRepository._statements)
MAX_STATEMENTS = 512
_STATEMENTS: dict[tuple[ScopeKey, tuple[str, ...], bool], _Statements] = {}


class _Statements(NamedTuple):
    """The kept statements of one scope and set of signals: listing and counting the matches, and the
    count compiled for the driver (None when its SQL is rendered per call: an expanding ``IN``)."""

    listing: Select[Any]
    counting: Select[Any]
    count_on_driver: Kept | None


class _Compared(NamedTuple):
    """The attributes a customer is compared by (its duplicate signals)."""

    name: str | None
    credit_code: str | None
    address: str | None
    phones: Sequence[str]


def _scoped(session: AsyncSession, principal: Principal, topology: Topology) -> Select[Any]:
    return CustomerRepository.from_session(session).scoped(principal, topology)


class DuplicateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> DuplicateRepository:
        return cls(session)

    def _matching(
        self, principal: Principal, topology: Topology, compared: _Compared, exclude: uuid.UUID | None, limit: int
    ) -> tuple[_Statements, tuple[str, ...], dict[str, Any]] | None:
        """The visible customers sharing a signal with the `compared` attributes: the statements listing
        and counting them, the signals they compare and their parameters (None when there is nothing to
        compare)."""
        name, credit_code, address, phones = compared
        given = {"creditCode": credit_code, "name": name, "address": address, "phone": list(phones) or None}
        params: dict[str, Any] = {k: v for k, v in given.items() if v}
        if not params:
            return None
        signals = tuple(params)
        params["limit"] = limit
        if exclude is not None:
            params["exclude"] = exclude
        key = (scope_key(principal, topology), signals, exclude is not None)
        statements = _STATEMENTS.get(key)
        if statements is None:
            statements = self._statements(principal, topology, signals, exclude=exclude is not None)
            if len(_STATEMENTS) >= MAX_STATEMENTS:
                _STATEMENTS.clear()
            _STATEMENTS[key] = statements
        return statements, signals, params

    def _statements(
        self, principal: Principal, topology: Topology, signals: tuple[str, ...], *, exclude: bool
    ) -> _Statements:
        """The statements listing and counting the matches of these signals within this scope, every
        value bound by name: built once per scope and signals and kept (`_STATEMENTS`), so a create's
        duplicate warning does not build, coerce and key a statement each time (about a quarter of a
        create's Python time, docs/benchmarks.md), and the count compiled once for the driver."""
        clauses: dict[str, Callable[[], ColumnElement[bool]]] = {
            "creditCode": lambda: Customer.credit_code == bindparam("creditCode", type_=String),
            "name": lambda: NAME_KEY(Customer.name) == NAME_KEY(bindparam("name", type_=String)),
            "address": lambda: TEXT_KEY(Customer.address) == TEXT_KEY(bindparam("address", type_=String)),
            "phone": lambda: Customer.id.in_(
                select(Contact.customer_id).where(
                    Contact.phone.in_(bindparam("phone", expanding=True)), Contact.deleted_at.is_(None)
                )
            ),
        }
        stmt = _scoped(self.session, principal, topology).where(or_(*[clauses[s]() for s in signals]))
        if exclude:
            stmt = stmt.where(Customer.id != bindparam("exclude"))
        limit = bindparam("limit", type_=Integer)
        listing = stmt.add_columns(*[clauses[s]().label(s) for s in signals]).limit(limit)
        counting = select(func.count()).select_from(stmt.with_only_columns(Customer.id).limit(limit).subquery())
        try:
            on_driver: Kept | None = compile_kept(counting, self.session.sync_session.get_bind().dialect)
        except ValueError:
            on_driver = None  # a phone list, or a scope of several nodes: rendered per call
        return _Statements(listing, counting, on_driver)

    async def matches(
        self,
        principal: Principal,
        topology: Topology,
        *,
        name: str | None,
        credit_code: str | None,
        address: str | None,
        phones: Sequence[str],
        exclude: uuid.UUID | None = None,
        limit: int = MAX_CANDIDATES,
    ) -> list[tuple[Customer, set[str]]]:
        """Visible customers sharing a signal with the given attributes, with the signals they share."""
        found = self._matching(principal, topology, _Compared(name, credit_code, address, phones), exclude, limit)
        if found is None:
            return []
        kept, signals, params = found
        listing = kept.listing
        rows = (await self.session.execute(listing, params)).all()
        return [(r[0], {k for k in signals if getattr(r, k)}) for r in rows]

    async def count_matches(
        self,
        principal: Principal,
        topology: Topology,
        *,
        name: str | None,
        credit_code: str | None,
        address: str | None,
        phones: Sequence[str],
        exclude: uuid.UUID | None = None,
        limit: int = MAX_CANDIDATES,
    ) -> int:
        """How many customers `matches` would list (at most `limit`), without reading them."""
        found = self._matching(principal, topology, _Compared(name, credit_code, address, phones), exclude, limit)
        if found is None:
            return 0
        kept, _, params = found
        if kept.count_on_driver is not None:
            # a number, not entities: on the driver, without SQLAlchemy's execution steps (kam_platform.db.driver)
            conn = await driver_connection(self.session)
            return int(await conn.fetchval(kept.count_on_driver.sql, *kept.count_on_driver.args(params)) or 0)
        return int(await (await self.session.connection()).scalar(kept.counting, params) or 0)

    async def phones_of(self, customer_id: uuid.UUID) -> list[str]:
        stmt = select(Contact.phone).where(
            Contact.customer_id == customer_id, Contact.phone.is_not(None), Contact.deleted_at.is_(None)
        )
        return [p for p in (await self.session.scalars(stmt)).all() if p]

    async def scan(self, principal: Principal, topology: Topology) -> dict[tuple[uuid.UUID, uuid.UUID], set[str]]:
        """Every pair of visible customers sharing a signal: one GROUP BY per signal over the scope."""
        visible = _scoped(self.session, principal, topology).subquery()
        groups: list[tuple[str, Select[Any]]] = [
            (
                "creditCode",
                select(func.array_agg(visible.c.id))
                .where(visible.c.credit_code.is_not(None))
                .group_by(visible.c.credit_code),
            ),
            ("name", select(func.array_agg(visible.c.id)).group_by(NAME_KEY(visible.c.name))),
            (
                "address",
                select(func.array_agg(visible.c.id))
                .where(visible.c.address.is_not(None), TEXT_KEY(visible.c.address) != "")
                .group_by(TEXT_KEY(visible.c.address)),
            ),
            (
                "phone",
                select(func.array_agg(func.distinct(Contact.customer_id)))
                .join(visible, visible.c.id == Contact.customer_id)
                .where(Contact.phone.is_not(None), Contact.deleted_at.is_(None))
                .group_by(Contact.phone),
            ),
        ]
        pairs: dict[tuple[uuid.UUID, uuid.UUID], set[str]] = defaultdict(set)
        for signal, stmt in groups:
            agg = stmt.selected_columns[0]
            stmt = stmt.having(func.cardinality(agg) > 1).having(func.cardinality(agg) <= MAX_GROUP)
            for (ids,) in (await self.session.execute(stmt)).all():
                ordered = sorted(set(ids))
                for i, a in enumerate(ordered):
                    for b in ordered[i + 1 :]:
                        pairs[(a, b)].add(signal)
        return pairs

    async def owners(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Owner of each customer; read in chunks (a country-wide scan pairs more customers than a
        statement may carry parameters: asyncpg's limit is 32767)."""
        out: dict[uuid.UUID, str] = {}
        for i in range(0, len(ids), OWNERS_CHUNK):
            stmt = select(Customer.id, Customer.owner_node).where(Customer.id.in_(ids[i : i + OWNERS_CHUNK]))
            out.update({r[0]: r[1] for r in await self.session.execute(stmt)})
        return out

    async def store(self, rows: list[dict[str, Any]]) -> None:
        """Queue the pairs; a pair already reviewed keeps its verdict, an open one its new score."""
        for i in range(0, len(rows), 2000):
            stmt = insert(DuplicateCandidate)
            stmt = stmt.on_conflict_do_update(
                index_elements=[DuplicateCandidate.customer_a, DuplicateCandidate.customer_b],
                set_={"score": stmt.excluded.score, "reasons": stmt.excluded.reasons, "found_at": text("now()")},
                where=DuplicateCandidate.status == "OPEN",
            )
            await self.session.execute(stmt, rows[i : i + 2000])

    def queue(self, principal: Principal, topology: Topology) -> Select[Any]:
        nodes = topology.subtree(principal.scope_node)
        return select(DuplicateCandidate).where(
            DuplicateCandidate.owner_a.in_(nodes), DuplicateCandidate.owner_b.in_(nodes)
        )
