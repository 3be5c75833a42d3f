"""F1 key-account data management (issue 14): needs profiles, competitor presence, the decision map
(contact relations), province verification, duplicate candidates and merges; the normalised name the
duplicate search looks up (customer.name_key, indexed)

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# full-width forms (U+FF01..U+FF5E, the ideographic space) → their ASCII twins
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALF = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "
_PUNCT = "[[:space:][:punct:]（）【】《》「」『』〔〕、，。；：！？·—…“”‘’]"
# legal forms anywhere (有限公司 …), and branch words at the end (分公司, 支行, 营业部 …)
_LEGAL = "(股份有限公司|有限责任公司|有限公司|股份公司|公司$)"
_BRANCH = "(分公司|子公司|分行|支行|营业部|营业厅|办事处|分部|分店|分局|分中心)+$"


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# text_key: width, case and punctuation folded (addresses); name_key: also without legal form and
# branch words (names). IMMUTABLE so that an expression index can hold them.
NAME_KEY_FUNCTIONS = (
    f"""
CREATE FUNCTION customer.text_key(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT regexp_replace(lower(translate(t, {_lit(_FULL)}, {_lit(_HALF)})), {_lit(_PUNCT)}, '', 'g')
$$
""",
    f"""
CREATE FUNCTION customer.name_key(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT regexp_replace(regexp_replace(regexp_replace(customer.text_key(t),
    {_lit(_BRANCH)}, ''), {_lit(_LEGAL)}, '', 'g'), {_lit(_BRANCH)}, '')
$$
""",
)


def upgrade() -> None:
    op.create_table(
        "competitor_presence",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("competitor", sa.String(length=100), nullable=False),
        sa.Column("products_held", postgresql.ARRAY(sa.String(length=200)), nullable=False),
        sa.Column("offers", sa.Text(), nullable=True),
        sa.Column("contract_end", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitor_presence")),
        schema="customer",
    )
    op.create_index(
        "ix_competitor_presence_competitor_contract_end",
        "competitor_presence",
        ["competitor", "contract_end"],
        unique=False,
        schema="customer",
    )
    op.create_index(
        op.f("ix_competitor_presence_customer_id"),
        "competitor_presence",
        ["customer_id"],
        unique=False,
        schema="customer",
    )
    op.create_index(
        op.f("ix_competitor_presence_owner_node"),
        "competitor_presence",
        ["owner_node"],
        unique=False,
        schema="customer",
    )
    op.create_table(
        "contact_relation",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("from_contact_id", sa.UUID(), nullable=False),
        sa.Column("to_contact_id", sa.UUID(), nullable=False),
        sa.Column("relation_type", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("from_contact_id <> to_contact_id", name=op.f("ck_contact_relation_not_self")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_relation")),
        schema="customer",
    )
    op.create_index(
        op.f("ix_contact_relation_customer_id"), "contact_relation", ["customer_id"], unique=False, schema="customer"
    )
    op.create_index(
        op.f("ix_contact_relation_owner_node"), "contact_relation", ["owner_node"], unique=False, schema="customer"
    )
    op.create_index(
        "uq_contact_relation_from_to_type_live",
        "contact_relation",
        ["from_contact_id", "to_contact_id", "relation_type"],
        unique=True,
        schema="customer",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "customer_merge",
        sa.Column("survivor_id", sa.UUID(), nullable=False),
        sa.Column("victim_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("choices", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("undo", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("merged_by", sa.String(length=128), nullable=False),
        sa.Column("reversible_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_merge")),
        schema="customer",
    )
    op.create_index(
        op.f("ix_customer_merge_owner_node"), "customer_merge", ["owner_node"], unique=False, schema="customer"
    )
    op.create_index(
        op.f("ix_customer_merge_survivor_id"), "customer_merge", ["survivor_id"], unique=False, schema="customer"
    )
    op.create_index(
        "ix_customer_merge_victim_ids",
        "customer_merge",
        ["victim_ids"],
        unique=False,
        schema="customer",
        postgresql_using="gin",
    )
    op.create_table(
        "customer_verification",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("customer_owner_node", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("verified_by", sa.String(length=128), nullable=False),
        sa.Column("customer_version", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_verification")),
        schema="customer",
    )
    op.create_index(
        op.f("ix_customer_verification_customer_id"),
        "customer_verification",
        ["customer_id"],
        unique=True,
        schema="customer",
    )
    op.create_index(
        op.f("ix_customer_verification_owner_node"),
        "customer_verification",
        ["owner_node"],
        unique=False,
        schema="customer",
    )
    op.create_table(
        "duplicate_candidate",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_a", sa.UUID(), nullable=False),
        sa.Column("customer_b", sa.UUID(), nullable=False),
        sa.Column("owner_a", sa.String(length=32), nullable=False),
        sa.Column("owner_b", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_candidate")),
        schema="customer",
    )
    op.create_index(
        op.f("ix_duplicate_candidate_customer_b"),
        "duplicate_candidate",
        ["customer_b"],
        unique=False,
        schema="customer",
    )
    op.create_index(
        "uq_duplicate_candidate_pair",
        "duplicate_candidate",
        ["customer_a", "customer_b"],
        unique=True,
        schema="customer",
    )
    op.create_table(
        "needs_profile",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("network_situation", sa.Text(), nullable=True),
        sa.Column("business_situation", sa.Text(), nullable=True),
        sa.Column("tech_innovation_goals", sa.Text(), nullable=True),
        sa.Column("current_product_usage", sa.Text(), nullable=True),
        sa.Column("decision_process", sa.Text(), nullable=True),
        sa.Column("latent_needs", sa.Text(), nullable=True),
        sa.Column("business_scope", sa.Text(), nullable=True),
        sa.Column("customers_of_customer", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs_profile")),
        schema="customer",
    )
    op.create_index(
        op.f("ix_needs_profile_customer_id"), "needs_profile", ["customer_id"], unique=True, schema="customer"
    )
    op.create_index(
        op.f("ix_needs_profile_owner_node"), "needs_profile", ["owner_node"], unique=False, schema="customer"
    )
    for statement in NAME_KEY_FUNCTIONS:
        op.execute(statement)
    op.create_index(
        "ix_customer_name_key",
        "customer",
        [sa.literal_column("customer.name_key(name)")],
        unique=False,
        schema="customer",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_customer_name_key", table_name="customer", schema="customer", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_index(op.f("ix_needs_profile_owner_node"), table_name="needs_profile", schema="customer")
    op.drop_index(op.f("ix_needs_profile_customer_id"), table_name="needs_profile", schema="customer")
    op.drop_table("needs_profile", schema="customer")
    op.drop_index("uq_duplicate_candidate_pair", table_name="duplicate_candidate", schema="customer")
    op.drop_index(op.f("ix_duplicate_candidate_customer_b"), table_name="duplicate_candidate", schema="customer")
    op.drop_table("duplicate_candidate", schema="customer")
    op.drop_index(op.f("ix_customer_verification_owner_node"), table_name="customer_verification", schema="customer")
    op.drop_index(op.f("ix_customer_verification_customer_id"), table_name="customer_verification", schema="customer")
    op.drop_table("customer_verification", schema="customer")
    op.drop_index(
        "ix_customer_merge_victim_ids", table_name="customer_merge", schema="customer", postgresql_using="gin"
    )
    op.drop_index(op.f("ix_customer_merge_survivor_id"), table_name="customer_merge", schema="customer")
    op.drop_index(op.f("ix_customer_merge_owner_node"), table_name="customer_merge", schema="customer")
    op.drop_table("customer_merge", schema="customer")
    op.drop_index(
        "uq_contact_relation_from_to_type_live",
        table_name="contact_relation",
        schema="customer",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(op.f("ix_contact_relation_owner_node"), table_name="contact_relation", schema="customer")
    op.drop_index(op.f("ix_contact_relation_customer_id"), table_name="contact_relation", schema="customer")
    op.drop_table("contact_relation", schema="customer")
    op.drop_index(op.f("ix_competitor_presence_owner_node"), table_name="competitor_presence", schema="customer")
    op.drop_index(op.f("ix_competitor_presence_customer_id"), table_name="competitor_presence", schema="customer")
    op.drop_index("ix_competitor_presence_competitor_contract_end", table_name="competitor_presence", schema="customer")
    op.drop_table("competitor_presence", schema="customer")
    op.execute("DROP FUNCTION customer.name_key(text)")
    op.execute("DROP FUNCTION customer.text_key(text)")
