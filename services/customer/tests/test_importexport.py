"""Bulk import (CSV/XLSX) and export of key accounts, and the demo seed, against real PostgreSQL."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.customer.rules import credit_code_problem
from kam_customer.importexport.schemas import EXPORT_HEADER, XLSX_TYPE
from kam_customer.main import MIGRATIONS
from kam_customer.seed import seed
from kam_platform.db.engine import get_read_session
from kam_platform.topology import Topology

from .conftest import DEMO, valid_credit_code

IMPORTS = "/api/v1/customer/imports"
EXPORTS = "/api/v1/customer/exports"
HEADER = "customerCode,name,customerType,industry,grade,status,recognitionStatus,creditCode,accountManager,accountManagerName"


@pytest.fixture
def ie(customer_app: FastAPI, client: httpx.AsyncClient, rollback_conn: AsyncConnection) -> httpx.AsyncClient:
    """The client, with exports (ReadSession) also reading inside the test's transaction."""

    async def read_session() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(
            bind=rollback_conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
        ) as session:
            yield session

    customer_app.dependency_overrides[get_read_session] = read_session  # cleared by the client fixture
    return client


def csv_body(*rows: str, header: str = HEADER, bom: bool = False) -> bytes:
    body = "\n".join([header, *rows]) + "\n"
    return (codecs.BOM_UTF8 if bom else b"") + body.encode()


CC1 = valid_credit_code("91440101MA59UQXY1")
CC2 = valid_credit_code("12440100455000000")
GOOD = [
    f"KAGDGZIMP0001,中国工商银行广州分行,SINGLE,FINANCE,A,ACTIVE,CONFIRMED,{CC1},am01,张伟",
    f"KAGDGZIMP0002,广州市第一人民医院,SINGLE,HEALTH,B,PROSPECT,CANDIDATE,{CC2},,",
    "KAGDGZIMP0003,广汽集团,GROUP_CUSTOMER,制造,A,,,,am02,王芳",
]


async def post_csv(
    ie: httpx.AsyncClient, headers: dict[str, str], body: bytes, ctype: str = "text/csv"
) -> httpx.Response:
    return await ie.post(IMPORTS, content=body, headers={**headers, "Content-Type": ctype})


async def scalar(conn: AsyncConnection, sql: str, **params: Any) -> Any:
    return (await conn.execute(text(sql), params)).scalar()


IMPORTED = "kam.v1.CustomersImported"


async def imported(conn: AsyncConnection) -> list[tuple[str, customer_pb2.CustomersImported]]:
    """The import's batch events in the outbox, oldest first (subject, message)."""
    rows = await conn.execute(
        text("SELECT subject, payload FROM customer.outbox WHERE event_type = :t ORDER BY created_at, id"),
        {"t": IMPORTED},
    )
    out = []
    for subject, payload in rows:
        env = envelope_pb2.Envelope.FromString(bytes(payload))
        out.append((subject, customer_pb2.CustomersImported.FromString(env.payload)))
    return out


