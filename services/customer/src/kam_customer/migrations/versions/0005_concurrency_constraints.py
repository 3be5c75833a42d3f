"""Concurrency constraints: one ACTIVE designation per customer, one answer per node to a designation.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Races before this revision left some customers with several ACTIVE designations. Keep the first
    # one and withdraw the rest, deterministically, so every node (owner and replicas, each migrating
    # its own database) ends with the same rows and versions.
    op.execute(
        """
        UPDATE customer.designation d
           SET status = 'WITHDRAWN', version = d.version + 1,
               note = left(coalesce(d.note || ' ', '') || '[duplicate ACTIVE designation withdrawn]', 500)
          FROM (SELECT id, row_number() OVER (PARTITION BY customer_id ORDER BY created_at, id) AS n
                  FROM customer.designation WHERE status = 'ACTIVE') dup
         WHERE d.id = dup.id AND dup.n > 1
        """
    )
    op.create_index(
        "uq_designation_customer_id_active",
        "designation",
        ["customer_id"],
        unique=True,
        schema="customer",
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    # response ids are uuid5(designation, node), so one row per pair already; the index states it
    op.create_index(
        "uq_designation_response_designation_id_owner_node",
        "designation_response",
        ["designation_id", "owner_node"],
        unique=True,
        schema="customer",
    )


def downgrade() -> None:
    op.drop_index("uq_designation_response_designation_id_owner_node", "designation_response", schema="customer")
    op.drop_index("uq_designation_customer_id_active", "designation", schema="customer")
