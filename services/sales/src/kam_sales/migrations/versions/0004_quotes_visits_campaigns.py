"""quotes, visits, campaigns (target lists and responses)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quote",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("quote_version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("opportunity_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("subtotal", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("max_discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("approval_rule", sa.String(length=80), nullable=True),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("approval_note", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("previous_id", sa.UUID(), nullable=True),
        sa.Column("superseded_by_id", sa.UUID(), nullable=True),
        sa.Column("account_manager", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote")),
        sa.UniqueConstraint(
            "owner_node", "number", "quote_version", name=op.f("uq_quote_owner_node_number_quote_version")
        ),
        schema="sales",
    )
    op.create_index(op.f("ix_quote_account_manager"), "quote", ["account_manager"], unique=False, schema="sales")
    op.create_index(op.f("ix_quote_customer_id"), "quote", ["customer_id"], unique=False, schema="sales")
    op.create_index(op.f("ix_quote_owner_node"), "quote", ["owner_node"], unique=False, schema="sales")
    op.create_index("ix_quote_owner_status", "quote", ["owner_node", "status"], unique=False, schema="sales")
    op.create_table(
        "visit",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("opportunity_id", sa.UUID(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("participants", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("follow_ups", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("account_manager", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
        schema="sales",
    )
    op.create_index(op.f("ix_visit_account_manager"), "visit", ["account_manager"], unique=False, schema="sales")
    op.create_index(op.f("ix_visit_customer_id"), "visit", ["customer_id"], unique=False, schema="sales")
    op.create_index(op.f("ix_visit_owner_node"), "visit", ["owner_node"], unique=False, schema="sales")
    op.create_index("ix_visit_owner_planned", "visit", ["owner_node", "planned_at"], unique=False, schema="sales")
    op.create_table(
        "campaign",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("objective", sa.Text(), nullable=False),
        sa.Column("segment", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("offers", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("budget", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("launched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        schema="sales",
    )
    op.create_index(op.f("ix_campaign_owner_node"), "campaign", ["owner_node"], unique=False, schema="sales")
    op.create_index("ix_campaign_owner_status", "campaign", ["owner_node", "status"], unique=False, schema="sales")
    op.create_table(
        "campaign_target_list",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("scope_node", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("targets", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_target_list")),
        sa.UniqueConstraint("campaign_id", "scope_node", name=op.f("uq_campaign_target_list_campaign_id_scope_node")),
        schema="sales",
    )
    op.create_index(
        op.f("ix_campaign_target_list_campaign_id"),
        "campaign_target_list",
        ["campaign_id"],
        unique=False,
        schema="sales",
    )
    op.create_index(
        op.f("ix_campaign_target_list_owner_node"), "campaign_target_list", ["owner_node"], unique=False, schema="sales"
    )
    op.create_table(
        "campaign_response",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("attempts", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("response", sa.String(length=16), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opportunity_id", sa.UUID(), nullable=True),
        sa.Column("account_manager", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_response")),
        sa.UniqueConstraint(
            "campaign_id",
            "customer_id",
            "owner_node",
            name=op.f("uq_campaign_response_campaign_id_customer_id_owner_node"),
        ),
        schema="sales",
    )
    op.create_index(
        op.f("ix_campaign_response_account_manager"),
        "campaign_response",
        ["account_manager"],
        unique=False,
        schema="sales",
    )
    op.create_index(
        op.f("ix_campaign_response_campaign_id"), "campaign_response", ["campaign_id"], unique=False, schema="sales"
    )
    op.create_index(
        op.f("ix_campaign_response_owner_node"), "campaign_response", ["owner_node"], unique=False, schema="sales"
    )


def downgrade() -> None:
    op.drop_table("campaign_response", schema="sales")
    op.drop_table("campaign_target_list", schema="sales")
    op.drop_table("campaign", schema="sales")
    op.drop_table("visit", schema="sales")
    op.drop_table("quote", schema="sales")