async def test_csv_import_creates_customers_with_legal_entity_events_and_audit(ie, auth, rollback_conn) -> None:
    r = await post_csv(ie, auth("gd-gz"), csv_body(*GOOD, bom=True))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["@type"] == "ImportResult"
    assert (body["received"], body["created"], body["updated"], body["rejected"]) == (3, 3, 0, 0)
    rows = (
        (
            await rollback_conn.execute(
                text(
                    "SELECT c.customer_code, c.name, c.industry, c.life_status, c.owner_node, c.version, c.customer_type, "
                    "o.name AS org_name, o.credit_code AS org_credit FROM customer.customer c "
                    "JOIN customer.organization o ON o.id = c.organization_id "
                    "WHERE c.customer_code LIKE 'KAGDGZIMP%' ORDER BY 1"
                )
            )
        )
        .mappings()
        .all()
    )
    assert [x["customer_code"] for x in rows] == ["KAGDGZIMP0001", "KAGDGZIMP0002", "KAGDGZIMP0003"]
    assert rows[0]["org_name"] == "中国工商银行广州分行" and rows[0]["org_credit"] == CC1
    assert rows[2]["industry"] == "MANUFACTURING"  # Chinese label accepted
    assert rows[2]["life_status"] == "PROSPECT"  # empty cell → default on create
    assert {x["owner_node"] for x in rows} == {"gd-gz"} and {x["version"] for x in rows} == {1}
    ids = "SELECT id::text FROM customer.customer WHERE customer_code LIKE 'KAGDGZIMP%'"
    # the customers and the legal entities the import created reach replicas as through the API, in one
    # CustomersImported batch event (issue 13) with the chunk's audit record naming the job
    events = await imported(rollback_conn)
    assert len(events) == 1
    subject, m = events[0]
    assert subject == f"up.gd-gz.customer.import_chunk.{m.audit.id}" and m.job_id == body["job"]
    stored = set((await rollback_conn.execute(text(ids))).scalars())
    assert {c.id for c in m.customers} == set(m.created_ids) == stored
    orgs = "SELECT organization_id::text FROM customer.customer WHERE customer_code LIKE 'KAGDGZIMP%'"
    assert {o.id for o in m.organizations} == set((await rollback_conn.execute(text(orgs))).scalars())
    assert (
        await scalar(
            rollback_conn,
            "SELECT count(*) FROM customer.audit WHERE action = 'import' AND entity_type = 'import' "
            "AND actor = 'am01' AND entity_id = CAST(:job AS uuid) AND id = CAST(:audit AS uuid)",
            job=body["job"],
            audit=m.audit.id,
        )
        == 1
    )
    assert await scalar(rollback_conn, "SELECT count(*) FROM customer.outbox WHERE event_type <> :t", t=IMPORTED) == 0
    # account managers get the same assignment history as through the API
    hist = await ie.get(
        f"/api/v1/customer/customers/{await scalar(rollback_conn, ids + ' ORDER BY customer_code')}/account-managers",
        headers=auth("gd-gz"),
    )
    assert [a["accountManager"] for a in hist.json()] == ["am01"]
    # and they are visible through the TMF API
    r = await ie.get("/tmf-api/customerManagement/v4/customer", params={"q": "人民医院"}, headers=auth("gd-gz"))
    assert [c["customerCode"] for c in r.json()] == ["KAGDGZIMP0002"]


async def test_reimport_updates_in_place_bumps_version_and_never_duplicates(ie, auth, rollback_conn) -> None:
    assert (await post_csv(ie, auth("gd-gz"), csv_body(*GOOD))).json()["created"] == 3
    changed = GOOD[1].replace(",B,PROSPECT,", ",A,ACTIVE,")
    r = await post_csv(ie, auth("gd-gz"), csv_body(GOOD[0], changed, GOOD[2]))
    body = r.json()
    assert (body["created"], body["updated"], body["rejected"]) == (0, 3, 0), body
    rows = (
        await rollback_conn.execute(
            text(
                "SELECT customer_code, version, grade, life_status FROM customer.customer "
                "WHERE customer_code LIKE 'KAGDGZIMP%' AND deleted_at IS NULL ORDER BY 1"
            )
        )
    ).all()
    assert [(c, v) for c, v, *_ in rows] == [("KAGDGZIMP0001", 2), ("KAGDGZIMP0002", 2), ("KAGDGZIMP0003", 2)]
    assert rows[1][2:] == ("A", "ACTIVE")
    assert (
        await scalar(
            rollback_conn,
            "SELECT count(*) FROM customer.organization o JOIN customer.customer c "
            "ON c.organization_id = o.id WHERE c.customer_code LIKE 'KAGDGZIMP%'",
        )
        == 3
    )
    # the second import's batch event carries the new versions; its audit record names the changes
    _, m = (await imported(rollback_conn))[-1]
    assert m.job_id == body["job"] and not m.created_ids
    states = {c.customer_code: c for c in m.customers}
    assert (states["KAGDGZIMP0002"].version, states["KAGDGZIMP0002"].life_status) == (2, "ACTIVE")
    details = {row["customerCode"]: row for row in json.loads(m.audit.changes_json)["rows"]}
    assert details["KAGDGZIMP0002"]["action"] == "updated"
    assert details["KAGDGZIMP0002"]["changes"]["status"] == ["PROSPECT", "ACTIVE"]


