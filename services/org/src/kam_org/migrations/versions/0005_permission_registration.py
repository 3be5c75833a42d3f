"""The permission registry: what each service's spec last registered (kam_org.registry).

The catalogue and grants that 0001-0003 wrote for org, customer and sync are recorded as each service's
baseline (digest ""), so the first registration from the specs adds only what the specs add beyond
them and never re-grants what an administrator has removed since.

Revision ID: 0005
Revises: 0004
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# what 0001, 0002 and 0003 granted, by the service whose permissions they are (frozen here)
BASELINE: dict[str, dict[str, list[str]]] = {
    "org": {
        "sys_admin": [
            "org.node:read",
            "org.staff:read",
            "org.staff:write",
            "org.role:read",
            "org.role:write",
            "org.team:read",
            "org.team:write",
        ],
        "security_admin": ["org.security:admin", "org.role:read", "org.role:write", "org.node:read"],
        "ka_dept_manager": ["org.node:read", "org.staff:read", "org.team:read"],
        "account_manager": ["org.node:read"],
        "service_agent": ["org.node:read"],
        "analyst": ["org.node:read"],
        "auditor": ["org.node:read", "org.staff:read", "org.role:read"],
    },
    "customer": {
        "sys_admin": ["customer:read", "customer.history:read"],
        "ka_dept_manager": [
            "customer:read",
            "customer:create",
            "customer:update",
            "customer:delete",
            "customer:import",
            "customer:export",
            "customer:transfer",
            "customer.pii:read",
            "customer.history:read",
            "customer.designation:write",
            "customer.designation:respond",
        ],
        "account_manager": [
            "customer:read",
            "customer:create",
            "customer:update",
            "customer:export",
            "customer:import",
            "customer.pii:read",
            "customer.history:read",
            "customer.designation:respond",
        ],
        "service_agent": ["customer:read", "customer.history:read"],
        "analyst": ["customer:read", "customer:export"],
        "auditor": ["customer:read", "customer.history:read"],
    },
    "sync": {
        "sys_admin": ["sync:read", "sync:admin"],
        "ka_dept_manager": ["sync:read"],
        "analyst": ["sync:read"],
        "auditor": ["sync:read"],
    },
}
PREFIXES = {"org": ("org.",), "customer": ("customer:", "customer."), "sync": ("sync:",)}


def upgrade() -> None:
    op.create_table(
        "permission_registration",
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("permissions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("grants", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("service", name=op.f("pk_permission_registration")),
        schema="org",
    )
    conn = op.get_bind()
    catalogue = dict(conn.execute(sa.text("SELECT code, description FROM org.permission")).all())
    for service, grants in BASELINE.items():
        owned = {c: d for c, d in catalogue.items() if c.startswith(PREFIXES[service])}
        conn.execute(
            sa.text(
                "INSERT INTO org.permission_registration (service, digest, permissions, grants, version)"
                " VALUES (:s, '', CAST(:p AS jsonb), CAST(:g AS jsonb), 0)"
            ),
            {"s": service, "p": json.dumps(owned, ensure_ascii=False), "g": json.dumps(grants)},
        )


def downgrade() -> None:
    op.drop_table("permission_registration", schema="org")
