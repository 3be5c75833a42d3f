"""knowledge base (items, revisions, contributions) and ticket dispatch across the tree

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 05:00:00

Knowledge search is by 2-character pieces (bigrams) of the lower-cased text, as the customer service's
name search (customer migration 0003): the embedded PostgreSQL carries no Chinese tokenizer (zhparser,
pg_jieba), and a text contains a term exactly when it contains every bigram of it (docs/service.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION service.text_bigrams(body text) RETURNS text[] "
        "LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "DECLARE result text[] := '{}'; "
        "BEGIN FOR i IN 1 .. char_length(body) - 1 LOOP "
        "IF substr(body, i, 2) !~ '\\s' THEN result := result || substr(body, i, 2); END IF; END LOOP; "
        "RETURN result; END $$"
    )
    op.add_column("trouble_ticket", sa.Column("dispatch_id", sa.UUID(), nullable=True), schema="service")
    op.add_column(
        "trouble_ticket", sa.Column("reported_at_node", sa.String(length=32), nullable=True), schema="service"
    )
    op.add_column("trouble_ticket", sa.Column("dispatched_to", sa.String(length=32), nullable=True), schema="service")
    op.add_column("trouble_ticket", sa.Column("handler_ticket_id", sa.UUID(), nullable=True), schema="service")
    op.add_column(
        "trouble_ticket",
        sa.Column("handler_version", sa.BigInteger(), server_default="0", nullable=False),
        schema="service",
    )
    op.create_unique_constraint(
        op.f("uq_trouble_ticket_dispatch_id"), "trouble_ticket", ["dispatch_id"], schema="service"
    )
    op.create_index(
        op.f("ix_trouble_ticket_handler_ticket_id"), "trouble_ticket", ["handler_ticket_id"], schema="service"
    )
    op.create_table(
        "ticket_dispatch",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("target_node", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("ticket", sa.LargeBinary(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_dispatch")),
        schema="service",
    )
    for col in ("owner_node", "ticket_id", "target_node"):
        op.create_index(op.f(f"ix_ticket_dispatch_{col}"), "ticket_dispatch", [col], schema="service")
    op.create_table(
        "knowledge_item",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_contribution_id", sa.UUID(), nullable=True),
        sa.Column("contributed_by_node", sa.String(length=32), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_item")),
        schema="service",
    )
    for col in ("owner_node", "status", "source_contribution_id"):
        op.create_index(op.f(f"ix_knowledge_item_{col}"), "knowledge_item", [col], schema="service")
    op.create_index(
        "ix_knowledge_item_search_bigrams",
        "knowledge_item",
        [sa.text("service.text_bigrams(search_text)")],
        schema="service",
        postgresql_using="gin",
    )
    op.create_index("ix_knowledge_item_tags", "knowledge_item", ["tags"], schema="service", postgresql_using="gin")
    op.create_table(
        "knowledge_revision",
        sa.Column("item_id", sa.UUID(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "revision", name=op.f("pk_knowledge_revision")),
        schema="service",
    )
    op.create_table(
        "knowledge_contribution",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("reviewing_node", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_contribution")),
        schema="service",
    )
    for col in ("owner_node", "reviewing_node"):
        op.create_index(op.f(f"ix_knowledge_contribution_{col}"), "knowledge_contribution", [col], schema="service")


def downgrade() -> None:
    op.drop_table("knowledge_contribution", schema="service")
    op.drop_table("knowledge_revision", schema="service")
    op.drop_table("knowledge_item", schema="service")
    op.drop_table("ticket_dispatch", schema="service")
    op.drop_index(op.f("ix_trouble_ticket_handler_ticket_id"), table_name="trouble_ticket", schema="service")
    op.drop_constraint(op.f("uq_trouble_ticket_dispatch_id"), "trouble_ticket", schema="service")
    for col in ("handler_version", "handler_ticket_id", "dispatched_to", "reported_at_node", "dispatch_id"):
        op.drop_column("trouble_ticket", col, schema="service")
    op.execute("DROP FUNCTION service.text_bigrams(text)")
