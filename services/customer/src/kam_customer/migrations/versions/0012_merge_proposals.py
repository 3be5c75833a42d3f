"""Merge across owner nodes (issue 14): the proposing ancestor's merge proposals and each owner's answer

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "customer"


def _replicated() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "merge_proposal",
        sa.Column("survivor_id", sa.UUID(), nullable=False),
        sa.Column("victim_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("choices", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("owners", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("side_nodes", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("proposed_by", sa.String(length=128), nullable=False),
        *_replicated(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_proposal")),
        schema=S,
    )
    op.create_index(op.f("ix_merge_proposal_owner_node"), "merge_proposal", ["owner_node"], schema=S)
    op.create_index(op.f("ix_merge_proposal_survivor_id"), "merge_proposal", ["survivor_id"], schema=S)
    op.create_index("ix_merge_proposal_side_nodes", "merge_proposal", ["side_nodes"], schema=S, postgresql_using="gin")
    op.create_table(
        "merge_proposal_response",
        sa.Column("proposal_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("merge_id", sa.UUID(), nullable=True),
        sa.Column("responded_by", sa.String(length=128), nullable=False),
        *_replicated(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_proposal_response")),
        schema=S,
    )
    op.create_index(op.f("ix_merge_proposal_response_owner_node"), "merge_proposal_response", ["owner_node"], schema=S)
    op.create_index(
        op.f("ix_merge_proposal_response_proposal_id"), "merge_proposal_response", ["proposal_id"], schema=S
    )
    op.create_index(
        "uq_merge_proposal_response_proposal_id_owner_node",
        "merge_proposal_response",
        ["proposal_id", "owner_node"],
        unique=True,
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("merge_proposal_response", schema=S)
    op.drop_table("merge_proposal", schema=S)
