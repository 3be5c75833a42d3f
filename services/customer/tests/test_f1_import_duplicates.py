"""F1 duplicate detection on import: created rows that may duplicate a customer are warnings in the
import result (by credit code and normalised name, within the importer's scope), never refusals."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from kam_customer.duplicates import importing
from kam_customer.importexport import schemas as import_schemas
from kam_customer.importexport import service as import_service

from .conftest import valid_credit_code

URL = "/tmf-api/customerManagement/v4/customer"
IMPORTS = "/api/v1/customer/imports"
HEADER = "customerCode,name,customerType,industry,grade,creditCode"


async def test_import_warns_of_duplicates_and_imports_every_row(
    client: httpx.AsyncClient, auth, customer_body, insert_customer
) -> None:
    code = valid_credit_code("91440101MA5MPDUP0")
    twin = valid_credit_code("91440101MA5MPTWN0")
    there = await client.post(URL, json=customer_body(name="广州数据港科技有限公司", creditCode=code), headers=auth())
    assert there.status_code == 201, there.text
    existing = there.json()["id"]
    await insert_customer("gd-sz", "深圳只读重名有限公司")  # outside gd-gz's scope: never named
    rows = [
        f"KAGDGZDUP0001,另一个名字的公司,SINGLE,FINANCE,B,{code}",  # same credit code
        "KAGDGZDUP0002,广州数据港科技股份有限公司,SINGLE,FINANCE,B,",  # same normalised name
        "KAGDGZDUP0003,毫不相干的客户,SINGLE,FINANCE,B,",
        f"KAGDGZDUP0004,文件内重复甲,SINGLE,FINANCE,B,{twin}",  # twins within the file
        f"KAGDGZDUP0005,文件内重复乙,SINGLE,FINANCE,B,{twin}",
        "KAGDGZDUP0006,深圳只读重名股份有限公司,SINGLE,FINANCE,B,",
    ]
    body = "\n".join([HEADER, *rows]).encode()
    r = await client.post(IMPORTS, content=body, headers={**auth(), "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["created"], result["rejected"]) == (6, 0)  # a warning, not a refusal
    assert result["warningCount"] == 4
    by_row = {w["row"]: w for w in result["warnings"]}
    assert sorted(by_row) == [2, 3, 5, 6]
    (hit,) = by_row[2]["candidates"]
    assert hit["customerId"] == existing and hit["score"] == 90 and hit["reasons"][0]["signal"] == "creditCode"
    (hit,) = by_row[3]["candidates"]
    assert hit["customerId"] == existing and hit["score"] == 70
    assert by_row[3]["customerCode"] == "KAGDGZDUP0002"
    assert [c["customerCode"] for c in by_row[5]["candidates"]] == ["KAGDGZDUP0005"]
    assert [c["customerCode"] for c in by_row[6]["candidates"]] == ["KAGDGZDUP0004"]
    # the created row is a customer like any other: its candidates answer on the API too
    found = await client.get(f"/api/v1/customer/customers/{by_row[2]['customerId']}/duplicates", headers=auth())
    assert [c["customerId"] for c in found.json()] == [existing]


async def _written(raw: Any, code_like: str) -> tuple[list[Any], list[str], list[str | None]]:
    """What `import_warnings` passes its statements for these written rows: their ids, names, credit codes."""
    rows = await raw.fetch(
        "SELECT id, name, credit_code FROM customer.customer WHERE customer_code LIKE $1 ORDER BY id", code_like
    )
    return [r["id"] for r in rows], [r["name"] for r in rows], [r["credit_code"] for r in rows]


def _look_up_reads(plan: Any) -> list[dict[str, Any]]:
    """Every read of the LATERAL look-ups' table (alias m…) in an EXPLAIN (FORMAT JSON) plan."""
    out: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if str(node.get("Alias", "")).startswith("m") and node.get("Relation Name") == "customer":
            out.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return out


def _look_ups(plan: Any) -> list[bool]:
    """For each look-up read: whether it is a probe (an index condition) rather than a walk over the whole
    table or index."""
    return ["Index Cond" in node or "Recheck Cond" in node for node in _look_up_reads(plan)]  # index or bitmap


