"""The knowledge base (F2): items authored at hq reviewed by another person (403 otherwise), published
and found at a local network by a Chinese query with ranking and highlights; a local contribution taken
up, reviewed and published by its province; writes refused where the node does not own or author."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kam_platform.db.migrate import check
from kam_service.knowledge import repository
from kam_service.main import MIGRATIONS

BASE = "/api/v1/service/knowledge"
KB = ["service.knowledge:read", "service.knowledge:write", "service.knowledge:review"]

Auth = Callable[..., dict[str, str]]


def who(auth: Auth, node: str, user: str) -> dict[str, str]:
    return auth(node, user=user, perms=KB)


async def published(c: httpx.AsyncClient, auth: Auth, node: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await c.post(f"{BASE}/item", json=body, headers=who(auth, node, "author"))
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["status"] == "draft" and item["author"] == f"author@{node}"
    r = await c.post(f"{BASE}/item/{item['id']}/review", headers=who(auth, node, "author"))
    assert r.status_code == 403 and r.json()["code"] == "SEPARATION_OF_DUTIES", r.text
    r = await c.post(f"{BASE}/item/{item['id']}/review", headers=who(auth, node, "reviewer"))
    assert r.status_code == 200 and r.json()["reviewer"] == f"reviewer@{node}", r.text
    r = await c.post(f"{BASE}/item/{item['id']}/publish", headers=who(auth, node, "author"))
    assert r.status_code == 200 and r.json()["status"] == "published", r.text
    return r.json()  # type: ignore[no-any-return]


async def search(c: httpx.AsyncClient, auth: Auth, node: str, q: str, **params: str) -> httpx.Response:
    r = await c.get(f"{BASE}/item", params={"q": q, **params}, headers=who(auth, node, "reader"))
    assert r.status_code == 200, r.text
    return r


async def test_published_at_hq_found_at_gd_gz_ranked_and_highlighted(
    clients: dict[str, httpx.AsyncClient], auth: Auth
) -> None:
    hq, local = clients["hq"], clients["gd-gz"]
    body = {
        "kind": "FAQ",
        "title": "互联网专线故障处理流程",
        "summary": "专线中断时的排障步骤",
        "body": "客户报专线中断：先核对专线端口告警，再检查光缆。专线恢复后回访客户。<script>",
        "tags": ["专线", "故障"],
    }
    draft = await hq.post(f"{BASE}/item", json={**body, "title": "专线 草稿"}, headers=who(auth, "hq", "author"))
    assert draft.status_code == 201
    best = await published(hq, auth, "hq", body)
    other = await published(
        hq,
        auth,
        "hq",
        {"kind": "SOLUTION_CASE", "title": "某银行 SD-WAN 组网方案", "body": "总部与分支间以专线为备份链路。"},
    )

    r = await search(local, auth, "gd-gz", "专线")
    hits = r.json()
    assert [h["id"] for h in hits] == [best["id"], other["id"]], hits  # the draft is not in force here
    assert r.headers["X-Total-Count"] == "2"
    assert hits[0]["rank"] > hits[1]["rank"]
    assert "<em>专线</em>" in hits[0]["highlight"]["title"]
    assert "<em>专线</em>" in hits[1]["highlight"]["body"] and "&lt;" not in hits[1]["highlight"]["body"]
    assert "&lt;script&gt;" in hits[0]["highlight"]["body"]  # escaped, never raw markup

    # every word must occur; Latin terms ignore case; a one-character term works too
    assert [h["id"] for h in (await search(local, auth, "gd-gz", "专线 光缆")).json()] == [best["id"]]
    assert [h["id"] for h in (await search(local, auth, "gd-gz", "sd-wan")).json()] == [other["id"]]
    assert {h["id"] for h in (await search(local, auth, "gd-gz", "缆")).json()} == {best["id"]}
    assert (await search(local, auth, "gd-gz", "专线 卫星")).json() == []
    assert [h["id"] for h in (await search(local, auth, "gd-gz", "专线", kind="SOLUTION_CASE")).json()] == [other["id"]]
    assert [h["id"] for h in (await search(local, auth, "gd-gz", "专线", tags="故障")).json()] == [best["id"]]

    # a local network neither authors nor edits what hq owns
    r = await local.post(f"{BASE}/item", json=body, headers=who(auth, "gd-gz", "author"))
    assert r.status_code == 409, r.text
    r = await local.patch(f"{BASE}/item/{best['id']}", json={"title": "改"}, headers=who(auth, "gd-gz", "author"))
    assert r.status_code == 409 and r.json()["code"] == "NOT_OWNER" and r.json()["details"]["ownerNode"] == "hq"

    # revise: the published revision is kept, the draft is edited, then reviewed and published again
    r = await hq.patch(f"{BASE}/item/{best['id']}", json={"title": "改"}, headers=who(auth, "hq", "author"))
    assert r.status_code == 409, r.text
    r = await hq.post(f"{BASE}/item/{best['id']}/revise", headers=who(auth, "hq", "editor"))
    assert r.status_code == 200 and r.json()["revision"] == 2 and r.json()["status"] == "draft", r.text
    r = await hq.patch(
        f"{BASE}/item/{best['id']}", json={"body": "新流程：专线告警自动派单。"}, headers=who(auth, "hq", "editor")
    )
    assert r.status_code == 200, r.text
    r = await hq.get(f"{BASE}/item/{best['id']}/revision", headers=who(auth, "hq", "reader"))
    assert [(v["revision"], v["author"]) for v in r.json()] == [(1, "author@hq")]
    r = await hq.post(f"{BASE}/item/{best['id']}/review", headers=who(auth, "hq", "editor"))
    assert r.status_code == 403, r.text
    r = await hq.post(f"{BASE}/item/{best['id']}/publish", headers=who(auth, "hq", "editor"))
    assert r.status_code == 409 and r.json()["details"]["allowed"] == ["retire", "review"], r.text


async def test_local_contribution_reviewed_and_published_by_its_province(
    clients: dict[str, httpx.AsyncClient], auth: Auth
) -> None:
    local, gd = clients["gd-gz"], clients["gd"]
    body = {"kind": "SOLUTION_CASE", "title": "广州地铁 5G 专网案例", "body": "地铁站台 5G 专网覆盖方案与实施经验。"}
    r = await local.post(f"{BASE}/contribution", json=body, headers=who(auth, "gd-gz", "agent"))
    assert r.status_code == 201, r.text
    contribution = r.json()
    assert contribution["reviewingNode"] == "gd" and contribution["outcome"] is None
    r = await clients["hq"].post(f"{BASE}/contribution", json=body, headers=who(auth, "hq", "agent"))
    assert r.status_code == 409, r.text  # nothing above the root

    # only the province it was sent to takes it up
    r = await clients["hq"].post(f"{BASE}/contribution/{contribution['id']}/takeUp", headers=who(auth, "hq", "x"))
    assert r.status_code in (404, 409), r.text
    r = await gd.post(f"{BASE}/contribution/{contribution['id']}/takeUp", headers=who(auth, "gd", "reviewer"))
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["author"] == "agent@gd-gz" and item["contributedByNode"] == "gd-gz" and item["ownerNode"] == "gd"
    r = await gd.post(f"{BASE}/contribution/{contribution['id']}/takeUp", headers=who(auth, "gd", "reviewer"))
    assert r.status_code == 409, r.text  # answered once
    r = await gd.post(f"{BASE}/item/{item['id']}/review", headers=who(auth, "gd", "reviewer"))
    assert r.status_code == 200, r.text
    r = await gd.post(f"{BASE}/item/{item['id']}/publish", headers=who(auth, "gd", "reviewer"))
    assert r.status_code == 200, r.text

    r = await local.get(f"{BASE}/contribution/{contribution['id']}", headers=who(auth, "gd-gz", "agent"))
    assert r.json()["outcome"] == {
        "itemId": item["id"],
        "status": "published",
        "reviewer": "reviewer@gd",
        "statusReason": None,
    }
    hits = (await search(local, auth, "gd-gz", "5G 专网")).json()
    assert [h["id"] for h in hits] == [item["id"]]

    # a declined contribution: the outcome says so, with the reason
    r = await local.post(
        f"{BASE}/contribution", json={**body, "title": "重复案例"}, headers=who(auth, "gd-gz", "agent")
    )
    second = r.json()
    r = await gd.post(
        f"{BASE}/contribution/{second['id']}/decline",
        json={"reason": "与已有案例重复"},
        headers=who(auth, "gd", "reviewer"),
    )
    assert r.status_code == 200 and r.json()["status"] == "retired", r.text
    r = await local.get(f"{BASE}/contribution", headers=who(auth, "gd-gz", "agent"))
    outcomes = {c["id"]: c["outcome"] for c in r.json()}
    assert outcomes[second["id"]]["status"] == "retired"
    assert outcomes[second["id"]]["statusReason"] == "与已有案例重复"


async def test_bad_input_is_an_error_envelope(clients: dict[str, httpx.AsyncClient], auth: Auth) -> None:
    hq = clients["hq"]
    r = await hq.post(f"{BASE}/item", json={"kind": "RUMOUR", "title": "x", "body": "y"}, headers=who(auth, "hq", "a"))
    assert r.status_code == 422 and r.json()["@type"] == "Error", r.text
    r = await hq.get(f"{BASE}/item", params={"colour": "red"}, headers=who(auth, "hq", "a"))
    assert r.status_code == 400 and r.json()["@type"] == "Error", r.text
    r = await hq.get(f"{BASE}/item/not-a-uuid", headers=who(auth, "hq", "a"))
    assert r.status_code == 404, r.text
    r = await hq.get(f"{BASE}/item", headers=auth("hq", perms=["service.ticket:read"]))
    assert r.status_code == 403, r.text
    r = await hq.get(f"{BASE}/item", params={"q": "%_\\"}, headers=who(auth, "hq", "a"))
    assert r.status_code == 200 and r.json() == [], r.text


def test_models_match_migrations(database_url: str) -> None:
    check(database_url, MIGRATIONS)


async def test_a_search_counts_up_to_the_bound_and_ranks_within_its_window(
    clients: dict[str, httpx.AsyncClient], auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """X-Total-Count of a search is exact up to COUNT_BOUND (X-Total-Count-Relation: eq) and past it the
    bound as a lower bound (gte); a list without q= is counted exactly. The ranked pages of a search are
    cut from one window of RANK_WINDOW matches: no page repeats another, and past the window a 422."""
    monkeypatch.setattr(repository, "COUNT_BOUND", 3)
    monkeypatch.setattr(repository, "RANK_WINDOW", 4)
    hq = clients["hq"]
    term = f"量子密话{uuid.uuid4().hex[:6]}"
    for i, kind in enumerate(("FAQ", "FAQ", "FAQ", "POLICY", "POLICY")):
        body = {"kind": kind, "title": f"条目{i}", "summary": "摘要", "body": f"{term}正文 {i}", "tags": []}
        r = await hq.post(f"{BASE}/item", json=body, headers=who(auth, "hq", "author"))
        assert r.status_code == 201, r.text

    five = await search(hq, auth, "hq", term)
    assert five.headers["X-Total-Count"] == "3" and five.headers["X-Total-Count-Relation"] == "gte"
    two = await search(hq, auth, "hq", term, kind="POLICY")
    assert two.headers["X-Total-Count"] == "2" and two.headers["X-Total-Count-Relation"] == "eq"
    assert len(two.json()) == 2
    r = await hq.get(f"{BASE}/item", headers=who(auth, "hq", "reader"))  # all five and more: no bound
    assert r.status_code == 200 and "X-Total-Count-Relation" not in r.headers
    assert int(r.headers["X-Total-Count"]) >= 5

    pages = [await search(hq, auth, "hq", term, limit="2", offset=str(o)) for o in (0, 2)]
    ids = [i["id"] for p in pages for i in p.json()]
    assert len(ids) == 4 and len(set(ids)) == 4, ids
    r = await hq.get(f"{BASE}/item", params={"q": term, "offset": "4"}, headers=who(auth, "hq", "reader"))
    assert r.status_code == 422 and r.json()["details"]["field"] == "offset", r.text
    # sort= orders every match: all five are reachable
    pages = [await search(hq, auth, "hq", term, sort="lastUpdate", limit="2", offset=str(o)) for o in (0, 2, 4)]
    assert len({i["id"] for p in pages for i in p.json()}) == 5
