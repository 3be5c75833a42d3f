"""All SQL of merge proposals: the proposals in the caller's scope (the proposer's, or one naming a side
in the scope), their answers, and the open proposals naming a customer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, false, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.auth import Principal, scope_nodes
from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_platform.topology import Topology

from .models import MergeProposal, MergeProposalResponse

FILTERABLE: dict[str, Filterable] = {
    "survivorId": Filterable(MergeProposal.survivor_id, str, predicate=uuid_filter(MergeProposal.survivor_id)),
    "status": Filterable(MergeProposal.status),
    "ownerNode": Filterable(MergeProposal.owner_node),
    "proposedBy": Filterable(MergeProposal.proposed_by),
    "createdAt": Filterable(MergeProposal.created_at, datetime),
}


class ProposalRepository(ScopedRepository[MergeProposal]):
    model = MergeProposal
    filterable = FILTERABLE

    def scope_clause(self, principal: Principal, topology: Topology) -> ColumnElement[bool]:
        """A proposal is seen in the scope that made it and in every scope holding one of its sides
        (an owner that answers, and that owner's ancestors). It belongs to no single customer's
        portfolio: closed to portfolio-scoped callers."""
        nodes = scope_nodes(principal, topology)
        clause: ColumnElement[bool] = or_(
            MergeProposal.owner_node.in_(nodes),
            MergeProposal.side_nodes.overlap(cast(nodes, ARRAY(String(32)))),
        )
        return and_(clause, false()) if principal.by_portfolio else clause

    async def for_update(self, proposal_id: uuid.UUID) -> MergeProposal | None:
        stmt = (
            select(MergeProposal)
            .where(MergeProposal.id == proposal_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def responses_for(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[MergeProposalResponse]]:
        out: dict[uuid.UUID, list[MergeProposalResponse]] = {i: [] for i in ids}
        if ids:
            stmt = (
                select(MergeProposalResponse)
                .where(MergeProposalResponse.proposal_id.in_(ids))
                .order_by(MergeProposalResponse.owner_node)
            )
            for r in (await self.session.scalars(stmt)).all():
                out[r.proposal_id].append(r)
        return out

    async def response_for_update(self, response_id: uuid.UUID) -> MergeProposalResponse | None:
        found: Any = await self.session.get(
            MergeProposalResponse, response_id, with_for_update=True, populate_existing=True
        )
        return found  # type: ignore[no-any-return]

    async def proposed_naming(self, ids: Sequence[uuid.UUID]) -> Sequence[MergeProposal]:
        """Proposals still PROPOSED that name any of `ids` as survivor or victim."""
        stmt = select(MergeProposal).where(
            MergeProposal.status == "PROPOSED",
            or_(
                MergeProposal.survivor_id.in_(ids),
                MergeProposal.victim_ids.overlap(cast(list(ids), ARRAY(UUID(as_uuid=True)))),
            ),
        )
        return (await self.session.scalars(stmt.order_by(MergeProposal.created_at))).all()
