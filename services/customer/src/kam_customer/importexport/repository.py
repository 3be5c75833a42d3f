"""All SQL of bulk import/export: COPY into a staging table, one upsert per chunk, COPY of the
outbox, audit and assignment rows; keyset-paged export of the scoped list."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from kam_customer.customer.repository import CustomerRepository
from kam_customer.models import SCHEMA, Customer
from kam_platform.auth import Principal
from kam_platform.outbox import channel, copy_rows
from kam_platform.tmf import ListQuery
from kam_platform.topology import Topology

# asyncpg.Connection (untyped library)
Conn = Any

STAGE = "kam_customer_import_stage"
SEEN = "kam_customer_import_seen"  # codes already loaded by this import (a file may repeat a code)
STAGE_COLUMNS = (
    "id",
    "customer_code",
    "name",
    "customer_type",
    "nature",
    "mgmt_level",
    "industry",
    "value_type",
    "grade",
    "life_status",
    "recog_status",
    "credit_code",
    "parent_customer_id",
    "organization_id",
    "is_new_org",
    "account_manager",
    "account_manager_name",
    "enterprise_scale",
    "address",
    "description",
)
# columns an import sets (the rest — short name, status reason, credit profile — it leaves alone)
_SET = [c for c in STAGE_COLUMNS if c not in ("id", "customer_code", "organization_id", "is_new_org")]

_CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGE} (
    id uuid, customer_code text, name text, customer_type text, nature text, mgmt_level text, industry text,
    value_type text, grade text, life_status text, recog_status text, credit_code text,
    parent_customer_id uuid, organization_id uuid, is_new_org boolean, account_manager text,
    account_manager_name text, enterprise_scale text, address text, description text
) ON COMMIT DROP
"""

_UPSERT = f"""
WITH up AS (
    INSERT INTO {SCHEMA}.customer AS c (id, owner_node, version, customer_code, organization_id, {", ".join(_SET)},
                                        created_at, updated_at)
    SELECT s.id, $1, 1, s.customer_code, s.organization_id, {", ".join("s." + c for c in _SET)}, now(), now()
    FROM {STAGE} s
    ON CONFLICT (customer_code) WHERE deleted_at IS NULL DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in _SET)},
        organization_id = COALESCE(c.organization_id, EXCLUDED.organization_id),
        version = c.version + 1, updated_at = now()
    WHERE c.owner_node = $1
    RETURNING c.id, c.customer_code, c.version, c.created_at, c.updated_at, c.organization_id,
              (c.xmax = 0) AS inserted
), org AS (
    INSERT INTO {SCHEMA}.organization (id, owner_node, version, name, trading_name, credit_code, industry,
                                       organization_type, status, created_at, updated_at)
    SELECT s.organization_id, $1, 1, s.name, s.name, s.credit_code, s.industry, 'legalEntity', 'validated', now(),
           now()
    FROM up JOIN {STAGE} s ON s.customer_code = up.customer_code
    WHERE s.is_new_org AND up.organization_id = s.organization_id
)
SELECT * FROM up
"""


async def transaction_now(conn: Conn) -> datetime:
    value: datetime = await conn.fetchval("SELECT now()")
    return value


async def prepare_stage(conn: Conn) -> None:
    await conn.execute(_CREATE_STAGE)
    await conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {SEEN} (code text PRIMARY KEY) ON COMMIT DROP")
    await conn.execute(f"TRUNCATE {STAGE}, {SEEN}")


async def mark_seen(conn: Conn, codes: Sequence[str]) -> set[str]:
    """Record `codes` (distinct) as loaded by this import; returns those that already were (rarely any:
    the new ones are not shipped back)."""
    rows = await conn.fetch(
        f"WITH fresh AS (INSERT INTO {SEEN} SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING code) "
        "SELECT code FROM unnest($1::text[]) AS u(code) EXCEPT ALL SELECT code FROM fresh",
        list(codes),
    )
    return {r["code"] for r in rows}


