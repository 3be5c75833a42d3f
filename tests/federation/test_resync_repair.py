"""A resync repairs every divergence (issue 7), on a real trio federation (hq → gd → gd-gz), started
once:

(a) replicas changed in place at the same version (a customer at gd and hq, a staff member at gd, a
    national rule set at gd-gz) equal their owners again after `POST /api/v1/sync/resync` at gd-gz —
    the requester's own records are republished, and the owner's snapshot overwrites an equal version;
(b) gd-gz restored from an older backup (its customer and a staff member put back to versions its
    replicas have moved past) gets the newest versions back from gd with ``{"restore": true}``; hq and gd
    equal it, and its next write continues from the restored version.

No dead letters anywhere.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest

from .conftest import CUSTOMER_PATH, Nodes, wait_until
from .faults import dead_letters

pytestmark = pytest.mark.federation

NODES = ("hq", "gd", "gd-gz")
CONVERGE = 120.0
RESYNC = "/api/v1/sync/resync"
STAFF = "/api/v1/org/staff"

# every column a replica holds the same as the owner (timestamps of local bookkeeping excluded)
CUSTOMER_COLUMNS = "id, owner_node, version, customer_code, name, grade, life_status, deleted_at IS NULL AS live"
STAFF_COLUMNS = "id, owner_node, version, username, display_name, phone, email, is_active, org_unit_id"
RULE_COLUMNS = "id, owner_node, version, kind, name, scope_node, valid_from, valid_to, status, parameters, bounds"


def sql(nodes: Nodes, node: str, query: str, *args: Any) -> list[dict[str, Any]]:
    dsn = nodes.fed.database_url(node).replace("postgresql+asyncpg://", "postgresql://", 1)

    async def run() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(dsn)
        try:
            return [dict(r) for r in await conn.fetch(query, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


def row(nodes: Nodes, node: str, table: str, columns: str, record_id: Any) -> dict[str, Any] | None:
    rows = sql(nodes, node, f"SELECT {columns} FROM {table} WHERE id = $1", record_id)
    return rows[0] if rows else None


def everywhere_equal(nodes: Nodes, table: str, columns: str, record_id: Any, owner: str) -> dict[str, Any] | None:
    """The owner's row when every node holds the same; else None."""
    want = row(nodes, owner, table, columns, record_id)
    return want if want is not None and all(row(nodes, n, table, columns, record_id) == want for n in NODES) else None


def converged(nodes: Nodes, table: str, columns: str, record_id: Any, owner: str, what: str) -> dict[str, Any]:
    got: dict[str, Any] = wait_until(
        lambda: everywhere_equal(nodes, table, columns, record_id, owner), timeout=CONVERGE, what=what
    )
    return got


def save_row(nodes: Nodes, node: str, table: str, record_id: Any) -> str:
    """The whole row as JSON (a backup of it)."""
    (saved,) = sql(nodes, node, f"SELECT to_jsonb(t)::text AS j FROM {table} t WHERE id = $1", record_id)
    return str(saved["j"])


def put_back(nodes: Nodes, node: str, table: str, record_id: Any, saved: str) -> None:
    """Overwrite the row with the saved one, every column (as a restore from that backup would)."""
    schema, name = table.split(".")
    cols = [
        r["column_name"]
        for r in sql(
            nodes,
            node,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 "
            "AND column_name <> 'id' ORDER BY ordinal_position",
            schema,
            name,
        )
    ]
    quoted = ", ".join(f'"{c}"' for c in cols)
    sql(
        nodes,
        node,
        f"UPDATE {table} SET ({quoted}) = (SELECT {quoted} FROM jsonb_populate_record(NULL::{table}, $1::jsonb)) "
        "WHERE id = $2",
        saved,
        record_id,
    )


def no_dead_letters(nodes: Nodes) -> None:
    dead = {n: {s: c for s, c in dead_letters(nodes.fed.database_url(n)).items() if c} for n in NODES}
    assert dead == {n: {} for n in NODES}, dead


