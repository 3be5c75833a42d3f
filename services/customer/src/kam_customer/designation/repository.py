"""All SQL of designations (全国大客户名录) and their answers. A designation follows its customer: the
customer's current owner, where this node holds the customer, decides who sees and who answers it (so
after a transfer the old owner loses it and the new owner can answer it without the group re-issuing
anything); the owner recorded at designation time is the fallback where the customer is not held here
(and is then outside every local scope anyway). So the scope, portfolio included, is taken on that
current owner rather than on a column of the designation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kam_customer.models import Customer, Designation, DesignationResponse
from kam_platform.auth import Principal, scope_filter
from kam_platform.topology import Topology

CURRENT_OWNER = func.coalesce(Customer.owner_node, Designation.customer_owner_node)


def _with_owner(d: Designation, owner: str) -> Designation:
    # shown and emitted as the current owner, without marking the row dirty (reads never write)
    set_committed_value(d, "customer_owner_node", owner)
    return d


class DesignationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> DesignationRepository:
        return cls(session)

    def scoped(self, principal: Principal, topology: Topology) -> Select[Designation, str]:
        return (
            select(Designation, CURRENT_OWNER)
            .outerjoin(Customer, Customer.id == Designation.customer_id)
            .where(
                scope_filter(
                    CURRENT_OWNER,
                    principal,
                    topology,
                    portfolio=lambda managers: Customer.account_manager.in_(managers),
                )
            )
        )

    async def get_visible(
        self, designation_id: uuid.UUID, principal: Principal, topology: Topology, *, lock: bool = False
    ) -> Designation | None:
        stmt = self.scoped(principal, topology).where(Designation.id == designation_id)
        if lock:
            stmt = stmt.with_for_update(of=Designation).execution_options(populate_existing=True)
        row = (await self.session.execute(stmt)).one_or_none()
        return None if row is None else _with_owner(row[0], row[1])

    async def page(
        self, principal: Principal, topology: Topology, *, offset: int, limit: int, status: str | None = None
    ) -> tuple[list[Designation], int]:
        stmt = self.scoped(principal, topology)
        if status:
            stmt = stmt.where(Designation.status == status)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        order = stmt.order_by(Designation.created_at.desc(), Designation.id).offset(offset).limit(limit)
        rows = (await self.session.execute(order)).all()
        return [_with_owner(d, owner) for d, owner in rows], int(total or 0)

    async def responses_for(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[DesignationResponse]]:
        out: dict[uuid.UUID, list[DesignationResponse]] = {i: [] for i in ids}
        if ids:
            stmt = (
                select(DesignationResponse)
                .where(DesignationResponse.designation_id.in_(ids))
                .order_by(DesignationResponse.owner_node)
            )
            for r in (await self.session.scalars(stmt)).all():
                out[r.designation_id].append(r)
        return out

    async def active_for_customer(self, customer_id: uuid.UUID) -> Designation | None:
        stmt = select(Designation).where(Designation.customer_id == customer_id, Designation.status == "ACTIVE")
        found: Designation | None = await self.session.scalar(stmt)
        return found

    async def response_for_update(self, response_id: uuid.UUID) -> DesignationResponse | None:
        found: Any = await self.session.get(
            DesignationResponse, response_id, with_for_update=True, populate_existing=True
        )
        return found  # type: ignore[no-any-return]
