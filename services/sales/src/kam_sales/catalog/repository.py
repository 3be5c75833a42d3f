"""All SQL of the catalogue: the items a caller may see at this node, references, availability."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.auth import Principal
from kam_platform.changes import lock
from kam_platform.dataset import authors_above, valid_on
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page, uuid_filter
from kam_platform.topology import Topology
from kam_sales.models import CatalogItem

from .schemas import Kind


def _ref_contains(key: str) -> Any:
    """`category.id=X,Y`: items whose body lists a reference with one of the ids."""

    def predicate(op: str, values: list[Any]) -> ColumnElement[bool]:
        return or_(*(CatalogItem.body.contains({key: [{"id": str(v)}]}) for v in values))

    return predicate


def _ref_is(key: str) -> Any:
    def predicate(op: str, values: list[Any]) -> ColumnElement[bool]:
        return or_(*(CatalogItem.body.contains({key: {"id": str(v)}}) for v in values))

    return predicate


FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(CatalogItem.id, predicate=uuid_filter(CatalogItem.id)),
    "name": Filterable(CatalogItem.name),
    "lifecycleStatus": Filterable(CatalogItem.lifecycle_status),
    "ownerNode": Filterable(CatalogItem.owner_node),
    "version": Filterable(CatalogItem.version, int),
    "lastUpdate": Filterable(CatalogItem.updated_at),
    "validFor.startDateTime": Filterable(CatalogItem.valid_from, date),
    "validFor.endDateTime": Filterable(CatalogItem.valid_to, date),
    "category.id": Filterable(CatalogItem.id, sortable=False, predicate=_ref_contains("category")),
    "productOffering.id": Filterable(CatalogItem.id, sortable=False, predicate=_ref_is("productOffering")),
    "priceType": Filterable(CatalogItem.body["priceType"].astext),
    "parentId": Filterable(CatalogItem.body["parentId"].astext),
}


def visible_owners(principal: Principal, topology: Topology) -> list[str]:
    """Catalogue items a user sees: those authored in their scope's subtree (a province's refinements,
    seen from above) and the reference data their ancestors publish down."""
    return [*topology.subtree(principal.scope_node), *topology.ancestors(principal.scope_node)]


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> CatalogRepository:
        return cls(session)

    def _scoped(self, kind: Kind, principal: Principal, topology: Topology) -> Select[Any]:
        return select(CatalogItem).where(
            CatalogItem.kind == kind.value, CatalogItem.owner_node.in_(visible_owners(principal, topology))
        )

    async def page(
        self, kind: Kind, principal: Principal, topology: Topology, lq: ListQuery
    ) -> tuple[Sequence[CatalogItem], int]:
        stmt = apply_filters(self._scoped(kind, principal, topology), lq, FILTERABLE)
        if not lq.sort:
            stmt = stmt.order_by(CatalogItem.owner_node, CatalogItem.name)
        return await fetch_page(self.session, stmt, lq, FILTERABLE, CatalogItem.id)

    async def get_visible(
        self, kind: Kind, item_id: uuid.UUID, principal: Principal, topology: Topology
    ) -> CatalogItem | None:
        stmt = self._scoped(kind, principal, topology).where(CatalogItem.id == item_id)
        item: CatalogItem | None = await self.session.scalar(stmt)
        return item

    async def lock(self, item_id: uuid.UUID) -> CatalogItem | None:
        return await lock(self.session, CatalogItem, item_id)

    async def referable(self, ids: Sequence[uuid.UUID], topology: Topology, node: str) -> dict[uuid.UUID, CatalogItem]:
        """The items among `ids` that an item authored at `node` may reference: its own and those its
        ancestors publish (an item below or beside would be missing wherever the referrer flows)."""
        if not ids:
            return {}
        stmt = select(CatalogItem).where(
            CatalogItem.id.in_(ids), CatalogItem.owner_node.in_(authors_above(topology, node))
        )
        return {r.id: r for r in (await self.session.scalars(stmt)).all()}

    async def offerings_in_force(self, topology: Topology, node: str, on: date) -> list[CatalogItem]:
        stmt = select(CatalogItem).where(
            CatalogItem.kind == Kind.OFFERING.value,
            CatalogItem.lifecycle_status == "active",
            CatalogItem.owner_node.in_(authors_above(topology, node)),
            valid_on(CatalogItem, on),
        )
        return list((await self.session.scalars(stmt.order_by(CatalogItem.name))).all())

    async def availability_in_force(self, topology: Topology, node: str, on: date) -> list[CatalogItem]:
        stmt = select(CatalogItem).where(
            CatalogItem.kind == Kind.AVAILABILITY.value,
            CatalogItem.lifecycle_status == "active",
            CatalogItem.owner_node.in_(authors_above(topology, node)),
            valid_on(CatalogItem, on),
        )
        return list((await self.session.scalars(stmt)).all())