def test_resync_repairs_equal_version_divergence_and_a_restore_from_an_older_backup(trio: Nodes) -> None:
    nodes = trio
    customer = nodes.create_customer("gd-gz", name="重同步修复测试客户")
    cid = customer["id"]
    (member,) = sql(
        nodes,
        "gd-gz",
        "SELECT id FROM org.staff WHERE owner_node = 'gd-gz' AND username <> 'system' ORDER BY username LIMIT 1",
    )
    sid = member["id"]
    rules = sql(nodes, "hq", "SELECT id FROM rules.rule_set WHERE owner_node = 'hq' AND status = 'PUBLISHED' LIMIT 1")
    assert rules, "the national rules are seeded at hq"
    rule_id = rules[0]["id"]

    converged(nodes, "customer.customer", CUSTOMER_COLUMNS, cid, "gd-gz", "the customer replicated")
    converged(nodes, "org.staff", STAFF_COLUMNS, sid, "gd-gz", "the staff member replicated")
    converged(nodes, "rules.rule_set", RULE_COLUMNS, rule_id, "hq", "the national rule set replicated")

    # (a) replicas diverge at the same version
    sql(nodes, "gd", "UPDATE customer.customer SET name = '被改坏了' WHERE id = $1", cid)
    sql(nodes, "hq", "UPDATE customer.customer SET grade = 'D' WHERE id = $1", cid)
    sql(nodes, "gd", "UPDATE org.staff SET display_name = '被改坏了' WHERE id = $1", sid)
    sql(nodes, "gd-gz", "UPDATE rules.rule_set SET name = '被改坏了' WHERE id = $1", rule_id)
    assert everywhere_equal(nodes, "customer.customer", CUSTOMER_COLUMNS, cid, "gd-gz") is None
    assert everywhere_equal(nodes, "org.staff", STAFF_COLUMNS, sid, "gd-gz") is None
    assert everywhere_equal(nodes, "rules.rule_set", RULE_COLUMNS, rule_id, "hq") is None

    r = nodes.post("gd-gz", RESYNC, {"reason": "replicas diverged"})
    assert r.status_code == 202, r.text
    assert r.json()["restore"] is False
    converged(nodes, "customer.customer", CUSTOMER_COLUMNS, cid, "gd-gz", "customer replicas repaired at gd and hq")
    converged(nodes, "org.staff", STAFF_COLUMNS, sid, "gd-gz", "staff replica repaired at gd")
    converged(nodes, "rules.rule_set", RULE_COLUMNS, rule_id, "hq", "rule set replica repaired at gd-gz")

    # (b) gd-gz restored from an older backup: its rows are put back to versions the replicas moved past
    customer_backup = save_row(nodes, "gd-gz", "customer.customer", cid)
    staff_backup = save_row(nodes, "gd-gz", "org.staff", sid)
    old_version = json.loads(customer_backup)["version"]
    for grade in ("A", "C"):
        r = nodes.patch("gd-gz", f"{CUSTOMER_PATH}/{cid}", {"grade": grade})
        assert r.status_code == 200, r.text
    for name in ("备份后改名一", "备份后改名二"):
        r = nodes.patch("gd-gz", f"{STAFF}/{sid}", {"displayName": name})
        assert r.status_code == 200, r.text
    newest = converged(nodes, "customer.customer", CUSTOMER_COLUMNS, cid, "gd-gz", "the writes after the backup")
    newest_staff = converged(nodes, "org.staff", STAFF_COLUMNS, sid, "gd-gz", "the staff writes after the backup")
    assert newest["version"] == old_version + 2 and newest["grade"] == "C"

    put_back(nodes, "gd-gz", "customer.customer", cid, customer_backup)
    put_back(nodes, "gd-gz", "org.staff", sid, staff_backup)
    restored = row(nodes, "gd-gz", "customer.customer", CUSTOMER_COLUMNS, cid)
    assert restored is not None and restored["version"] == old_version
    assert row(nodes, "gd-gz", "org.staff", STAFF_COLUMNS, sid) != newest_staff

    r = nodes.post("gd-gz", RESYNC, {"reason": "restored from the backup of last night", "restore": True})
    assert r.status_code == 202, r.text
    assert r.json()["restore"] is True
    got = converged(nodes, "customer.customer", CUSTOMER_COLUMNS, cid, "gd-gz", "gd-gz holds the newest again")
    assert got == newest
    assert converged(nodes, "org.staff", STAFF_COLUMNS, sid, "gd-gz", "gd-gz's staff newest again") == newest_staff

    # the owner's version counter continues from the restored (higher) version: the next write replicates
    r = nodes.patch("gd-gz", f"{CUSTOMER_PATH}/{cid}", {"grade": "B"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == newest["version"] + 1
    after = converged(nodes, "customer.customer", CUSTOMER_COLUMNS, cid, "gd-gz", "the write after the restore")
    assert (after["version"], after["grade"]) == (newest["version"] + 1, "B")

    # the root has no parent to restore from
    r = nodes.post("hq", RESYNC, {"restore": True})
    assert r.status_code == 409, r.text
    assert r.json()["@type"] == "Error"

    no_dead_letters(nodes)
