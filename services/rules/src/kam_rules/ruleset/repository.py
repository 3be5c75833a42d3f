"""All SQL of rule sets: scoped reads, the in-force query, history and audit rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.auth import Principal
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page
from kam_platform.topology import Topology
from kam_rules.models import RuleSet, RuleSetVersion

from .dataset import RULE_SETS

FILTERABLE: dict[str, Filterable] = {
    "kind": Filterable(RuleSet.kind),
    "status": Filterable(RuleSet.status),
    "ownerNode": Filterable(RuleSet.owner_node),
    "scopeNode": Filterable(RuleSet.scope_node),
    "name": Filterable(RuleSet.name),
    "version": Filterable(RuleSet.version, int),
    "validFor.startDate": Filterable(RuleSet.valid_from, date),
    "validFor.endDate": Filterable(RuleSet.valid_to, date),
    "updatedAt": Filterable(RuleSet.updated_at),
}


def visible_owners(principal: Principal, topology: Topology) -> list[str]:
    """Rules a user sees: those of their scope's subtree, and the reference data above it."""
    return [*topology.subtree(principal.scope_node), *topology.ancestors(principal.scope_node)]


class RuleSetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> RuleSetRepository:
        return cls(session)

    def _scoped(self, principal: Principal, topology: Topology) -> Select[RuleSet]:
        return select(RuleSet).where(RuleSet.owner_node.in_(visible_owners(principal, topology)))

    async def get_visible(
        self, rule_set_id: uuid.UUID, principal: Principal, topology: Topology, *, lock: bool = False
    ) -> RuleSet | None:
        stmt = self._scoped(principal, topology).where(RuleSet.id == rule_set_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        found: RuleSet | None = await self.session.scalar(stmt)
        return found

    async def get(self, rule_set_id: uuid.UUID) -> RuleSet | None:
        return await self.session.get(RuleSet, rule_set_id)

    async def page(self, principal: Principal, topology: Topology, lq: ListQuery) -> tuple[Sequence[RuleSet], int]:
        stmt = apply_filters(self._scoped(principal, topology), lq, FILTERABLE)
        if not lq.sort:
            stmt = stmt.order_by(RuleSet.kind, RuleSet.valid_from.desc())
        return await fetch_page(self.session, stmt, lq, FILTERABLE, RuleSet.id)

    async def published_in_force(self, topology: Topology, kind: str, node: str, on: date) -> list[RuleSet]:
        stmt = RULE_SETS.in_force_at(topology, node, on).where(RuleSet.kind == kind, RuleSet.status == "PUBLISHED")
        return list((await self.session.scalars(stmt)).all())

    async def versions(self, rule_set_id: uuid.UUID, lq: ListQuery) -> tuple[Sequence[RuleSetVersion], int]:
        stmt = select(RuleSetVersion).where(RuleSetVersion.rule_set_id == rule_set_id)
        return await fetch_page(self.session, stmt, lq, {}, RuleSetVersion.version.desc())

    async def add_version(self, row: dict[str, Any]) -> None:
        await self.session.execute(insert(RuleSetVersion).on_conflict_do_nothing(), [row])

    async def add_versions(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(RuleSetVersion).on_conflict_do_nothing(), rows)
