"""Org records replicate up the tree (issue 8 §2): the inbox and dead letters of org's apply
consumers; staff password hashes nullable (a replica of another node's staff holds none, so it cannot
log in); no foreign keys between aggregates (a replica applies org units, staff and teams each on its
own, in arrival order — the owner's service checks the references).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, constraint, column, referred table, ondelete) dropped here, restored by the downgrade
CROSS_AGGREGATE_FKS = (
    ("org_unit", "fk_org_unit_parent_id_org_unit", "parent_id", "org_unit", "RESTRICT"),
    ("staff", "fk_staff_org_unit_id_org_unit", "org_unit_id", "org_unit", "RESTRICT"),
    ("team", "fk_team_leader_id_staff", "leader_id", "staff", "RESTRICT"),
    ("team", "fk_team_org_unit_id_org_unit", "org_unit_id", "org_unit", "RESTRICT"),
    ("team_member", "fk_team_member_staff_id_staff", "staff_id", "staff", "CASCADE"),
)


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_inbox")),
        schema="org",
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("stream_seq", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=True),
        sa.Column("origin_node", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
        schema="org",
    )
    op.alter_column("staff", "password_hash", existing_type=sa.String(length=255), nullable=True, schema="org")
    for table, name, _column, _referred, _ondelete in CROSS_AGGREGATE_FKS:
        op.drop_constraint(name, table, type_="foreignkey", schema="org")


def downgrade() -> None:
    # replicas of other nodes' staff go (they hold no hash); restoring a foreign key fails loudly if a
    # replicated unit or team still points at a record this node lacks
    op.execute("DELETE FROM org.staff WHERE password_hash IS NULL")
    for table, name, column, referred, ondelete in CROSS_AGGREGATE_FKS:
        op.create_foreign_key(
            name, table, referred, [column], ["id"], source_schema="org", referent_schema="org", ondelete=ondelete
        )
    op.alter_column("staff", "password_hash", existing_type=sa.String(length=255), nullable=False, schema="org")
    op.drop_table("dead_letter", schema="org")
    op.drop_table("inbox", schema="org")
