"""The set-based apply of replicated assignment history (`replication/batch.py: apply_assignments`, issue
13) is driven by the batch's own records, never by a scan of the table's open records: it must leave
exactly what the statements before it left (kept here as the reference), batch after batch — records of
one customer several in a batch and out of order, records held already (a redelivery under another
event), a customer's open records closed by later ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from kam_customer.main import MIGRATIONS
from kam_customer.models import SCHEMA
from kam_customer.replication import batch
from kam_platform.db import create_database
from kam_platform.db.driver import driver_connection
from kam_platform.ids import uuid7

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def reference_apply(session: AsyncSession, items: Sequence[tuple[Any, ...]]) -> None:
    """`apply_assignments` as it was before (issue 13, fourth pass): its UPDATE scanned every open record."""
    if not items:
        return
    records = {r[0]: r for r in items}
    conn = await driver_connection(session)
    stage = await batch._copy(conn, "account_manager_assignment", batch.ASSIGNMENT_COLUMNS, list(records.values()))
    cols = ", ".join(batch.ASSIGNMENT_COLUMNS)
    await conn.execute(
        f"""
        WITH fresh AS (
            INSERT INTO {SCHEMA}.account_manager_assignment ({cols}) SELECT {cols} FROM {stage}
            ON CONFLICT DO NOTHING RETURNING customer_id, valid_from
        )
        UPDATE {SCHEMA}.account_manager_assignment a
        SET valid_to = (SELECT min(f.valid_from) FROM fresh f WHERE f.customer_id = a.customer_id
                        AND f.valid_from > a.valid_from)
        WHERE a.valid_to IS NULL
          AND EXISTS (SELECT 1 FROM fresh f WHERE f.customer_id = a.customer_id AND f.valid_from > a.valid_from)
        """
    )
    await conn.execute(
        f"""
        UPDATE {SCHEMA}.account_manager_assignment a
        SET valid_to = (SELECT min(s.valid_from) FROM {stage} s WHERE s.customer_id = a.customer_id
                        AND s.valid_from > a.valid_from)
        WHERE a.valid_to IS NULL AND a.id IN (SELECT id FROM {stage})
          AND EXISTS (SELECT 1 FROM {stage} s WHERE s.customer_id = a.customer_id AND s.valid_from > a.valid_from)
        """
    )


def record(rid: Any, customer: Any, hours: int, manager: str) -> tuple[Any, ...]:
    return (rid, "gd-gz", customer, manager, None, None, "bench", T0 + timedelta(hours=hours), "import")


def scenario() -> list[list[tuple[Any, ...]]]:
    c = [uuid7() for _ in range(6)]
    a1, a2, a3, b0, b1, b2, d1, e1, e2, f1, f2, g1, g2, g3 = (uuid7() for _ in range(14))
    return [
        # first records of their customers, one of them twice in the batch (one id: kept once)
        [
            record(a1, c[0], 1, "am01"),
            record(b1, c[1], 1, "am01"),
            record(d1, c[2], 1, "am01"),
            record(d1, c[2], 1, "am01"),
        ],
        # several of one customer in a batch, out of order, after one held; a customer's later record
        # arriving before its earlier one (f2 before f1)
        [
            record(a3, c[0], 3, "am03"),
            record(a2, c[0], 2, "am02"),
            record(e1, c[3], 1, "am01"),
            record(f2, c[4], 2, "am02"),
        ],
        # held records again beside new ones: b1 (held, open) closed by b2; e1 (held, open) by e2; a2 held and
        # closed; an earlier record of a customer than the one held (b0); f1 after f2
        [
            record(b1, c[1], 1, "am01"),
            record(b2, c[1], 2, "am02"),
            record(e1, c[3], 1, "am01"),
            record(e2, c[3], 4, "am04"),
            record(a2, c[0], 2, "am02"),
            record(b0, c[1], 0, "am00"),
            record(f1, c[4], 1, "am01"),
        ],
        # only held records (nothing inserted): f1 still open while f2 is held, both again; three of one
        # new customer in one batch, two of them at one time
        [record(f1, c[4], 1, "am01"), record(f2, c[4], 2, "am02"), record(a1, c[0], 1, "am01")],
        [record(g1, c[5], 1, "am01"), record(g2, c[5], 2, "am02"), record(g3, c[5], 2, "am03")],
        [],
    ]


async def _history(url: str, batches: list[list[tuple[Any, ...]]], apply: Any) -> list[Any]:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {SCHEMA}.account_manager_assignment"))
    await engine.dispose()
    db = create_database(url)
    try:
        for items in batches:
            async with db.sessionmaker() as session, session.begin():
                await apply(session, items)
        async with db.sessionmaker() as session:
            rows = await session.execute(
                text(
                    f"SELECT id, customer_id, account_manager, valid_from, valid_to "
                    f"FROM {SCHEMA}.account_manager_assignment ORDER BY id"
                )
            )
            return [tuple(r) for r in rows]
    finally:
        await db.dispose()


async def test_assignment_history_applied_by_the_batchs_records_equals_the_scan_it_replaced(make_database: Any) -> None:
    batches = scenario()
    url = make_database("test_customer_apply_assignments", [MIGRATIONS])
    got = await _history(url, batches, batch.apply_assignments)
    expected = await _history(url, batches, reference_apply)
    assert got == expected
    assert len(got) == 14
    closed = {r[2] for r in got if r[4] is not None}
    # a1 by a2, a2 by a3, b1 by b2 and b0 by b1 (in one batch), e1 by e2, f1 by f2 (held: the statement
    # for held records), g1 by g2 and g3
    assert len([r for r in got if r[4] is not None]) == 7 and "am04" not in closed


async def test_a_record_arriving_after_a_later_one_of_its_customer_ends_where_that_one_begins(
    make_database: Any,
) -> None:
    """Assignments are aggregates of their own, so a customer's later record may be applied in an earlier
    batch: the earlier one, inserted after it, is closed at the later one's start (as the row-by-row
    applier closes it), and the later one stays the open one."""
    customer, earlier, later, other = uuid7(), uuid7(), uuid7(), uuid7()
    batches = [
        [record(later, customer, 5, "am05")],
        # with another customer's first record beside it, which nothing closes
        [record(earlier, customer, 2, "am02"), record(other, uuid7(), 1, "am01")],
    ]
    url = make_database("test_customer_apply_assignments_late", [MIGRATIONS])
    got = {r[0]: r for r in await _history(url, batches, batch.apply_assignments)}
    assert got[earlier][4] == T0 + timedelta(hours=5)
    assert got[later][4] is None and got[other][4] is None
