"""A one-time password: staff.must_change_password (a node's bootstrap administrator, `kam admin create`).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "staff",
        sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False),
        schema="org",
    )


def downgrade() -> None:
    op.drop_column("staff", "must_change_password", schema="org")
