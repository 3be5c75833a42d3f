"""recognition: candidates (候选), the monthly spend they are judged on, the schedule

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "customer"


def upgrade() -> None:
    op.create_table(
        "monthly_spend",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.customer.id"], name=op.f("fk_monthly_spend_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("customer_id", "month", name=op.f("pk_monthly_spend")),
        schema=S,
    )
    op.create_table(
        "recognition_candidate",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("customer_code", sa.String(length=32), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("current_grade", sa.String(length=4), nullable=False),
        sa.Column("current_status", sa.String(length=16), nullable=False),
        sa.Column("proposed_grade", sa.String(length=4), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rule_set_id", sa.UUID(), nullable=False),
        sa.Column("rule_version", sa.BigInteger(), nullable=False),
        sa.Column("rule_owner_node", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.String(length=128), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.customer.id"], name=op.f("fk_recognition_candidate_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_candidate")),
        schema=S,
    )
    for col in ("customer_id", "owner_node", "run_id"):
        op.create_index(op.f(f"ix_recognition_candidate_{col}"), "recognition_candidate", [col], unique=False, schema=S)
    op.create_index(
        "uq_recognition_candidate_customer_id_open",
        "recognition_candidate",
        ["customer_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status = 'PROPOSED'"),
    )

    op.create_table(
        "recognition_schedule",
        sa.Column("node", sa.String(length=32), nullable=False),
        sa.Column("interval_days", sa.BigInteger(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("run_as", sa.String(length=128), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_id", sa.UUID(), nullable=True),
        sa.Column("last_result", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_recognition_schedule")),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("recognition_schedule", schema=S)
    op.drop_table("recognition_candidate", schema=S)
    op.drop_table("monthly_spend", schema=S)