async def test_bad_rows_are_reported_with_row_and_column_while_good_rows_land(ie, auth, rollback_conn) -> None:
    bad_credit = CC1[:17] + ("0" if CC1[17] != "0" else "1")
    body = csv_body(
        GOOD[0],
        f"KAGDGZIMP0010,坏信用代码公司,SINGLE,FINANCE,B,ACTIVE,CONFIRMED,{bad_credit},,",
        "KAGDGZIMP0011,未知行业公司,SINGLE,SPACE,B,ACTIVE,CONFIRMED,,,",
        "KAGDGZIMP0012,,SINGLE,FINANCE,B,ACTIVE,CONFIRMED,,,",
        "KAGDGZIMP0001,重复编码,SINGLE,FINANCE,B,ACTIVE,CONFIRMED,,,",
        GOOD[1],
    )
    result = (await post_csv(ie, auth("gd-gz"), body)).json()
    assert (result["received"], result["created"], result["rejected"]) == (6, 2, 4), result
    errors = {(e["row"], e["column"]) for e in result["errors"]}
    assert errors == {(3, "creditCode"), (4, "industry"), (5, "name"), (6, "customerCode")}
    assert "check digit" in next(e["message"] for e in result["errors"] if e["row"] == 3)
    codes = (
        (
            await rollback_conn.execute(
                text("SELECT customer_code FROM customer.customer WHERE customer_code LIKE 'KAGDGZIMP%' ORDER BY 1")
            )
        )
        .scalars()
        .all()
    )
    assert codes == ["KAGDGZIMP0001", "KAGDGZIMP0002"]


async def test_rows_owned_by_another_node_are_reported_not_overwritten(
    ie, auth, insert_customer, rollback_conn
) -> None:
    await insert_customer("gd-sz", "深圳的客户", customer_code="KAGDGZIMP0001")
    result = (await post_csv(ie, auth("gd-gz"), csv_body(*GOOD))).json()
    assert (result["created"], result["rejected"]) == (2, 1)
    assert result["errors"] == [
        {
            "row": 2,
            "column": "customerCode",
            "message": "customer KAGDGZIMP0001 not found in your data scope; the code cannot be used here",
        }
    ]  # gd-sz is outside a gd-gz token's scope: its owner is not named (issue 6, finding 15)
    assert (
        await scalar(rollback_conn, "SELECT name FROM customer.customer WHERE customer_code = 'KAGDGZIMP0001'")
        == "深圳的客户"
    )


async def test_illegal_status_change_and_unknown_parent_are_row_errors(ie, auth) -> None:
    await post_csv(ie, auth("gd-gz"), csv_body(*GOOD))
    header = HEADER + ",parentCustomerCode"
    result = (
        await post_csv(
            ie,
            auth("gd-gz"),
            csv_body(
                GOOD[0].replace(",ACTIVE,", ",PROSPECT,") + ",",  # ACTIVE → PROSPECT is not a legal transition
                "KAGDGZIMP0020,广汽埃安,SINGLE,MANUFACTURING,B,ACTIVE,CONFIRMED,,,,KAGDGZIMP0003",
                "KAGDGZIMP0021,孤儿分公司,SINGLE,MANUFACTURING,B,ACTIVE,CONFIRMED,,,,KANOSUCH",
                header=header,
            ),
        )
    ).json()
    assert (result["created"], result["rejected"]) == (1, 2), result
    assert {(e["row"], e["column"]) for e in result["errors"]} == {(2, "status"), (4, "parentCustomerCode")}


async def test_xlsx_import(ie, auth, rollback_conn) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户编码", "客户名称", "行业", "客户等级", "统一社会信用代码"])
    ws.append(["KAGDGZXLS0001", "南京市公安局", "政府", "A", CC2])
    ws.append(["KAGDGZXLS0002", "南京大学", "EDUCATION", "B", None])
    ws.append([None, None, None, None, None])
    buf = io.BytesIO()
    wb.save(buf)
    r = await post_csv(ie, auth("gd-gz"), buf.getvalue(), XLSX_TYPE)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["rejected"]) == (2, 0)
    assert (
        await scalar(rollback_conn, "SELECT industry FROM customer.customer WHERE customer_code = 'KAGDGZXLS0001'")
        == "GOVERNMENT"
    )


async def test_multipart_upload_is_accepted(ie, auth) -> None:
    r = await ie.post(IMPORTS, files={"file": ("customers.csv", csv_body(*GOOD), "text/csv")}, headers=auth("gd-gz"))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 3


