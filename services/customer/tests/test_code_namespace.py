"""Customer codes are assigned only inside the assigning node's namespace (issue 6, finding 5): a
client-supplied code must start with ``KA<NODE>`` (the longest node prefix names the node), in the API
and in bulk import; the demo seed keeps to it too."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from kam_customer.customer.rules import code_namespace, code_prefix
from kam_customer.seed import plan_customers
from kam_platform.topology import Topology

from .conftest import DEMO

URL = "/tmf-api/customerManagement/v4/customer"
IMPORTS = "/api/v1/customer/imports"


@pytest.mark.parametrize(
    ("code", "node"),
    [
        ("KAGDGZ00000001", "gd-gz"),
        ("KAGDGZ-OWN-1", "gd-gz"),
        ("KAGD00000001", "gd"),
        ("KAGD-GRP-ICBC", "gd"),
        ("KAJSNJ00000002", "js-nj"),
        ("KAHQ-GRP-CCB", "hq"),
        ("KA-DUP-0001", None),
        ("XYZ00001", None),
    ],
)
def test_the_longest_node_prefix_names_a_codes_node(code: str, node: str | None) -> None:
    assert code_namespace(Topology.load(DEMO), code) == node


async def test_client_code_in_another_nodes_namespace_is_422_naming_the_rule(client, auth, customer_body) -> None:
    for code, other in (("KAJSNJ00000002", "js-nj"), ("KAGD-BANK-1", "gd"), ("KA-FREE-1", None)):
        r = await client.post(URL, json=customer_body(customerCode=code), headers=auth())
        body = r.json()
        assert r.status_code == 422 and body["@type"] == "Error", body
        assert "customerCode" in body["message"] and "codes assigned at gd-gz start with KAGDGZ" in body["message"]
        assert (f"in {other}'s" if other else "names no node") in body["message"]
    ok = await client.post(URL, json=customer_body(customerCode="KAGDGZ-OWN-0001"), headers=auth())
    assert ok.status_code == 201, ok.text


async def test_import_rejects_rows_whose_code_is_outside_the_nodes_namespace(client, auth, rollback_conn) -> None:
    body = (
        "customerCode,name,industry\nKAJSNJ00000003,抢注的编码,FINANCE\nKAGDGZ-IMPNS-1,自己的编码,FINANCE\n"
    ).encode()
    r = await client.post(IMPORTS, content=body, headers={**auth(), "Content-Type": "text/csv"})
    result: dict[str, Any] = r.json()
    assert (result["created"], result["rejected"]) == (1, 1), result
    (error,) = result["errors"]
    assert (error["row"], error["column"]) == (2, "customerCode")
    assert "lies in js-nj's" in error["message"] and "start with KAGDGZ" in error["message"]
    written = (
        await rollback_conn.execute(text("SELECT customer_code FROM customer.customer WHERE name = '抢注的编码'"))
    ).first()
    assert written is None


def test_seeded_codes_and_their_parents_lie_in_their_nodes_namespaces() -> None:
    topology = Topology.load(DEMO)
    for node in topology:
        rows = plan_customers(node.code, topology, 40, [("am01", "张伟")])
        assert rows
        for row in rows:
            assert code_namespace(topology, str(row["customer_code"])) == node.code, row["customer_code"]
            if row["parent_code"]:
                parent = code_namespace(topology, str(row["parent_code"]))
                assert parent in (node.code, *topology.ancestors(node.code)), row["parent_code"]
    assert code_prefix("gd-gz") == "KAGDGZ"
