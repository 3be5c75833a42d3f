"""The notification inbox (消息中心): service.notification, node-local (docs/notifications.md)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 06:00:00

One row per notification a job delivered, to a user or to a role at the node; the unique dedupe key is
what makes a job that runs twice (or after a restart) deliver once. The columns are the platform's
(kam_platform.notify.NotificationMixin).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("recipient_user", sa.String(length=128), nullable=True),
        sa.Column("recipient_role", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("subject_type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_dedupe_key")),
        schema="service",
    )
    op.create_index(
        "ix_notification_user", "notification", ["owner_node", "recipient_user", "created_at"], schema="service"
    )
    op.create_index(
        "ix_notification_role", "notification", ["owner_node", "recipient_role", "created_at"], schema="service"
    )


def downgrade() -> None:
    op.drop_table("notification", schema="service")
