"""Hub listener safety: the registering user's node, per-listener back-off and lease, and a durable
queue of deliveries per listener (so one slow listener never holds up another).

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("hub_subscription", sa.Column("created_by_node", sa.String(length=32)), schema="customer")
    op.add_column(
        "hub_subscription",
        sa.Column("failure_count", sa.Integer(), server_default="0", nullable=False),
        schema="customer",
    )
    op.add_column("hub_subscription", sa.Column("next_attempt_at", sa.DateTime(timezone=True)), schema="customer")
    op.add_column("hub_subscription", sa.Column("last_error", sa.String(length=500)), schema="customer")
    op.add_column("hub_subscription", sa.Column("lease_until", sa.DateTime(timezone=True)), schema="customer")
    op.create_index(
        op.f("ix_hub_subscription_created_by"), "hub_subscription", ["created_by"], unique=False, schema="customer"
    )
    op.create_table(
        "hub_delivery",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("subscription_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["customer.hub_subscription.id"],
            name=op.f("fk_hub_delivery_subscription_id_hub_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_delivery")),
        sa.UniqueConstraint("subscription_id", "event_id", name=op.f("uq_hub_delivery_subscription_id_event_id")),
        schema="customer",
    )
    op.create_index(
        "ix_hub_delivery_subscription_id_id", "hub_delivery", ["subscription_id", "id"], unique=False, schema="customer"
    )


def downgrade() -> None:
    op.drop_index("ix_hub_delivery_subscription_id_id", table_name="hub_delivery", schema="customer")
    op.drop_table("hub_delivery", schema="customer")
    op.drop_index(op.f("ix_hub_subscription_created_by"), table_name="hub_subscription", schema="customer")
    for column in ("lease_until", "last_error", "next_attempt_at", "failure_count", "created_by_node"):
        op.drop_column("hub_subscription", column, schema="customer")