async def test_csv_export_round_trips(ie, auth, rollback_conn) -> None:
    await post_csv(ie, auth("gd-gz"), csv_body(*GOOD))
    r = await ie.get(EXPORTS, params={"format": "csv", "q": "KAGDGZIMP0001"}, headers=auth("gd-gz"))
    assert r.status_code == 200
    assert r.content.startswith(codecs.BOM_UTF8)
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and ".csv" in r.headers["content-disposition"]
    r = await ie.get(EXPORTS, headers=auth("gd-gz"))
    exported = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    mine = [row for row in exported if row["customerCode"].startswith("KAGDGZIMP")]
    assert [row["customerCode"] for row in mine] == ["KAGDGZIMP0001", "KAGDGZIMP0002", "KAGDGZIMP0003"]
    assert list(exported[0]) == EXPORT_HEADER
    assert mine[0]["name"] == "中国工商银行广州分行" and mine[0]["creditCode"] == CC1
    before = (
        await rollback_conn.execute(
            text(
                "SELECT customer_code, name, industry, grade, life_status, credit_code, account_manager FROM "
                "customer.customer WHERE customer_code LIKE 'KAGDGZIMP%' ORDER BY 1"
            )
        )
    ).all()
    again = (await post_csv(ie, auth("gd-gz"), r.content)).json()
    assert again["rejected"] == 0 and again["created"] == 0 and again["updated"] == len(exported)
    after = (
        await rollback_conn.execute(
            text(
                "SELECT customer_code, name, industry, grade, life_status, credit_code, account_manager FROM "
                "customer.customer WHERE customer_code LIKE 'KAGDGZIMP%' ORDER BY 1"
            )
        )
    ).all()
    assert after == before


async def test_xlsx_export_round_trips(ie, auth, rollback_conn) -> None:
    await post_csv(ie, auth("gd-gz"), csv_body(*GOOD))
    r = await ie.get(EXPORTS, params={"format": "xlsx", "q": "KAGDGZIMP"}, headers=auth("gd-gz"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX_TYPE
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == EXPORT_HEADER
    assert len(rows) == 1  # q= matches a name substring or an exact code, and KAGDGZIMP is neither
    r = await ie.get(
        EXPORTS,
        params={"format": "xlsx", "customerCode": "KAGDGZIMP0001,KAGDGZIMP0002,KAGDGZIMP0003"},
        headers=auth("gd-gz"),
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert sorted(row[0] for row in rows[1:]) == ["KAGDGZIMP0001", "KAGDGZIMP0002", "KAGDGZIMP0003"]
    again = (await post_csv(ie, auth("gd-gz"), r.content, XLSX_TYPE)).json()
    assert (again["created"], again["updated"], again["rejected"]) == (0, 3, 0), again
    assert (
        await scalar(rollback_conn, "SELECT name FROM customer.customer WHERE customer_code = 'KAGDGZIMP0003'")
        == "广汽集团"
    )


async def test_export_never_leaks_rows_outside_the_scope(ie, auth, insert_customer) -> None:
    await insert_customer("gd-sz", "深圳范围外客户")
    await insert_customer("gd-gz", "广州范围内客户")
    r = await ie.get(EXPORTS, params={"q": "范围"}, headers=auth("gd-gz"))
    names = {row["name"] for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))}
    assert names == {"广州范围内客户"}
    r = await ie.get(EXPORTS, params={"q": "范围", "ownerNode": "gd-sz"}, headers=auth("gd-gz"))
    assert list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))) == []
    r = await ie.get(EXPORTS, params={"q": "范围"}, headers=auth("gd"))
    names = {row["name"] for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))}
    assert names == {"广州范围内客户", "深圳范围外客户"}


async def test_import_and_export_need_their_permissions(ie, auth) -> None:
    r = await post_csv(ie, auth("gd-gz", perms=["customer:read", "customer:create"]), csv_body(*GOOD))
    assert r.status_code == 403 and r.json()["@type"] == "Error"
    r = await ie.get(EXPORTS, headers=auth("gd-gz", perms=["customer:read"]))
    assert r.status_code == 403
    assert (await ie.get(EXPORTS)).status_code == 401


