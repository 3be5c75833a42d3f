"""Set-based apply of replicated customer rows (issue 13): a whole batch is COPYed into a staging table and
written by one `INSERT … SELECT … ON CONFLICT (id) DO UPDATE … WHERE version <` per table, instead of a
statement per row. Used for the customers of every apply batch (`upsert_customers`) and for the
import's CustomersImported batch events (`apply_imports`), whose result equals the per-row events'
(CustomerCreated/CustomerUpdated, OrganizationChanged, AccountManagerAssigned, AuditRecorded).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_customer.customer import rules
from kam_customer.models import SCHEMA, Audit
from kam_platform.replication import Claim, Event, Refused, Unique, replaces_equal

IMPORTED = "kam.v1.CustomersImported"

# the customer table's columns a replicated state sets (handlers.customer_row), in COPY order
CUSTOMER_COLUMNS = (
    "id",
    "owner_node",
    "version",
    "customer_code",
    "name",
    "short_name",
    "customer_type",
    "nature",
    "mgmt_level",
    "industry",
    "value_type",
    "grade",
    "life_status",
    "recog_status",
    "status_reason",
    "credit_code",
    "parent_customer_id",
    "organization_id",
    "account_manager",
    "account_manager_name",
    "enterprise_scale",
    "address",
    "description",
    "credit_profile",
    "tmf_attributes",
    "created_at",
    "updated_at",
    "deleted_at",
)
ORGANIZATION_COLUMNS = (
    "id",
    "owner_node",
    "version",
    "name",
    "trading_name",
    "credit_code",
    "organization_type",
    "industry",
    "status",
    "tmf_attributes",
    "deleted_at",
    "created_at",
    "updated_at",
)
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
_JSON = frozenset({"credit_profile", "tmf_attributes"})


async def _conn(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, in its transaction."""
    raw = await session.connection()
    dbapi = await raw.get_raw_connection()
    return dbapi.driver_connection


def _stage(table: str) -> str:
    return f"kam_apply_stage_{table}"


async def _copy(conn: Any, table: str, columns: Sequence[str], records: list[tuple[Any, ...]]) -> str:
    """COPY `records` into this connection's staging table for `table` (created on first use, emptied
    at commit); returns its name."""
    stage = _stage(table)
    await conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {', '.join(columns)} FROM {SCHEMA}.{table} WITH NO DATA"
    )
    await conn.execute(f"TRUNCATE {stage}")
    await conn.copy_records_to_table(stage, records=records, columns=list(columns))
    return stage


async def copy_upsert_versioned(
    session: AsyncSession,
    table: str,
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    *,
    replace_equal: bool = False,
) -> set[uuid.UUID]:
    """`kam_platform.replication.upsert_versioned`, set-based: insert, or replace where the stored version
    is older (with `replace_equal`, older or equal). Several rows of one id: the highest version.
    Returns the ids written."""
    newest: dict[uuid.UUID, dict[str, Any]] = {}
    for row in rows:
        old = newest.get(row["id"])
        if old is None or row["version"] >= old["version"]:
            newest[row["id"]] = row
    if not newest:
        return set()
    records = [
        tuple(
            (json.dumps(r[c], ensure_ascii=False) if r[c] is not None else None) if c in _JSON else r[c]
            for c in columns
        )
        for r in newest.values()
    ]
    conn = await _conn(session)
    stage = await _copy(conn, table, columns, records)
    assigned = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "id")
    cmp = "<=" if replace_equal else "<"
    written = await conn.fetch(
        f"INSERT INTO {SCHEMA}.{table} AS t ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {stage} "
        f"ON CONFLICT (id) DO UPDATE SET {assigned} WHERE t.version {cmp} EXCLUDED.version RETURNING t.id"
    )
    return {r["id"] for r in written}


async def upsert_newest(
    session: AsyncSession, table: str, columns: Sequence[str], items: Sequence[tuple[Event, dict[str, Any]]]
) -> set[uuid.UUID]:
    """`kam_platform.replication.upsert_newest`, set-based: an owner's snapshot replaces an equal version
    too, every other event only an older one."""
    written: set[uuid.UUID] = set()
    for authoritative in (False, True):
        rows = [row for ev, row in items if replaces_equal(ev) is authoritative]
        if rows:
            written |= await copy_upsert_versioned(session, table, columns, rows, replace_equal=authoritative)
    return written


async def upsert_customers(session: AsyncSession, items: Sequence[tuple[Event, dict[str, Any]]]) -> set[uuid.UUID]:
    """The customers of one apply batch (rows of `handlers.customer_row`), set-based."""
    return await upsert_newest(session, "customer", CUSTOMER_COLUMNS, items)


# --- CustomersImported ---------------------------------------------------------------------------------


