"""All SQL of the customer domain. The data scope (node subtree, portfolio) is applied by the
platform's `ScopedRepository`, once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, and_, cast, func, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from kam_customer.models import SCHEMA, AccountManagerAssignment, Audit, Customer
from kam_customer.verification.models import CustomerVerification
from kam_platform.auth import Principal
from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_platform.topology import Topology

from . import rules


def _related_party_predicate(op: str, values: list[Any]) -> Any:
    return Customer.account_manager.in_(values)


def _verification_predicate(op: str, values: list[Any]) -> Any:
    # 省级核实 (F1): verified / returned by the verdict; unverified = no verdict yet
    judged = [v for v in values if v in ("verified", "returned")]
    clauses = []
    if judged:
        verdicts = select(CustomerVerification.customer_id).where(CustomerVerification.status.in_(judged))
        clauses.append(Customer.id.in_(verdicts))
    if "unverified" in values:
        clauses.append(~Customer.id.in_(select(CustomerVerification.customer_id)))
    return or_(*clauses) if clauses else Customer.id.is_(None)


FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(Customer.id, str, predicate=uuid_filter(Customer.id)),
    "name": Filterable(Customer.name),
    "customerCode": Filterable(Customer.customer_code),
    "customerType": Filterable(Customer.customer_type, rules.CustomerType),
    "nature": Filterable(Customer.nature, rules.Nature),
    "mgmtLevel": Filterable(Customer.mgmt_level, rules.MgmtLevel),
    "industry": Filterable(Customer.industry, rules.Industry),
    "valueType": Filterable(Customer.value_type, rules.ValueType),
    "grade": Filterable(Customer.grade, rules.Grade),
    "status": Filterable(Customer.life_status, rules.LifeStatus),
    "recognitionStatus": Filterable(Customer.recog_status, rules.RecogStatus),
    "creditCode": Filterable(Customer.credit_code),
    "accountManager": Filterable(Customer.account_manager),
    "relatedParty.id": Filterable(Customer.account_manager, sortable=False, predicate=_related_party_predicate),
    "engagedParty.id": Filterable(
        Customer.organization_id,
        sortable=False,
        predicate=uuid_filter(Customer.organization_id),
    ),
    "parentCustomer.id": Filterable(
        Customer.parent_customer_id,
        sortable=False,
        predicate=uuid_filter(Customer.parent_customer_id),
    ),
    "ownerNode": Filterable(Customer.owner_node),
    "verification": Filterable(Customer.id, sortable=False, predicate=_verification_predicate),
    "version": Filterable(Customer.version, int),
    "createdAt": Filterable(Customer.created_at, datetime),
    "updatedAt": Filterable(Customer.updated_at, datetime),
}


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_contains(term: str) -> Any:
    """The name contains `term`. A 2-character term is looked up in the bigram index (migration 0003: a
    name contains it exactly when its bigram set does); longer ones use the trigram index (LIKE),
    shorter ones scan."""
    if len(term) != 2:
        return Customer.name.like(f"%{escape_like(term)}%")
    indexed = getattr(func, SCHEMA).name_bigrams(Customer.name).op("@>")(cast([term], ARRAY(Text)))
    # strpos, not LIKE, as the recheck: a 2-character LIKE would tempt the planner into the trigram
    # index, which has no trigram to look up and reads itself whole
    return and_(Customer.deleted_at.is_(None), indexed, func.strpos(Customer.name, term) > 0)


class CustomerRepository(ScopedRepository[Customer]):
    model = Customer
    filterable = FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> Any:
        return Customer.account_manager.in_(managers)

    def search(self, stmt: Select[Any], term: str) -> Select[Any]:
        code = term.upper()
        if rules.CUSTOMER_CODE_RE.match(code):  # customer and credit codes are both of this form
            return stmt.where(or_(name_contains(term), Customer.customer_code == code, Customer.credit_code == code))
        # a term that cannot be a code (every Chinese one) searches names only; outside an OR the
        # bigram test stays an index condition instead of being re-evaluated on every match
        return stmt.where(name_contains(term))

    async def get_many(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Customer]:
        if not ids:
            return {}
        rows = (await self.session.scalars(select(Customer).where(Customer.id.in_(ids)))).all()
        return {r.id: r for r in rows}

    async def next_code(self, node: str) -> str:
        seq = await self.session.scalar(text("SELECT nextval('customer.customer_code_seq')"))
        return f"{rules.code_prefix(node)}{int(seq or 0):08d}"

    async def ancestors(self, customer_id: uuid.UUID, limit: int = 50) -> list[uuid.UUID]:
        """Parent chain (nearest first) via a recursive CTE, bounded."""
        rows = await self.session.execute(
            text(
                "WITH RECURSIVE up(id, parent, depth) AS ("
                " SELECT id, parent_customer_id, 0 FROM customer.customer WHERE id = :id"
                " UNION ALL SELECT c.id, c.parent_customer_id, up.depth + 1 FROM customer.customer c"
                " JOIN up ON c.id = up.parent WHERE up.depth < :limit)"
                " SELECT id FROM up WHERE depth > 0 ORDER BY depth"
            ),
            {"id": customer_id, "limit": limit},
        )
        return [r[0] for r in rows]

    async def children(self, customer_id: uuid.UUID, principal: Principal, topology: Topology) -> Sequence[Customer]:
        stmt = (
            self.scoped(principal, topology).where(Customer.parent_customer_id == customer_id).order_by(Customer.name)
        )
        return (await self.session.scalars(stmt)).all()

    async def has_live_children(self, customer_id: uuid.UUID) -> bool:
        stmt = (
            select(Customer.id)
            .where(Customer.parent_customer_id == customer_id, Customer.deleted_at.is_(None))
            .limit(1)
        )
        return (await self.session.scalar(stmt)) is not None

    async def history(self, customer_ids: Sequence[uuid.UUID], offset: int, limit: int) -> tuple[Sequence[Audit], int]:
        base = select(Audit).where(Audit.entity_id.in_(customer_ids))
        total = await self.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = (
            await self.session.scalars(base.order_by(Audit.at.desc(), Audit.id.desc()).offset(offset).limit(limit))
        ).all()
        return rows, int(total or 0)

    async def assignments(self, customer_ids: Sequence[uuid.UUID]) -> Sequence[AccountManagerAssignment]:
        stmt = (
            select(AccountManagerAssignment)
            .where(AccountManagerAssignment.customer_id.in_(customer_ids))
            .order_by(AccountManagerAssignment.valid_from.desc(), AccountManagerAssignment.id.desc())
        )
        return (await self.session.scalars(stmt)).all()

    async def close_open_assignment(self, customer_id: uuid.UUID, at: datetime) -> None:
        # ends when the next one begins (its valid_from), as every replica computes it from the events
        await self.session.execute(
            text(
                "UPDATE customer.account_manager_assignment SET valid_to = :at "
                "WHERE customer_id = :id AND valid_to IS NULL"
            ),
            {"id": customer_id, "at": at},
        )
