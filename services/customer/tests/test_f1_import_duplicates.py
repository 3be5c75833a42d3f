"""F1 duplicate detection on import: created rows that may duplicate a customer are warnings in the
import result (by credit code and normalised name, within the importer's scope), never refusals."""

from __future__ import annotations

import httpx

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
