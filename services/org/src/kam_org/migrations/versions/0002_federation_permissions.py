"""Federation and national-list permissions: sync:read, sync:admin, customer.designation:write,
customer.designation:respond.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERMISSIONS = {
    "sync:read": "Read replication status (同步状态查询)",
    "sync:admin": "Request a resync of the node (同步重建)",
    "customer.designation:write": "Designate national key accounts (全国大客户名录下发)",
    "customer.designation:respond": "Acknowledge or dispute a designation, assign its account manager (名录确认)",
}

GRANTS = {
    "sys_admin": ["sync:read", "sync:admin"],
    "ka_dept_manager": ["sync:read", "customer.designation:write", "customer.designation:respond"],
    "account_manager": ["customer.designation:respond"],
    "analyst": ["sync:read"],
    "auditor": ["sync:read"],
}


def upgrade() -> None:
    conn = op.get_bind()
    for code, description in PERMISSIONS.items():
        conn.execute(
            sa.text("INSERT INTO org.permission (code, description) VALUES (:c, :d) ON CONFLICT DO NOTHING"),
            {"c": code, "d": description},
        )
    for role, perms in GRANTS.items():
        for perm in perms:
            conn.execute(
                sa.text(
                    "INSERT INTO org.role_permission (role_id, permission_code) "
                    "SELECT id, :p FROM org.role WHERE code = :r ON CONFLICT DO NOTHING"
                ),
                {"p": perm, "r": role},
            )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM org.role_permission WHERE permission_code = ANY(:c)"), {"c": list(PERMISSIONS)})
    conn.execute(sa.text("DELETE FROM org.permission WHERE code = ANY(:c)"), {"c": list(PERMISSIONS)})
