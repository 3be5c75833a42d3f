"""the customer-service system (10000) adapter: service numbers, outbound queue, inbound record,
surveys without a ticket, daily reconciliation

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:00:00

Outbound messages are a durable queue (at least once, idempotency key = the envelope's msg_id); inbound
messages are recorded by msg_id with the answer given, so a repeat is answered the same (docs/adapters.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "service"


def upgrade() -> None:
    op.create_table(
        "cs_service_number",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("customer_code", sa.String(length=32), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("account_manager", sa.String(length=64), nullable=True),
        sa.Column("priority_routing", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cs_service_number")),
        schema=S,
    )
    op.create_index("uq_cs_service_number_number", "cs_service_number", ["number"], unique=True, schema=S)
    op.create_index("ix_cs_service_number_customer_id", "cs_service_number", ["customer_id"], schema=S)
    op.create_index(op.f("ix_cs_service_number_owner_node"), "cs_service_number", ["owner_node"], schema=S)
    op.create_index(op.f("ix_cs_service_number_customer_code"), "cs_service_number", ["customer_code"], schema=S)

    op.create_table(
        "cs_outbound",
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("msg_type", sa.String(length=32), nullable=False),
        sa.Column("order_key", sa.String(length=100), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_code", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_cs_outbound")),
        schema=S,
    )
    op.create_index("uq_cs_outbound_idempotency_key", "cs_outbound", ["idempotency_key"], unique=True, schema=S)
    op.create_index(
        "ix_cs_outbound_due",
        "cs_outbound",
        ["next_attempt_at"],
        schema=S,
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_index(
        "ix_cs_outbound_order",
        "cs_outbound",
        ["order_key", "seq"],
        schema=S,
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.create_index("ix_cs_outbound_created_at", "cs_outbound", ["created_at"], schema=S)

    op.create_table(
        "cs_inbound",
        sa.Column("msg_id", sa.String(length=200), nullable=False),
        sa.Column("msg_type", sa.String(length=32), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("msg_id", name=op.f("pk_cs_inbound")),
        schema=S,
    )
    op.create_index(op.f("ix_cs_inbound_received_at"), "cs_inbound", ["received_at"], schema=S)

    op.create_table(
        "cs_survey",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_code", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("msg_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cs_survey")),
        schema=S,
    )
    op.create_index(op.f("ix_cs_survey_customer_code"), "cs_survey", ["customer_code"], schema=S)

    op.create_table(
        "cs_reconciliation",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("acked", sa.Integer(), nullable=False),
        sa.Column("mismatches", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_cs_reconciliation")),
        schema=S,
    )


def downgrade() -> None:
    for table in ("cs_reconciliation", "cs_survey", "cs_inbound", "cs_outbound", "cs_service_number"):
        op.drop_table(table, schema=S)