async def test_an_import_refreshes_statistics_that_claim_an_empty_table_so_look_ups_stay_probes(
    client: httpx.AsyncClient, auth, rollback_conn: AsyncConnection
) -> None:
    """The state a VACUUM leaves when it runs during a large import that then rolls back (reltuples 0
    over hundreds of pages): costed on it, each imported row's duplicate look-up walks the whole table,
    and an import never finishes (it hung a CI run for 600 s). The import refreshes such statistics
    before it looks anything up."""
    await rollback_conn.execute(
        text(
            "INSERT INTO customer.customer (id, owner_node, version, customer_code, name, customer_type, "
            "mgmt_level, industry, grade, life_status, recog_status) "
            "SELECT gen_random_uuid(), 'gd-gz', 1, 'KASTALE' || lpad(i::text, 6, '0'), '统计失真客户' || i, "
            "'SINGLE', 'LOCAL', 'FINANCE', 'B', 'ACTIVE', 'CONFIRMED' FROM generate_series(1, 5000) AS i"
        )
    )
    # what that VACUUM leaves (set inside the test's transaction: rolled back with it)
    await rollback_conn.execute(
        text("UPDATE pg_class SET reltuples = 0, relpages = 582 WHERE oid = 'customer.customer'::regclass")
    )
    raw = (await rollback_conn.get_raw_connection()).driver_connection

    async def plan() -> Any:
        new = await _written(raw, "KASTALE%")
        out = await raw.fetchval("EXPLAIN (FORMAT JSON) " + importing._CANDIDATES, *new, None, importing.PER_ROW)
        return json.loads(out) if isinstance(out, str) else out  # the connection may decode JSON itself

    assert not all(_look_ups(await plan()))  # the state is real: a look-up walks the table
    codes = [valid_credit_code(f"91440101MA5QT{i:03d}0") for i in range(60)]
    rows = [f"KAGDGZSTAT{i:04d},统计刷新测试{i},SINGLE,FINANCE,B,{c}" for i, c in enumerate(codes)]
    r = await client.post(
        IMPORTS, content="\n".join([HEADER, *rows]).encode(), headers={**auth(), "Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 60
    reltuples = await raw.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'customer.customer'::regclass")
    assert reltuples >= 5060
    looked_up = _look_ups(await plan())
    assert looked_up and all(looked_up), looked_up


def _look_up_indexes(plan: Any) -> list[str]:
    """The indexes each look-up read probes, comma-separated ("-" for a read without one)."""

    def names(node: dict[str, Any]) -> list[str]:
        own = [node["Index Name"]] if "Index Name" in node else []
        return own + [n for child in node.get("Plans", []) for n in names(child)]

    return [",".join(names(node)) or "-" for node in _look_up_reads(plan)]


async def test_an_import_refreshes_statistics_in_which_its_node_owns_almost_nothing(
    client: httpx.AsyncClient, auth, rollback_conn: AsyncConnection
) -> None:
    """A province holds its local networks' replicas: its statistics say it owns almost none of the
    table. Costed on them, each imported row's duplicate look-up probed the owner index and computed the
    name key of every row the node owns (a 5,000-row chunk took 103 s instead of 0.05 s). An import
    whose rows outgrow what autovacuum lets pass against the rows its node owns refreshes the
    statistics first, and the look-ups probe the credit-code and name-key indexes."""
    await rollback_conn.execute(
        text(
            "INSERT INTO customer.customer (id, owner_node, version, customer_code, name, customer_type, "
            "mgmt_level, industry, grade, life_status, recog_status) "
            "SELECT gen_random_uuid(), 'gd-sz', 1, 'KAGDSZSKEW' || lpad(i::text, 6, '0'), '偏斜副本客户' || i, "
            "'SINGLE', 'LOCAL', 'FINANCE', 'B', 'ACTIVE', 'CONFIRMED' FROM generate_series(1, 5000) AS i"
        )
    )
    await rollback_conn.execute(text("ANALYZE customer.customer"))  # inside the test's transaction
    raw = (await rollback_conn.get_raw_connection()).driver_connection

    async def plan(prefix: str) -> list[str]:
        new = await _written(raw, prefix)
        # the scope an import at gd-gz by a node-level user passes (scope_nodes: gd-gz, a leaf)
        out = await raw.fetchval("EXPLAIN (FORMAT JSON) " + importing._CANDIDATES, *new, ["gd-gz"], importing.PER_ROW)
        return _look_up_indexes(json.loads(out) if isinstance(out, str) else out)

    # fewer than 10 % of the table (a threshold on the whole table would not refresh anything), but far
    # more than 50 + 10 % of the rows the statistics say gd-gz owns (none); one chunk
    n = 300
    codes = [valid_credit_code(f"91440101MA5QK{i:03d}0") for i in range(n)]
    # the state is real: rows of this node written behind the statistics' back are looked up by owner
    await rollback_conn.execute(
        text(
            "INSERT INTO customer.customer (id, owner_node, version, customer_code, name, customer_type, "
            "mgmt_level, industry, grade, life_status, recog_status, credit_code) "
            "SELECT gen_random_uuid(), 'gd-gz', 1, 'KAGDGZPRE' || lpad(i::text, 4, '0'), '偏斜本地客户' || i, "
            "'SINGLE', 'LOCAL', 'FINANCE', 'B', 'ACTIVE', 'CONFIRMED', (CAST(:codes AS text[]))[i] "
            "FROM generate_series(1, :n) AS i"
        ),
        {"codes": codes, "n": n},
    )
    credit, name = await plan("KAGDGZPRE%")
    assert "ix_customer_name_key" not in name.split(","), name
    await rollback_conn.execute(text("DELETE FROM customer.customer WHERE customer_code LIKE 'KAGDGZPRE%'"))
    rows = [f"KAGDGZSKEW{i:04d},偏斜导入客户{i},SINGLE,FINANCE,B,{c}" for i, c in enumerate(codes)]
    r = await client.post(
        IMPORTS, content="\n".join([HEADER, *rows]).encode(), headers={**auth(), "Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == n
    credit, name = await plan("KAGDGZSKEW%")
    assert "ix_customer_credit_code" in credit.split(",") and "ix_customer_name_key" in name.split(","), (credit, name)


async def test_past_the_named_warnings_an_import_counts_the_rest_exactly_by_probes(
    client: httpx.AsyncClient, auth, rollback_conn: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the result names MAX_ERRORS warnings, later chunks only count theirs (issue 13: a million
    look-alike rows shipped and scored 10 candidates each): the count is the one the named look-up
    gives, and its look-ups are index probes too."""
    monkeypatch.setattr(import_schemas, "MAX_ERRORS", 3)
    monkeypatch.setitem(import_service.import_file.__kwdefaults__, "chunk", 4)  # three chunks of four
    code = valid_credit_code("91440101MA5MPCNT0")
    rows = [f"KAGDGZCNT{i:04d},计数测试重名有限公司,SINGLE,FINANCE,B," for i in range(9)]  # all alike
    rows.insert(5, f"KAGDGZCNT0100,毫不相干的计数客户,SINGLE,FINANCE,B,{code}")  # no candidate
    rows.append(f"KAGDGZCNT0101,另一个计数客户,SINGLE,FINANCE,B,{code}")  # the credit code of row 7
    r = await client.post(
        IMPORTS, content="\n".join([HEADER, *rows]).encode(), headers={**auth(), "Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["created"] == 11
    # every look-alike has its twins; of the two sharing a credit code only the later one (row 12) finds
    # the other, row 7's chunk was looked up before row 12 was written
    assert result["warningCount"] == 10
    assert [w["row"] for w in result["warnings"]] == [2, 3, 4]
    raw = (await rollback_conn.get_raw_connection()).driver_connection
    new = await _written(raw, "KAGDGZCNT%")
    named = await raw.fetch(importing._CANDIDATES, *new, None, importing.PER_ROW)
    assert await raw.fetchval(importing._COUNT, *new, None) == len({r["new_id"] for r in named}) == 11
    first = tuple(column[:1] for column in new)
    assert await raw.fetchval(importing._COUNT, *first, ["js"]) == 0  # the scope holds for the count too
    out = await raw.fetchval("EXPLAIN (FORMAT JSON) " + importing._COUNT, *new, None)
    looked_up = _look_ups(json.loads(out) if isinstance(out, str) else out)
    assert looked_up and all(looked_up), looked_up


async def test_an_imports_analyze_that_cannot_get_its_lock_is_skipped_and_the_import_goes_on(
    database_url: str,
) -> None:
    """ANALYZE holds a lock that conflicts with another ANALYZE until its transaction ends: two imports
    at once would queue at the second one's (and deadlock if the first then waited for a row the
    second wrote). An import's ANALYZE waits at most ANALYZE_LOCK_TIMEOUT, then is skipped, and the
    import's transaction goes on."""
    from kam_customer.importexport import repository
    from kam_platform.embedded.postgres import plain_dsn

    holder = await asyncpg.connect(plain_dsn(database_url))
    importer = await asyncpg.connect(plain_dsn(database_url))
    try:
        await holder.execute("BEGIN")
        await holder.execute("ANALYZE customer.customer")  # its lock held until this transaction ends
        await importer.execute("BEGIN")
        await importer.execute("SET LOCAL lock_timeout = '7s'")  # a setting of the import's own
        assert await repository.analyze(importer) is False
        assert await importer.fetchval("SELECT 1") == 1  # the transaction is usable
        assert await importer.fetchval("SHOW lock_timeout") == "7s"  # and its setting is as it was
        await holder.execute("ROLLBACK")
        assert await repository.analyze(importer) is True
        assert await importer.fetchval("SHOW lock_timeout") == "7s"
        await importer.execute("ROLLBACK")
    finally:
        await holder.close()
        await importer.close()