def import_claims(ev: Event, topology: Any) -> list[Claim]:
    """What a CustomersImported event writes: its audit record (the aggregate), every customer (a
    creation's code checked against the origin's namespace, as for CustomerCreated), the legal
    entities and the assignments (attached to their customers)."""
    m = ev.payload_as(customer_pb2.CustomersImported)
    created = set(m.created_ids)
    out = [Claim("audit", uuid.UUID(m.audit.id), m.audit.owner_node)]
    for c in m.customers:
        if c.id in created:
            named = rules.code_namespace(topology, c.customer_code)
            if named is None or not topology.is_in_subtree(named, ev.origin):
                where = f"it lies in {named}'s" if named else "it names no node's"
                raise Refused(
                    f"customer code {c.customer_code} of customer {c.id} is outside the code namespace of "
                    f"origin {ev.origin}'s subtree ({where})"
                )
        out.append(
            Claim(
                "customer",
                uuid.UUID(c.id),
                c.owner_node,
                c.version,
                unique=(Unique("customer_code", c.customer_code, "deleted_at IS NULL"),),
            )
        )
    out += [Claim("organization", uuid.UUID(o.id), o.owner_node, o.version) for o in m.organizations]
    out += [
        Claim(
            "account_manager_assignment",
            uuid.UUID(a.id),
            a.owner_node,
            attached_to=(("customer", uuid.UUID(a.customer_id)),),
        )
        for a in m.assignments
    ]
    return out


def _dt(t: Any) -> datetime | None:
    if not t.seconds and not t.nanos:
        return None
    return t.ToDatetime(tzinfo=UTC)  # type: ignore[no-any-return]


def _organization_row(o: customer_pb2.OrganizationState, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid.UUID(o.id),
        "owner_node": o.owner_node,
        "version": o.version,
        "name": o.name,
        "trading_name": o.trading_name or o.name,
        "credit_code": o.credit_code or None,
        "organization_type": o.organization_type or None,
        "industry": o.industry or None,
        "status": o.status or "validated",
        "tmf_attributes": json.loads(o.tmf_attributes_json) if o.tmf_attributes_json else {},
        "deleted_at": now if o.deleted else None,
        "created_at": now,
        "updated_at": now,
    }


async def apply_assignments(session: AsyncSession, items: Sequence[customer_pb2.AccountManagerAssigned]) -> None:
    """Assignment history, set-based: insert the new records (a known one is skipped), then close each
    customer's open earlier records at the next one's start — what `CustomerApplier._apply_assignments`
    does one by one."""
    if not items:
        return
    now = datetime.now(UTC)
    records = {
        a.id: (
            uuid.UUID(a.id),
            a.owner_node,
            uuid.UUID(a.customer_id),
            a.account_manager or None,
            None,
            a.previous_account_manager or None,
            a.assigned_by,
            _dt(a.valid_from) or now,
            a.reason or None,
        )
        for a in items
    }
    conn = await _conn(session)
    stage = await _copy(conn, "account_manager_assignment", ASSIGNMENT_COLUMNS, list(records.values()))
    cols = ", ".join(ASSIGNMENT_COLUMNS)
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
    # the records inserted by this statement are not visible to its UPDATE (one snapshot): close the
    # earlier ones of a batch that carried several assignments of one customer
    await conn.execute(
        f"""
        UPDATE {SCHEMA}.account_manager_assignment a
        SET valid_to = (SELECT min(s.valid_from) FROM {stage} s WHERE s.customer_id = a.customer_id
                        AND s.valid_from > a.valid_from)
        WHERE a.valid_to IS NULL AND a.id IN (SELECT id FROM {stage})
          AND EXISTS (SELECT 1 FROM {stage} s WHERE s.customer_id = a.customer_id AND s.valid_from > a.valid_from)
        """
    )


async def apply_imports(session: AsyncSession, evs: Sequence[Event], customer_row: Any) -> None:
    """CustomersImported events, set-based: their legal entities, customers (newest version wins),
    assignments and audit records, each table in one statement."""
    if not evs:
        return
    now = datetime.now(UTC)
    messages = [ev.payload_as(customer_pb2.CustomersImported) for ev in evs]
    orgs = [_organization_row(o, now) for m in messages for o in m.organizations]
    await copy_upsert_versioned(session, "organization", ORGANIZATION_COLUMNS, orgs)
    customers = [customer_row(c) for m in messages for c in m.customers]
    await copy_upsert_versioned(session, "customer", CUSTOMER_COLUMNS, customers)
    await apply_assignments(session, [a for m in messages for a in m.assignments])
    audits = [
        {
            "id": uuid.UUID(m.audit.id),
            "owner_node": m.audit.owner_node,
            "entity_type": m.audit.entity_type,
            "entity_id": uuid.UUID(m.audit.entity_id),
            "action": m.audit.action,
            "actor": m.audit.actor,
            "at": _dt(m.audit.at) or now,
            "changes": json.loads(m.audit.changes_json or "{}"),
            "request_id": m.audit.request_id or None,
            "note": None,
        }
        for m in messages
        if m.audit.id
    ]
    if audits:
        await session.execute(insert(Audit).on_conflict_do_nothing(), audits)
