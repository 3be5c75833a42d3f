"""sales leads (TMF699)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "sales"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sales_lead",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=True),
        sa.Column("prospect_name", sa.String(length=200), nullable=True),
        sa.Column("estimated_revenue", sa.Numeric(16, 2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("products", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("account_manager", sa.String(length=128), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("opportunity_id", sa.UUID(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_lead")),
        schema=S,
    )
    op.create_index("ix_sales_lead_owner_status", "sales_lead", ["owner_node", "status"], schema=S)
    op.create_index(op.f("ix_sales_lead_owner_node"), "sales_lead", ["owner_node"], schema=S)
    op.create_index(op.f("ix_sales_lead_customer_id"), "sales_lead", ["customer_id"], schema=S)
    op.create_index(op.f("ix_sales_lead_account_manager"), "sales_lead", ["account_manager"], schema=S)


def downgrade() -> None:
    op.drop_table("sales_lead", schema=S)
