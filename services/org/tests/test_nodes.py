"""The node tree, loaded from the topology at start-up."""

from __future__ import annotations

import httpx

from .conftest import MakeUser, token_for

NODES = "/api/v1/org/nodes"


async def test_node_tree_is_queryable(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await make_user("agent1", ["service_agent"])
    headers = await token_for(client, "agent1")
    resp = await client.get(NODES, headers=headers)
    assert resp.status_code == 200
    assert resp.headers["x-total-count"] == "6"
    assert {n["code"] for n in resp.json()} == {"hq", "gd", "js", "gd-gz", "gd-sz", "js-nj"}

    gz = (await client.get(f"{NODES}/gd-gz", headers=headers)).json()
    assert gz == {
        "id": "gd-gz",
        "href": "http://testserver/api/v1/org/nodes/gd-gz",
        "code": "gd-gz",
        "tier": "local",
        "parent": "gd",
        "nameZh": "广州",
        "nameEn": "Guangzhou",
        "@type": "Node",
    }

    ancestors = await client.get(f"{NODES}/gd-gz/ancestors", headers=headers)
    assert [n["code"] for n in ancestors.json()] == ["gd", "hq"]
    assert (await client.get(f"{NODES}/hq/ancestors", headers=headers)).json() == []
    subtree = await client.get(f"{NODES}/gd/subtree", headers=headers)
    assert [n["code"] for n in subtree.json()] == ["gd", "gd-gz", "gd-sz"]
    assert subtree.headers["x-total-count"] == "3"
    locals_ = await client.get(f"{NODES}/hq/subtree", params={"tier": "local"}, headers=headers)
    assert [n["code"] for n in locals_.json()] == ["gd-gz", "gd-sz", "js-nj"]
    provinces = await client.get(NODES, params={"tier": "province", "fields": "nameZh"}, headers=headers)
    assert provinces.json() == [
        {"id": "gd", "href": "http://testserver/api/v1/org/nodes/gd", "nameZh": "广东", "@type": "Node"},
        {"id": "js", "href": "http://testserver/api/v1/org/nodes/js", "nameZh": "江苏", "@type": "Node"},
    ]


async def test_unknown_node_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for path in ("/xx", "/xx/ancestors", "/xx/subtree"):
        resp = await client.get(NODES + path, headers=admin)
        assert resp.status_code == 404
        assert resp.json()["@type"] == "Error"


async def test_nodes_need_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get(NODES)).status_code == 401
