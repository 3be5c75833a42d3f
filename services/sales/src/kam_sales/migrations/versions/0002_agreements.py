"""agreements (contracts, TMF651) and their expiry reminders

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "sales"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agreement",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("agreement_version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signed_date", sa.Date(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(16, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("opportunity_id", sa.UUID(), nullable=True),
        sa.Column("quote_id", sa.String(length=64), nullable=True),
        sa.Column("sla_reference", sa.String(length=200), nullable=True),
        sa.Column("renewal_status", sa.String(length=16), nullable=False),
        sa.Column("previous_id", sa.UUID(), nullable=True),
        sa.Column("renewed_by_id", sa.UUID(), nullable=True),
        sa.Column("account_manager", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement")),
        sa.UniqueConstraint(
            "owner_node", "number", "agreement_version", name=op.f("uq_agreement_owner_node_number_agreement_version")
        ),
        schema=S,
    )
    op.create_index("ix_agreement_owner_status_end", "agreement", ["owner_node", "status", "end_date"], schema=S)
    op.create_index(op.f("ix_agreement_owner_node"), "agreement", ["owner_node"], schema=S)
    op.create_index(op.f("ix_agreement_customer_id"), "agreement", ["customer_id"], schema=S)
    op.create_table(
        "agreement_reminder",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("agreement_id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("account_manager", sa.String(length=128), nullable=False),
        sa.Column("rule", sa.String(length=80), nullable=False),
        sa.Column("reminded_at", TZ, nullable=False),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_reminder")),
        sa.UniqueConstraint("agreement_id", "offset_days", name=op.f("uq_agreement_reminder_agreement_id_offset_days")),
        schema=S,
    )
    op.create_index(op.f("ix_agreement_reminder_owner_node"), "agreement_reminder", ["owner_node"], schema=S)
    op.create_index(op.f("ix_agreement_reminder_account_manager"), "agreement_reminder", ["account_manager"], schema=S)


def downgrade() -> None:
    op.drop_table("agreement_reminder", schema=S)
    op.drop_table("agreement", schema=S)
