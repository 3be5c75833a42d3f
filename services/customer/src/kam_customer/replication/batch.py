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

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_customer.customer import rules
from kam_customer.models import SCHEMA
from kam_platform.db.driver import driver_connection
from kam_platform.ids import parse_uuid
from kam_platform.outbox import from_ts
from kam_platform.replication import Claim, Event, Refused, Unique, replaces_equal

IMPORTED = "kam.v1.CustomersImported"

# the customer table's columns a replicated state sets (`customer_record`), in COPY order
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
# A record is a tuple in its table's COPY order (id first, version third, as in the columns above),
# built straight from the payload: ids parsed by `parse_uuid`, JSON columns as JSON text, timestamps
# by `from_ts` (once per distinct value) — no dict or JSON round trip per row. A replica of a bulk import
# builds one per customer, legal entity and assignment.
_ID, _VERSION = 0, 2


def json_object(value: str) -> str:
    """TMF attributes given as JSON text, kept as given (an event of an older writer has none): an
    object as its writers produce it is passed on untouched (PostgreSQL parses it into jsonb), anything
    else must parse as a JSON object (ValueError otherwise)."""
    if not value:
        return "{}"
    if value[0] == "{":
        return value
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError(f"TMF attributes must be a JSON object, not {type(parsed).__name__}")
    return json.dumps(parsed, ensure_ascii=False)


def customer_record(c: customer_pb2.CustomerState, now: datetime) -> tuple[Any, ...]:
    """A replicated customer state as a record of CUSTOMER_COLUMNS."""
    credit: str | None = None
    if c.HasField("credit_profile"):
        cp = c.credit_profile
        profile: dict[str, Any] = {}
        if cp.credit_level:
            profile["creditLevel"] = cp.credit_level
        if cp.credit_score:
            profile["creditScore"] = cp.credit_score
        if cp.credit_limit.value:
            profile["creditLimit"] = {"unit": cp.credit_limit.unit, "value": cp.credit_limit.value}
        credit = json.dumps(profile, ensure_ascii=False) if profile else None
    return (
        parse_uuid(c.id),
        c.owner_node,
        c.version,
        c.customer_code,
        c.name,
        c.short_name or None,
        c.customer_type,
        c.nature or None,
        c.mgmt_level,
        c.industry,
        c.value_type or None,
        c.grade,
        c.life_status,
        c.recog_status,
        c.status_reason or None,
        c.credit_code or None,
        parse_uuid(c.parent_customer_id) if c.parent_customer_id else None,
        parse_uuid(c.organization_id) if c.organization_id else None,
        c.account_manager or None,
        c.account_manager_name or None,
        c.enterprise_scale or None,
        c.address or None,
        c.description or None,
        credit,
        json_object(c.tmf_attributes_json),
        from_ts(c.created_at) or now,
        from_ts(c.updated_at) or now,
        None,  # deleted_at: a deletion is its own event
    )


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
    records: Sequence[tuple[Any, ...]],
    *,
    replace_equal: bool = False,
    returning: bool = True,
) -> set[uuid.UUID]:
    """`kam_platform.replication.upsert_versioned`, set-based, of records in `columns`' order (id first,
    version third; JSON columns as JSON text): insert, or replace where the stored version is older
    (with `replace_equal`, older or equal). Several records of one id: the highest version. Returns the
    ids written — without `returning`, none (a caller that does not read them spares the database
    sending, and Python collecting, one id per row)."""
    newest: dict[Any, tuple[Any, ...]] = {}
    for r in records:
        old = newest.get(r[_ID])
        if old is None or r[_VERSION] >= old[_VERSION]:
            newest[r[_ID]] = r
    if not newest:
        return set()
    conn = await driver_connection(session)
    stage = await _copy(conn, table, columns, list(newest.values()))
    assigned = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "id")
    cmp = "<=" if replace_equal else "<"
    upsert = (
        f"INSERT INTO {SCHEMA}.{table} AS t ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {stage} "
        f"ON CONFLICT (id) DO UPDATE SET {assigned} WHERE t.version {cmp} EXCLUDED.version"
    )
    if not returning:
        await conn.execute(upsert)
        return set()
    return {r["id"] for r in await conn.fetch(upsert + " RETURNING t.id")}


