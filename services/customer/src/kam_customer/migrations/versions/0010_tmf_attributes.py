"""TMF conformance (issue 10): standard TMF attributes without a column of their own are kept in one
JSONB column per table; a contact may exist before its customer; every organization has its tradingName

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "customer"
TABLES = ("customer", "organization", "contact")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                "tmf_attributes",
                postgresql.JSONB(astext_type=sa.Text()),
                server_default=sa.text("'{}'::jsonb"),
                nullable=False,
            ),
            schema=S,
        )
    op.create_index(
        "ix_organization_tmf_attributes",
        "organization",
        ["tmf_attributes"],
        unique=False,
        schema=S,
        postgresql_using="gin",
        postgresql_ops={"tmf_attributes": "jsonb_path_ops"},
    )
    # TMF632 Individual needs only givenName and familyName: a contact may be linked to its key account later
    op.alter_column("contact", "customer_id", existing_type=sa.UUID(), nullable=True, schema=S)
    # data migration: the seed, a customer POST and the import wrote organizations without their
    # tradingName (TMF632's one mandatory attribute); the registered name is the trading name we know
    op.execute(f"UPDATE {S}.organization SET trading_name = name WHERE trading_name IS NULL")
    op.alter_column("organization", "trading_name", existing_type=sa.String(length=200), nullable=False, schema=S)


def downgrade() -> None:
    op.alter_column("organization", "trading_name", existing_type=sa.String(length=200), nullable=True, schema=S)
    op.execute(f"DELETE FROM {S}.contact WHERE customer_id IS NULL")
    op.alter_column("contact", "customer_id", existing_type=sa.UUID(), nullable=False, schema=S)
    op.drop_index("ix_organization_tmf_attributes", table_name="organization", schema=S)
    for table in reversed(TABLES):
        op.drop_column(table, "tmf_attributes", schema=S)
