"""The count of a free-text search is exact up to kam_platform.tmf.COUNT_BOUND and a lower bound past
it (X-Total-Count-Relation: gte, issue 13); lists without q= keep an exact count, filtered or not."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from kam_platform.tmf import COUNT_BOUND

URL = "/tmf-api/customerManagement/v4/customer"


async def _insert(conn: AsyncConnection, n: int, name: str, prefix: str, *, industry: str = "FINANCE") -> None:
    """`n` live gd-gz customers named `name` + a number (set-based; the API would take minutes)."""
    await conn.execute(
        text(
            "INSERT INTO customer.customer (id, owner_node, version, customer_code, name, customer_type, "
            "mgmt_level, industry, grade, life_status, recog_status, created_at, updated_at) "
            "SELECT gen_random_uuid(), 'gd-gz', 1, :prefix || lpad(i::text, 8, '0'), :name || i, 'SINGLE', "
            "'LOCAL', :industry, 'C', 'ACTIVE', 'CONFIRMED', now(), now() "
            "FROM generate_series(CAST(:start AS int), CAST(:stop AS int)) AS i"
        ),
        {
            "prefix": "KAGDGZCNT" + prefix,
            "name": name,
            "industry": industry,
            "start": 0,
            "stop": n - 1,
        },
    )


async def _count(conn: AsyncConnection, where: str) -> int:
    sql = f"SELECT count(*) FROM customer.customer WHERE owner_node = 'gd-gz' AND deleted_at IS NULL AND {where}"
    return int((await conn.execute(text(sql))).scalar_one())


async def test_search_is_counted_exactly_up_to_the_bound_and_as_a_lower_bound_past_it(
    client: httpx.AsyncClient, auth: Any, rollback_conn: AsyncConnection
) -> None:
    assert COUNT_BOUND == 10_000  # the documented bound (docs/api-conventions.md)
    before = await _count(rollback_conn, "strpos(name, '计数银行') > 0")
    await _insert(rollback_conn, COUNT_BOUND - before, "计数银行分行", "A")
    r = await client.get(URL, params={"q": "计数银行", "limit": "5"}, headers=auth())
    assert r.status_code == 200, r.text
    # exactly the bound: still exact
    assert r.headers["X-Total-Count"] == str(COUNT_BOUND)
    assert r.headers["X-Total-Count-Relation"] == "eq"
    assert r.headers["X-Result-Count"] == "5" and len(r.json()) == 5

    await _insert(rollback_conn, 1, "计数银行支行", "B")  # one past the bound
    r = await client.get(URL, params={"q": "计数银行", "limit": "5"}, headers=auth())
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == str(COUNT_BOUND)
    assert r.headers["X-Total-Count-Relation"] == "gte"
    assert len(r.json()) == 5 and all("计数银行" in c["name"] for c in r.json())

    # a search combined with a filter is capped alike; a 3+-character term (the trigram path) matching
    # exactly the bound (the 分行 rows) is exact
    r = await client.get(URL, params={"q": "计数银行", "industry": "FINANCE", "limit": "1"}, headers=auth())
    assert r.headers["X-Total-Count"] == str(COUNT_BOUND) and r.headers["X-Total-Count-Relation"] == "gte"
    r = await client.get(URL, params={"q": "计数银行分", "limit": "1"}, headers=auth())
    assert r.headers["X-Total-Count"] == str(COUNT_BOUND) and r.headers["X-Total-Count-Relation"] == "eq"

    # a search with few matches is exact
    r = await client.get(URL, params={"q": "计数银行支行"}, headers=auth())
    assert r.headers["X-Total-Count"] == "1" and r.headers["X-Total-Count-Relation"] == "eq"
    # paging past the bound still answers the rows there
    r = await client.get(URL, params={"q": "计数银行", "offset": str(COUNT_BOUND), "limit": "5"}, headers=auth())
    assert r.status_code == 200 and len(r.json()) == 1


async def test_lists_without_q_keep_an_exact_count(
    client: httpx.AsyncClient, auth: Any, rollback_conn: AsyncConnection
) -> None:
    await _insert(rollback_conn, COUNT_BOUND + 7, "精确计数能源", "C", industry="ENERGY")
    everything = await _count(rollback_conn, "true")
    energy = await _count(rollback_conn, "industry = 'ENERGY'")
    assert everything > COUNT_BOUND and energy > COUNT_BOUND

    r = await client.get(URL, params={"limit": "1"}, headers=auth())
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == str(everything)
    assert "X-Total-Count-Relation" not in r.headers  # absent: exact

    r = await client.get(URL, params={"industry": "ENERGY", "limit": "1"}, headers=auth())
    assert r.headers["X-Total-Count"] == str(energy)
    assert "X-Total-Count-Relation" not in r.headers
