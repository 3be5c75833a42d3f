"""Merge proposals across owner nodes (跨节点合并提议): the proposing ancestor's directive and each
owner's answer to its side."""

from __future__ import annotations

import uuid

from sqlalchemy import Index, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_customer.models import Base
from kam_platform.db import ReplicatedMixin


class MergeProposal(ReplicatedMixin, Base):
    """合并提议: owned by the proposing node (a common ancestor of every owner), flows down to its
    subtree; each owner of a customer in it answers its side (`MergeProposalResponse`)."""

    __tablename__ = "merge_proposal"
    __table_args__ = (Index("ix_merge_proposal_side_nodes", "side_nodes", postgresql_using="gin"),)

    survivor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    victim_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    choices: Mapped[dict[str, str]] = mapped_column(JSONB)  # field → the customer whose value is taken
    owners: Mapped[dict[str, str]] = mapped_column(JSONB)  # customer id → its owner when proposed
    side_nodes: Mapped[list[str]] = mapped_column(ARRAY(String(32)))  # the owners, each answering a side
    status: Mapped[str] = mapped_column(String(16))  # PROPOSED / WITHDRAWN
    reason: Mapped[str | None] = mapped_column(String(500))
    proposed_by: Mapped[str] = mapped_column(String(128))


class MergeProposalResponse(ReplicatedMixin, Base):
    """One owner's answer to its side of a proposal, owned by that node, flowing up to the proposer."""

    __tablename__ = "merge_proposal_response"
    __table_args__ = (
        Index("uq_merge_proposal_response_proposal_id_owner_node", "proposal_id", "owner_node", unique=True),
    )

    proposal_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    status: Mapped[str] = mapped_column(String(16))  # ACCEPTED / REJECTED
    reason: Mapped[str | None] = mapped_column(String(500))
    merge_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))  # the survivor owner's merge
    responded_by: Mapped[str] = mapped_column(String(128))