async def upsert_newest(
    session: AsyncSession, table: str, columns: Sequence[str], items: Sequence[tuple[Event, tuple[Any, ...]]]
) -> set[uuid.UUID]:
    """`kam_platform.replication.upsert_newest`, set-based: an owner's snapshot replaces an equal version
    too, every other event only an older one."""
    written: set[uuid.UUID] = set()
    for authoritative in (False, True):
        rows = [row for ev, row in items if replaces_equal(ev) is authoritative]
        if rows:
            written |= await copy_upsert_versioned(session, table, columns, rows, replace_equal=authoritative)
    return written


async def upsert_customers(session: AsyncSession, items: Sequence[tuple[Event, tuple[Any, ...]]]) -> set[uuid.UUID]:
    """The customers of one apply batch (records of `customer_record`), set-based."""
    return await upsert_newest(session, "customer", CUSTOMER_COLUMNS, items)


# --- CustomersImported ---------------------------------------------------------------------------------


def import_claims(ev: Event, topology: Any) -> list[Claim]:
    """What a CustomersImported event writes: its audit record (the aggregate), every customer (a
    creation's code checked against the origin's namespace, as for CustomerCreated), the legal
    entities and the assignments (attached to their customers)."""
    m = ev.payload_as(customer_pb2.CustomersImported)
    created = set(m.created_ids)
    out = [Claim("audit", parse_uuid(m.audit.id), m.audit.owner_node)]
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
                parse_uuid(c.id),
                c.owner_node,
                c.version,
                unique=(Unique("customer_code", c.customer_code, "deleted_at IS NULL"),),
            )
        )
    out += [Claim("organization", parse_uuid(o.id), o.owner_node, o.version) for o in m.organizations]
    out += [
        Claim(
            "account_manager_assignment",
            parse_uuid(a.id),
            a.owner_node,
            attached_to=(("customer", parse_uuid(a.customer_id)),),
        )
        for a in m.assignments
    ]
    return out


def organization_record(o: customer_pb2.OrganizationState, now: datetime) -> tuple[Any, ...]:
    """A replicated legal entity as a record of ORGANIZATION_COLUMNS."""
    return (
        parse_uuid(o.id),
        o.owner_node,
        o.version,
        o.name,
        o.trading_name or o.name,  # an older writer left it empty
        o.credit_code or None,
        o.organization_type or None,
        o.industry or None,
        o.status or "validated",
        json_object(o.tmf_attributes_json),
        now if o.deleted else None,
        now,
        now,
    )


def assignment_record(a: customer_pb2.AccountManagerAssigned, now: datetime) -> tuple[Any, ...]:
    """A replicated assignment as a record of ASSIGNMENT_COLUMNS."""
    return (
        parse_uuid(a.id),
        a.owner_node,
        parse_uuid(a.customer_id),
        a.account_manager or None,
        None,
        a.previous_account_manager or None,
        a.assigned_by,
        from_ts(a.valid_from) or now,
        a.reason or None,
    )


