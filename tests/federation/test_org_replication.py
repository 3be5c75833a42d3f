"""Org records up the tree (issue 8 §2) on the six-node demo federation: staff and teams created at a
local network are visible at its province and the group with the same version, an update converges,
a replica refuses writes and logins, the group lists national staff while each node's scope stays its
subtree, and audit rows travel with the records."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from .conftest import Nodes, wait_until

pytestmark = pytest.mark.federation

CONVERGE = 60.0
STAFF = "/api/v1/org/staff"
TEAMS = "/api/v1/org/teams"
PASSWORD = "fed-replica-2026"


def _held(demo: Nodes, node: str, path: str) -> dict[str, Any] | None:
    r = demo.get(node, path)
    return r.json() if r.status_code == 200 else None


def _converged(demo: Nodes, node: str, path: str, version: int) -> dict[str, Any]:
    got = wait_until(
        lambda: (lambda b: b if b is not None and b["version"] == version else None)(_held(demo, node, path)),
        timeout=CONVERGE,
        what=f"{path} v{version} at {node}",
    )
    assert isinstance(got, dict)
    return got


def _column(demo: Nodes, node: str, sql: str, **params: Any) -> list[Any]:
    async def read() -> list[Any]:
        engine = create_async_engine(demo.fed.database_url(node))
        try:
            async with engine.begin() as conn:  # committed: a statement may change rows
                return list((await conn.execute(text(sql), params)).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _audit_actions(demo: Nodes, node: str, entity_id: str) -> list[str]:
    sql = "SELECT action FROM org.audit WHERE entity_id = CAST(:i AS uuid) ORDER BY at"
    return _column(demo, node, sql, i=entity_id)


def test_staff_and_teams_of_a_local_network_replicate_up_read_only(demo: Nodes) -> None:
    r = demo.post(
        "gd-gz",
        STAFF,
        {
            "username": "fed_am01",
            "displayName": "王客户经理",
            "password": PASSWORD,
            "phone": "13800138000",
            "roles": ["account_manager"],
        },
    )
    assert r.status_code == 201, r.text
    created = r.json()
    path = f"{STAFF}/{created['id']}"
    for node in ("gd", "hq"):
        got = _converged(demo, node, path, 1)
        assert {k: got[k] for k in ("username", "displayName", "ownerNode", "roles", "phone", "createdAt")} == {
            "username": "fed_am01",
            "displayName": "王客户经理",
            "ownerNode": "gd-gz",
            "roles": ["account_manager"],
            "phone": "13800138000",
            "createdAt": created["createdAt"],
        }
    assert demo.get("gd-sz", path).status_code == 404  # a sibling holds no replica
    assert demo.get("js", path).status_code == 404

    # an update at the owner converges everywhere, version for version
    r = demo.patch("gd-gz", path, {"displayName": "王经理", "roles": ["account_manager", "ka_dept_manager"]})
    assert r.status_code == 200, r.text
    owner = r.json()
    assert owner["version"] == 2
    for node in ("gd", "hq"):
        got = _converged(demo, node, path, 2)
        assert (got["displayName"], got["roles"], got["updatedAt"]) == (
            "王经理",
            ["account_manager", "ka_dept_manager"],
            owner["updatedAt"],
        )

    # a replica refuses writes, naming the owner
    for node in ("gd", "hq"):
        w = demo.patch(node, path, {"displayName": "改"})
        assert w.status_code == 409, w.text
        assert (w.json()["code"], w.json()["details"]["ownerNode"]) == ("NOT_OWNER", "gd-gz")
        assert demo.delete(node, path).status_code == 409

    # login stays local: the replica at gd holds no password
    form = {"grant_type": "password", "username": "fed_am01", "password": PASSWORD}
    assert demo.http.post(demo.url("gd-gz", "/api/v1/auth/token"), data=form).status_code == 200
    assert demo.http.post(demo.url("gd", "/api/v1/auth/token"), data=form).status_code == 401

    # a team of gd-gz with the new staff member, read-only at the ancestors too
    r = demo.post(
        "gd-gz",
        TEAMS,
        {
            "code": "FED-FIN",
            "name": "金融行业团队",
            "kind": "行业专家团队",
            "leaderId": created["id"],
            "memberIds": [created["id"]],
        },
    )
    assert r.status_code == 201, r.text
    team = r.json()
    for node in ("gd", "hq"):
        got = _converged(demo, node, f"{TEAMS}/{team['id']}", 1)
        assert (got["ownerNode"], got["leaderId"], got["memberIds"]) == ("gd-gz", created["id"], [created["id"]])
    assert demo.patch("hq", f"{TEAMS}/{team['id']}", {"name": "改"}).status_code == 409

    # history: the owner's audit rows for the staff member reach the group
    actions = wait_until(
        lambda: (lambda a: a if len(a) == 2 else None)(_audit_actions(demo, "hq", created["id"])),
        timeout=CONVERGE,
        what="staff audit at hq",
    )
    assert actions == ["create", "update"] == _audit_actions(demo, "gd-gz", created["id"])
    # nothing of the real traffic was refused or failed on the way (seeded staff, audit, these records)
    for node in ("gd", "hq"):
        assert _column(demo, node, "SELECT error FROM org.dead_letter") == []


def test_the_group_lists_national_staff_and_each_node_its_subtree(demo: Nodes) -> None:
    topo = demo.fed.topology

    def owners(node: str, scope: str | None = None) -> set[str]:
        r = demo.get(node, STAFF, scope=scope, params={"roles": "account_manager", "limit": 1000})
        assert r.status_code == 200, r.text
        return {s["ownerNode"] for s in r.json()}

    # the seed made account managers at every node: the group sees all of them, a province its subtree,
    # a local network its own, a group user narrowed to gd only gd's subtree
    expected = {
        ("hq", None): {n.code for n in topo},
        ("gd", None): set(topo.subtree("gd")),
        ("gd-gz", None): {"gd-gz"},
        ("hq", "gd"): set(topo.subtree("gd")),
    }
    for (node, scope), want in expected.items():
        got = wait_until(
            lambda n=node, s=scope, w=want: (lambda o: o if o == w else None)(owners(n, s)),
            timeout=CONVERGE,
            what=f"owners of the account managers listed at {node} (scope {scope})",
        )
        assert got == want


def test_resync_restores_org_replicas_a_province_lost(demo: Nodes) -> None:
    """A province that lost its replicas of a local network's staff and team (restored from an old
    backup, or away past retention) asks its subtree to republish; the replicas equal the owner's again."""
    r = demo.post("gd-sz", STAFF, {"username": "fed_rs01", "displayName": "重同步", "password": PASSWORD})
    assert r.status_code == 201, r.text
    person = r.json()
    assert demo.patch("gd-sz", f"{STAFF}/{person['id']}", {"roles": ["account_manager"]}).status_code == 200
    r = demo.post(
        "gd-sz", TEAMS, {"code": "FED-RS", "name": "重同步团队", "kind": "客户服务团队", "memberIds": [person["id"]]}
    )
    assert r.status_code == 201, r.text
    team = r.json()
    paths = [f"{STAFF}/{person['id']}", f"{TEAMS}/{team['id']}"]
    owner_view = [demo.get("gd-sz", p).json() for p in paths]
    for p, want in zip(paths, owner_view, strict=True):
        _converged(demo, "gd", p, want["version"])

    _column(
        demo,
        "gd",
        "WITH t AS (DELETE FROM org.team WHERE id = CAST(:t AS uuid) RETURNING id) "
        "DELETE FROM org.staff WHERE id = CAST(:s AS uuid) RETURNING id",
        s=person["id"],
        t=team["id"],
    )
    assert [demo.get("gd", p).status_code for p in paths] == [404, 404]
    r = demo.post("gd", "/api/v1/sync/resync", {"reason": "restored from backup"})
    assert r.status_code == 202, r.text
    restored = wait_until(
        lambda: (lambda got: got if all(g is not None for g in got) else None)([_held(demo, "gd", p) for p in paths]),
        timeout=CONVERGE,
        what="org replicas restored by resync at gd",
    )
    assert [{k: v for k, v in g.items() if k != "href"} for g in restored] == [
        {k: v for k, v in w.items() if k != "href"} for w in owner_view
    ]
