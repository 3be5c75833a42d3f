"""initial rules schema: rule sets, their versions, audit, outbox, inbox, dead letters

Revision ID: 0001
Revises:
Create Date: 2026-12-02 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "rules"


def upgrade() -> None:
    op.create_table(
        "rule_set",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope_node", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("bounds", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("based_on", sa.UUID(), nullable=True),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("approver", sa.String(length=128), nullable=True),
        sa.Column("publisher", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_set")),
        schema=S,
    )
    op.create_index("ix_rule_set_kind_status", "rule_set", ["kind", "status"], unique=False, schema=S)
    op.create_index(op.f("ix_rule_set_owner_node"), "rule_set", ["owner_node"], unique=False, schema=S)
    op.create_table(
        "rule_set_version",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("rule_set_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_set_version")),
        sa.UniqueConstraint("rule_set_id", "version", name=op.f("uq_rule_set_version_rule_set_id_version")),
        schema=S,
    )
    op.create_index(
        op.f("ix_rule_set_version_rule_set_id"), "rule_set_version", ["rule_set_id"], unique=False, schema=S
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
        schema=S,
    )
    op.create_index(op.f("ix_audit_entity_id"), "audit", ["entity_id"], unique=False, schema=S)
    op.create_table(
        "outbox",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        schema=S,
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"], unique=False, schema=S)
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["created_at"],
        unique=False,
        schema=S,
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_inbox")),
        schema=S,
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("stream_seq", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=True),
        sa.Column("origin_node", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
        schema=S,
    )


def downgrade() -> None:
    for table in ("dead_letter", "inbox", "outbox", "audit", "rule_set_version", "rule_set"):
        op.drop_table(table, schema=S)
