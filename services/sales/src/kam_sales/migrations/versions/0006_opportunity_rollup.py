"""The forecast and funnel roll-up of opportunities, kept by triggers on sales.opportunity

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 21:00:00

One row per owner node × account manager × stage × currency × close month (NULL when the deal has no
close date): deals, expected amount, weighted amount (expected × probability / 100, unrounded — the
forecast rounds the sum). Three AFTER … FOR EACH STATEMENT triggers with transition tables subtract
the old rows' contribution and add the new rows', in the writing statement's own transaction: every
path that writes sales.opportunity (the owner's record_change, the replica apply's upsert, a snapshot
repair, a COPY) keeps it, and a rolled-back write leaves it untouched. docs/sales.md, Forecast.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "owner_node, account_manager, stage, currency, close_month"


def _contribution(table: str, sign: str) -> str:
    return (
        f"SELECT owner_node, account_manager, stage, currency, date_trunc('month', close_date)::date AS close_month, "
        f"{sign}1 AS deals, {sign}expected_amount AS amount, {sign}(expected_amount * probability / 100) AS weighted "
        f"FROM {table}"
    )


def _apply(parts: list[str]) -> str:
    """Add the net change of each touched bucket (in key order, so concurrent writers lock buckets in
    one order), then drop the buckets left empty."""
    union = " UNION ALL ".join(parts)
    delta = (
        f"SELECT {KEY}, sum(deals) AS deals, sum(amount) AS amount, sum(weighted) AS weighted "
        f"FROM ({union}) c GROUP BY {KEY} HAVING sum(deals) <> 0 OR sum(amount) <> 0 OR sum(weighted) <> 0"
    )
    return f"""
        INSERT INTO sales.opportunity_rollup AS r ({KEY}, deals, amount, weighted)
        SELECT * FROM ({delta}) d ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE
           SET deals = r.deals + excluded.deals,
               amount = r.amount + excluded.amount,
               weighted = r.weighted + excluded.weighted;
        DELETE FROM sales.opportunity_rollup r
         USING ({union}) c
         WHERE r.deals = 0
           AND r.owner_node = c.owner_node AND r.account_manager = c.account_manager AND r.stage = c.stage
           AND r.currency = c.currency AND r.close_month IS NOT DISTINCT FROM c.close_month;
    """


FUNCTION = f"""
CREATE FUNCTION sales.opportunity_rollup_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_apply([_contribution("new_rows", "")])}
    ELSIF TG_OP = 'UPDATE' THEN
        {_apply([_contribution("new_rows", ""), _contribution("old_rows", "-")])}
    ELSIF TG_OP = 'DELETE' THEN
        {_apply([_contribution("old_rows", "-")])}
    ELSE
        DELETE FROM sales.opportunity_rollup;
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = (
    "CREATE TRIGGER opportunity_rollup_insert AFTER INSERT ON sales.opportunity "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sales.opportunity_rollup_keep()",
    "CREATE TRIGGER opportunity_rollup_update AFTER UPDATE ON sales.opportunity "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION sales.opportunity_rollup_keep()",
    "CREATE TRIGGER opportunity_rollup_delete AFTER DELETE ON sales.opportunity "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sales.opportunity_rollup_keep()",
    "CREATE TRIGGER opportunity_rollup_truncate AFTER TRUNCATE ON sales.opportunity "
    "FOR EACH STATEMENT EXECUTE FUNCTION sales.opportunity_rollup_keep()",
)

BACKFILL = f"""
INSERT INTO sales.opportunity_rollup ({KEY}, deals, amount, weighted)
SELECT {KEY}, sum(deals), sum(amount), sum(weighted) FROM ({_contribution("sales.opportunity", "")}) c
GROUP BY {KEY}
"""


def upgrade() -> None:
    op.create_table(
        "opportunity_rollup",
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("account_manager", sa.String(length=128), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("close_month", sa.Date(), nullable=True),
        sa.Column("deals", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("weighted", sa.Numeric(), nullable=False),
        schema="sales",
    )
    op.create_index(
        "ux_opportunity_rollup_key",
        "opportunity_rollup",
        ["owner_node", "account_manager", "stage", "currency", "close_month"],
        unique=True,
        schema="sales",
        postgresql_nulls_not_distinct=True,
    )
    op.create_index("ix_opportunity_close_date", "opportunity", ["close_date"], unique=False, schema="sales")
    op.execute(FUNCTION)
    # the triggers lock sales.opportunity against writes until this migration commits: the back-fill
    # reads a table no write can change under it, and every write after it goes through the triggers
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.execute(BACKFILL)


def downgrade() -> None:
    for name in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER opportunity_rollup_{name} ON sales.opportunity")
    op.execute("DROP FUNCTION sales.opportunity_rollup_keep()")
    op.drop_index("ix_opportunity_close_date", table_name="opportunity", schema="sales")
    op.drop_index("ux_opportunity_rollup_key", table_name="opportunity_rollup", schema="sales")
    op.drop_table("opportunity_rollup", schema="sales")
