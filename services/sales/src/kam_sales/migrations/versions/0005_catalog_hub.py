"""TMF630 /hub listeners of catalogue events

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hub_subscription",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("callback", sa.String(length=2000), nullable=False),
        sa.Column("query", sa.String(length=500), nullable=True),
        sa.Column("scope_node", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_by_node", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("failure_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_subscription")),
        schema="sales",
    )
    op.create_index(
        op.f("ix_hub_subscription_created_by"), "hub_subscription", ["created_by"], unique=False, schema="sales"
    )
    op.create_table(
        "hub_delivery",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("subscription_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["sales.hub_subscription.id"],
            name=op.f("fk_hub_delivery_subscription_id_hub_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_delivery")),
        sa.UniqueConstraint("subscription_id", "event_id", name=op.f("uq_hub_delivery_subscription_id_event_id")),
        schema="sales",
    )
    op.create_index(
        "ix_hub_delivery_subscription_id_id", "hub_delivery", ["subscription_id", "id"], unique=False, schema="sales"
    )


def downgrade() -> None:
    op.drop_table("hub_delivery", schema="sales")
    op.drop_table("hub_subscription", schema="sales")