async def lock_existing(conn: Conn, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Live customers with these codes, locked for the rest of the transaction."""
    rows = await conn.fetch(
        f"SELECT * FROM {SCHEMA}.customer WHERE customer_code = ANY($1::text[]) AND deleted_at IS NULL "
        "ORDER BY customer_code FOR UPDATE",
        list(codes),
    )
    return {r["customer_code"]: _decoded(dict(r)) for r in rows}


_JSONB = ("credit_profile", "tmf_attributes")


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    # a bare asyncpg connection (the seed's) has no jsonb codec and hands out the JSON text; the
    # session's connection (the import's) decodes it: both give the write path the same values
    for column in _JSONB:
        if isinstance(row.get(column), str):
            row[column] = json.loads(row[column])
    return row


async def find_by_codes(
    conn: Conn, codes: Iterable[str], *, owners: Iterable[str] | None = None
) -> dict[str, tuple[uuid.UUID, str, uuid.UUID | None]]:
    """code → (id, customer_type, parent id) of live customers owned by any of `owners` (default: any
    owner — parents may be replicas)."""
    wanted = list(codes)
    if not wanted:
        return {}
    rows = await conn.fetch(
        f"SELECT customer_code, id, customer_type, parent_customer_id FROM {SCHEMA}.customer "
        "WHERE customer_code = ANY($1::text[]) AND deleted_at IS NULL "
        "AND ($2::text[] IS NULL OR owner_node = ANY($2::text[]))",
        wanted,
        None if owners is None else list(owners),
    )
    return {r["customer_code"]: (r["id"], r["customer_type"], r["parent_customer_id"]) for r in rows}


async def ancestors(conn: Conn, customer_id: uuid.UUID, limit: int = 50) -> list[uuid.UUID]:
    rows = await conn.fetch(
        f"WITH RECURSIVE up(id, parent, depth) AS ("
        f" SELECT id, parent_customer_id, 0 FROM {SCHEMA}.customer WHERE id = $1"
        f" UNION ALL SELECT c.id, c.parent_customer_id, up.depth + 1 FROM {SCHEMA}.customer c"
        " JOIN up ON c.id = up.parent WHERE up.depth < $2)"
        " SELECT id FROM up WHERE depth > 0",
        customer_id,
        limit,
    )
    return [r["id"] for r in rows]


async def with_live_children(conn: Conn, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    rows = await conn.fetch(
        f"SELECT DISTINCT parent_customer_id FROM {SCHEMA}.customer "
        "WHERE parent_customer_id = ANY($1::uuid[]) AND deleted_at IS NULL",
        list(ids),
    )
    return {r["parent_customer_id"] for r in rows}


async def upsert(conn: Conn, node: str, records: Sequence[tuple[Any, ...]]) -> list[Mapping[str, Any]]:
    """COPY `records` (in STAGE_COLUMNS order) to the staging table and upsert them as customers owned by
    `node`, creating the legal entity of each new one. Rows owned by another node are left alone and
    not returned. The rows are asyncpg's records, read by key (not copied into dicts: a million rows)."""
    await conn.execute(f"TRUNCATE {STAGE}")
    await conn.copy_records_to_table(STAGE, records=records, columns=STAGE_COLUMNS)
    written: list[Mapping[str, Any]] = await conn.fetch(_UPSERT, node)
    return written


AUDIT_COLUMNS = ("id", "owner_node", "entity_type", "entity_id", "action", "actor", "changes", "request_id", "at")
ASSIGNMENT_COLUMNS = (
    "id",
    "owner_node",
    "customer_id",
    "account_manager",
    "account_manager_name",
    "previous_account_manager",
    "assigned_by",
    "valid_from",
    "reason",
)


async def copy_outbox(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows built by `outbox.build_event`, through the platform's one outbox writer (COPY, wakes the relay)."""
    await copy_rows(conn, schema=SCHEMA, rows=list(rows))


async def copy_audit(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        await conn.copy_records_to_table("audit", schema_name=SCHEMA, records=rows, columns=AUDIT_COLUMNS)


async def record_assignments(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    """Close the open assignment of each customer and COPY the new ones (history, 客户经理变更历史)."""
    if not rows:
        return
    # the closed one ends when the new one begins (valid_from), as every replica computes it
    await conn.execute(
        f"UPDATE {SCHEMA}.account_manager_assignment SET valid_to = $2 "
        "WHERE customer_id = ANY($1::uuid[]) AND valid_to IS NULL",
        [r[2] for r in rows],
        rows[0][ASSIGNMENT_COLUMNS.index("valid_from")],
    )
    await conn.copy_records_to_table(
        "account_manager_assignment", schema_name=SCHEMA, records=rows, columns=ASSIGNMENT_COLUMNS
    )


async def notify_relay(conn: Conn) -> None:
    """Wake the outbox relay at commit (COPY bypasses add_event, which normally does this)."""
    await conn.execute("SELECT pg_notify($1, '')", channel(SCHEMA))


# autovacuum's default analyze threshold (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor)
ANALYZE_THRESHOLD = 50
ANALYZE_SCALE_FACTOR = 0.1


async def statistics_behind(conn: Conn, rows: int, node: str) -> bool:
    """Whether the customer table's statistics are behind `rows` new rows of `node` in this
    transaction: they count fewer rows than that, or the new rows are more than autovacuum would let
    pass (which it cannot see yet) against the rows the planner thinks `node` owns. Not only the row
    count matters: the statistics of a province holding its local networks' replicas say its own node
    owns almost none of the table, and the planner then probed the owner index for each imported row's
    duplicates, computing the name key of every row the node owns per probe (a 5,000-row chunk: 103 s
    instead of 0.05 s), however large the table."""
    known = await conn.fetchval(f"SELECT reltuples FROM pg_class WHERE oid = '{SCHEMA}.customer'::regclass")
    if known is None or known < rows:
        return True
    plan = await conn.fetchval(
        f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {SCHEMA}.customer WHERE owner_node = $1 AND deleted_at IS NULL", node
    )
    owned = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]
    return bool(rows > ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * owned)


# how long an import's ANALYZE waits for its lock (another import's or a VACUUM's) before it is skipped
ANALYZE_LOCK_TIMEOUT = "2s"


async def analyze(conn: Conn) -> bool:
    """Refresh the planner statistics after a bulk load (the transaction's own rows count as live).

    In a savepoint, waiting at most ANALYZE_LOCK_TIMEOUT for its lock: ANALYZE holds a lock that
    conflicts with another ANALYZE until the transaction ends, so two imports at once would queue at
    the second one's, and deadlock if the first then waited for a row the second wrote. Skipped
    (False) when the lock is not granted in time: the statistics stay as they were."""
    previous = await conn.fetchval("SELECT current_setting('lock_timeout')")
    await conn.execute("SAVEPOINT kam_import_analyze")
    try:
        await conn.execute("SELECT set_config('lock_timeout', $1, true)", ANALYZE_LOCK_TIMEOUT)
        await conn.execute(f"ANALYZE {SCHEMA}.customer, {SCHEMA}.organization")
    except asyncpg.exceptions.LockNotAvailableError:
        await conn.execute("ROLLBACK TO SAVEPOINT kam_import_analyze")  # the setting reverts with it
        return False
    await conn.execute("RELEASE SAVEPOINT kam_import_analyze")
    await conn.execute("SELECT set_config('lock_timeout', $1, true)", previous)
    return True


# --- export ------------------------------------------------------------------------------------

_parent = aliased(Customer)
EXPORT_SELECT = (
    Customer.customer_code,
    Customer.name,
    Customer.customer_type,
    Customer.nature,
    Customer.mgmt_level,
    Customer.industry,
    Customer.value_type,
    Customer.grade,
    Customer.life_status,
    Customer.recog_status,
    Customer.credit_code,
    Customer.account_manager,
    Customer.account_manager_name,
    select(_parent.customer_code).where(_parent.id == Customer.parent_customer_id).scalar_subquery(),
    Customer.enterprise_scale,
    Customer.address,
    Customer.description,
)


async def export_pages(
    session: AsyncSession, principal: Principal, topology: Topology, lq: ListQuery, *, page: int = 5000
) -> AsyncIterator[Sequence[Row[Any]]]:
    """Pages of export rows (columns of schemas.COLUMNS) of the scoped, filtered customer list, keyset-paged
    on id so memory stays flat and a million rows cost the same per page as the first."""
    base = CustomerRepository.from_session(session).filtered(principal, topology, lq)
    stmt = base.with_only_columns(Customer.id, *EXPORT_SELECT).order_by(Customer.id).limit(page)
    last: uuid.UUID | None = None
    while True:
        rows = (await session.execute(stmt if last is None else stmt.where(Customer.id > last))).all()
        if not rows:
            return
        yield [r[1:] for r in rows]  # type: ignore[misc]
        if len(rows) < page:
            return
        last = rows[-1][0]


# --- an import job's rows --------------------------------------------------------------------------

_JOB_ROWS = f"""
SELECT (a.changes->>'chunk')::int AS chunk, r.value AS row
FROM {SCHEMA}.audit a, jsonb_array_elements(a.changes->'rows') WITH ORDINALITY AS r(value, n)
WHERE a.entity_type = :entity AND a.entity_id = :job AND a.owner_node = ANY(CAST(:owners AS text[]))
ORDER BY (a.changes->>'chunk')::int, r.n
OFFSET :offset LIMIT :limit
"""
_JOB_COUNT = f"""
SELECT count(*) AS chunks, coalesce(sum(jsonb_array_length(a.changes->'rows')), 0) AS rows
FROM {SCHEMA}.audit a
WHERE a.entity_type = :entity AND a.entity_id = :job AND a.owner_node = ANY(CAST(:owners AS text[]))
"""


async def job_rows(
    session: AsyncSession, entity: str, job: uuid.UUID, owners: Sequence[str], offset: int, limit: int
) -> tuple[int, int, list[tuple[int, dict[str, Any]]]]:
    """(chunks, rows in all, this page of (chunk, row detail)) of an import job, from its chunks' audit
    records owned by one of `owners` (the caller's scope)."""
    params = {"entity": entity, "job": job, "owners": list(owners)}
    chunks, total = (await session.execute(text(_JOB_COUNT), params)).one()
    if not chunks:
        return 0, 0, []
    page = await session.execute(text(_JOB_ROWS), {**params, "offset": offset, "limit": limit})
    out = []
    for chunk, row in page:
        out.append((int(chunk), row if isinstance(row, dict) else json.loads(row)))
    return int(chunks), int(total), out