async def apply_assignments(session: AsyncSession, items: Sequence[tuple[Any, ...]]) -> None:
    """Assignment history (records of `assignment_record`), set-based: insert the new records (a known
    one is skipped), then close each customer's open earlier records at the next one's start — what
    `CustomerApplier._apply_assignments` does one by one.

    Every statement is driven by the batch's own records (the customer and primary-key indexes), never by
    a scan of the table's open records: a replica holding a million assignments applies a batch of an
    import as fast as an empty one (the scan took 0.2 s per batch of 5,000 at 1,000,000 held)."""
    if not items:
        return
    records = {r[_ID]: r for r in items}
    conn = await driver_connection(session)
    stage = await _copy(conn, "account_manager_assignment", ASSIGNMENT_COLUMNS, list(records.values()))
    cols = ", ".join(ASSIGNMENT_COLUMNS)
    # A record inserted by this statement ends where the next one of its customer begins: the next in the
    # batch, or a later one held already (assignments are aggregates of their own: a later one may have
    # arrived first, in an earlier batch — as `CustomerApplier._apply_assignments` closes it); the
    # insert's rows are not visible to the UPDATE beside it (one snapshot). The customer's open records
    # held before end where the earliest later inserted one begins.
    inserted = await conn.fetchval(
        f"""
        WITH fresh AS (
            INSERT INTO {SCHEMA}.account_manager_assignment ({cols}, valid_to)
            SELECT {", ".join(f"s.{c}" for c in ASSIGNMENT_COLUMNS)}, LEAST(
                min(s.valid_from) OVER (
                    PARTITION BY s.customer_id ORDER BY s.valid_from
                    RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP
                ),
                (SELECT min(h.valid_from) FROM {SCHEMA}.account_manager_assignment h
                 WHERE h.customer_id = s.customer_id AND h.valid_from > s.valid_from)
            ) FROM {stage} s
            ON CONFLICT DO NOTHING RETURNING customer_id, valid_from
        ), ended AS (
            SELECT a.id, min(f.valid_from) AS valid_to
            FROM fresh f JOIN {SCHEMA}.account_manager_assignment a
              ON a.customer_id = f.customer_id AND a.valid_to IS NULL AND a.valid_from < f.valid_from
            GROUP BY a.id
        ), closing AS (
            UPDATE {SCHEMA}.account_manager_assignment a SET valid_to = e.valid_to FROM ended e
            WHERE a.id = e.id
        )
        SELECT count(*) FROM fresh
        """
    )
    if inserted == len(records):
        return
    # some records of the batch were held already (skipped above): as a record inserted, one of them
    # still open ends where the next one of its customer in the batch begins
    await conn.execute(
        f"""
        UPDATE {SCHEMA}.account_manager_assignment a
        SET valid_to = (SELECT min(s.valid_from) FROM {stage} s WHERE s.customer_id = a.customer_id
                        AND s.valid_from > a.valid_from)
        WHERE a.valid_to IS NULL AND a.id IN (SELECT id FROM {stage})
          AND EXISTS (SELECT 1 FROM {stage} s WHERE s.customer_id = a.customer_id AND s.valid_from > a.valid_from)
        """
    )


AUDIT_COLUMNS = ("id", "owner_node", "entity_type", "entity_id", "action", "actor", "at", "changes", "request_id")


def audit_record(r: customer_pb2.AuditRecorded, now: datetime) -> tuple[Any, ...]:
    """A replicated audit record as a record of AUDIT_COLUMNS: its changes as the JSON text the owner
    wrote (PostgreSQL parses it into jsonb; text that is not JSON fails the apply, as a parse here
    would). An import's audit record lists every row of its chunk: parsing it in Python and serialising it
    again cost more than its chunk's customer records."""
    return (
        parse_uuid(r.id),
        r.owner_node,
        r.entity_type,
        parse_uuid(r.entity_id),
        r.action,
        r.actor,
        from_ts(r.at) or now,
        r.changes_json or "{}",
        r.request_id or None,
    )


async def insert_audits(session: AsyncSession, records: Sequence[tuple[Any, ...]]) -> None:
    """Audit records (of `audit_record`), a known one skipped."""
    if not records:
        return
    conn = await driver_connection(session)
    values = ", ".join(f"${i}" for i in range(1, len(AUDIT_COLUMNS) + 1))
    await conn.executemany(
        f"INSERT INTO {SCHEMA}.audit ({', '.join(AUDIT_COLUMNS)}) VALUES ({values}) ON CONFLICT DO NOTHING",
        records,
    )


async def apply_imports(session: AsyncSession, evs: Sequence[Event]) -> None:
    """CustomersImported events, set-based: their legal entities, customers (newest version wins),
    assignments and audit records, each table in one statement."""
    if not evs:
        return
    now = datetime.now(UTC)
    messages = [ev.payload_as(customer_pb2.CustomersImported) for ev in evs]
    orgs = [organization_record(o, now) for m in messages for o in m.organizations]
    await copy_upsert_versioned(session, "organization", ORGANIZATION_COLUMNS, orgs, returning=False)
    customers = [customer_record(c, now) for m in messages for c in m.customers]
    await copy_upsert_versioned(session, "customer", CUSTOMER_COLUMNS, customers, returning=False)
    await apply_assignments(session, [assignment_record(a, now) for m in messages for a in m.assignments])
    await insert_audits(session, [audit_record(m.audit, now) for m in messages if m.audit.id])