async def test_bad_uploads_get_the_error_envelope(ie, auth) -> None:
    headers = auth("gd-gz")
    r = await post_csv(ie, headers, b'{"name": "x"}', "application/json")
    assert r.status_code == 415 and r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    r = await post_csv(ie, headers, b"")
    assert r.status_code == 422 and r.json()["@type"] == "Error"
    r = await post_csv(ie, headers, b"\x00\x01\xff\xfe garbage \x00")
    assert r.status_code == 400, r.text
    r = await post_csv(ie, headers, b"not a zip file", XLSX_TYPE)
    assert r.status_code == 400
    r = await post_csv(ie, headers, b"foo,bar\n1,2\n")
    assert r.status_code == 422 and "customerCode" in r.json()["message"]
    r = await ie.get(EXPORTS, params={"format": "pdf"}, headers=headers)
    assert r.status_code == 400


async def test_gb18030_csv_from_excel_is_read(ie, auth, rollback_conn) -> None:
    body = ("客户编码,客户名称,行业\nKAGDGZGBK0001,深圳市税务局,政府\n").encode("gb18030")
    result = (await post_csv(ie, auth("gd-gz"), body)).json()
    assert result["created"] == 1, result
    assert (
        await scalar(rollback_conn, "SELECT name FROM customer.customer WHERE customer_code = 'KAGDGZGBK0001'")
        == "深圳市税务局"
    )


# --- seed --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_db(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_customer_seed", [MIGRATIONS])


async def test_seed_is_idempotent_and_realistic(seed_db: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    topology = Topology.load(DEMO)
    assert await seed(seed_db, "gd", topology, customers=40) == 40
    assert await seed(seed_db, "gd-gz", topology, customers=60) == 60
    engine = create_async_engine(seed_db)
    try:
        async with engine.connect() as conn:

            async def counts() -> tuple[int, int, int]:
                return (
                    await scalar(conn, "SELECT count(*) FROM customer.customer WHERE owner_node = 'gd-gz'"),
                    await scalar(conn, "SELECT count(*) FROM customer.contact WHERE owner_node = 'gd-gz'"),
                    await scalar(conn, "SELECT count(*) FROM customer.organization WHERE owner_node = 'gd-gz'"),
                )

            first = await counts()
            await conn.rollback()
            assert await seed(seed_db, "gd-gz", topology, customers=60) == 60
            assert await counts() == first
            assert first[0] == 60 and first[1] >= 120 and first[2] == 60
            rows = (
                await conn.execute(
                    text(
                        "SELECT customer_code, name, credit_code, version, parent_customer_id, industry "
                        "FROM customer.customer WHERE owner_node = 'gd-gz'"
                    )
                )
            ).all()
            assert all(credit_code_problem(r.credit_code) is None for r in rows)
            assert {r.version for r in rows} == {2}
            assert any("广州" in r.name for r in rows)
            assert len({r.industry for r in rows}) >= 6
            # the branch of a national group points at the provincial record (same database here)
            parent = await scalar(
                conn,
                "SELECT p.customer_code FROM customer.customer c JOIN customer.customer p "
                "ON p.id = c.parent_customer_id WHERE c.customer_code = 'KAGDGZ-GRP-ICBC'",
            )
            assert parent == "KAGD-GRP-ICBC"
            assert (
                await scalar(
                    conn,
                    "SELECT count(*) FROM customer.customer WHERE parent_customer_id = "
                    "(SELECT id FROM customer.customer WHERE customer_code = 'KAGDGZG000001')",
                )
                == 3
            )
            # the province's HQ parent is at hq, which was not seeded into this database: no parent
            assert (
                await scalar(
                    conn, "SELECT parent_customer_id FROM customer.customer WHERE customer_code = 'KAGD-GRP-ICBC'"
                )
                is None
            )
            roles = set(
                (
                    await conn.execute(
                        text("SELECT DISTINCT decision_role FROM customer.contact WHERE owner_node = 'gd-gz'")
                    )
                ).scalars()
            )
            assert roles == {"DECISION_MAKER", "INFLUENCER", "USER"}
            phones = (
                (await conn.execute(text("SELECT phone FROM customer.contact WHERE owner_node = 'gd-gz'")))
                .scalars()
                .all()
            )
            assert all(len(p) == 11 and p[0] == "1" and p[1] in "3456789" for p in phones)
            assert (
                await scalar(
                    conn,
                    "SELECT count(*) FROM customer.outbox WHERE event_type = "
                    "'kam.v1.CustomerCreated' AND subject LIKE 'up.gd-gz.%'",
                )
                == 60
            )
    finally:
        await engine.dispose()
