"""Login throttle and separation of duties: failed logins per user and address; the permissions
org.security:admin (may grant PII and security permissions) and customer.hub:admin, and a
security_admin role holding the former.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERMISSIONS = {
    "org.security:admin": "Grant PII and security permissions to roles (安全管理员授权)",
    "customer.hub:admin": "Remove any TMF /hub listener in scope (事件订阅管理)",
}


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_login_throttle")),
        schema="org",
    )
    conn = op.get_bind()
    for code, description in PERMISSIONS.items():
        conn.execute(
            sa.text("INSERT INTO org.permission (code, description) VALUES (:c, :d) ON CONFLICT DO NOTHING"),
            {"c": code, "d": description},
        )
    conn.execute(
        sa.text(
            "INSERT INTO org.role (id, code, name_zh, name_en, description, version) VALUES (gen_random_uuid(),"
            " 'security_admin', '安全管理员', 'Security administrator',"
            " 'Grants PII and security permissions to roles it does not hold (separation of duties)', 1)"
            " ON CONFLICT DO NOTHING"
        )
    )
    for perm in ("org.security:admin", "org.role:read", "org.role:write", "org.node:read"):
        conn.execute(
            sa.text(
                "INSERT INTO org.role_permission (role_id, permission_code) "
                "SELECT id, :p FROM org.role WHERE code = 'security_admin' ON CONFLICT DO NOTHING"
            ),
            {"p": perm},
        )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM org.role WHERE code = 'security_admin'"))
    conn.execute(sa.text("DELETE FROM org.role_permission WHERE permission_code = ANY(:c)"), {"c": list(PERMISSIONS)})
    conn.execute(sa.text("DELETE FROM org.permission WHERE code = ANY(:c)"), {"c": list(PERMISSIONS)})
    op.drop_table("login_throttle", schema="org")
