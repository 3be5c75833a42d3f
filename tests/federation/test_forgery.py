"""A node forging events about another subtree's records (issue 6, finding 1), on the six-node demo
federation: gd-gz, with its own services credentials and on its own subjects, claims a customer of
js-nj. The group refuses it, counts it in sync status, and keeps following the real owner."""

from __future__ import annotations

import asyncio
from typing import Any

import nats
import pytest

from kam_contracts import customer_pb2
from kam_platform.embedded.natsauth import SERVICE_USER
from kam_platform.outbox import build_event

from .conftest import CUSTOMER_PATH, Nodes, wait_until

pytestmark = pytest.mark.federation

CONVERGE = 60.0


def _forged_update(c: dict[str, Any], *, owner: str, version: int, name: str) -> tuple[str, bytes]:
    state = customer_pb2.CustomerState(
        id=c["id"],
        owner_node=owner,
        version=version,
        customer_code=c["customerCode"],
        name=name,
        customer_type="SINGLE",
        mgmt_level="LOCAL",
        industry="FINANCE",
        grade="A",
        life_status="ACTIVE",
        recog_status="CONFIRMED",
    )
    _, subject, _, payload = build_event(
        node="gd-gz",
        service="customer",
        aggregate_type="customer",
        aggregate_id=c["id"],
        version=version,
        message=customer_pb2.CustomerUpdated(customer=state),
        actor="attacker",
    )
    return subject, payload


async def _publish_as_gd_gz(url: str, events: list[tuple[str, bytes]]) -> None:
    nc = await nats.connect(url, max_reconnect_attempts=0)
    try:
        js = nc.jetstream(timeout=10.0)
        for subject, payload in events:
            await js.publish(subject, payload)
    finally:
        await nc.close()


def _dead_letters(demo: Nodes, node: str) -> int:
    return int(demo.get(node, "/api/v1/sync/status").json().get("deadLetters", {}).get("customer", 0))


def test_forged_owner_from_another_subtree_is_refused_counted_and_the_owner_still_replicates(demo: Nodes) -> None:
    c = demo.create_customer("js-nj", name="南京地铁集团有限公司", industry="TRANSPORT", grade="A")
    path = f"{CUSTOMER_PATH}/{c['id']}"
    wait_until(lambda: demo.get("hq", path).status_code == 200, timeout=CONVERGE, what="js-nj's customer at hq")
    before = demo.get("hq", path).json()
    dead_before = _dead_letters(demo, "hq")

    rename = _forged_update(c, owner="js-nj", version=before["version"] + 1_000_000, name="被gd-gz改名")
    move = _forged_update(c, owner="gd-gz", version=before["version"] + 1_000_001, name="被gd-gz挪走")
    assert rename[0] == f"up.gd-gz.customer.customer.{c['id']}"  # the subject
    url = demo.fed.credentials().url(demo.fed.nats("gd-gz").url, "gd-gz", SERVICE_USER)
    asyncio.run(_publish_as_gd_gz(url, [rename, move]))

    wait_until(
        lambda: _dead_letters(demo, "hq") >= dead_before + 2,
        timeout=CONVERGE,
        what="both forgeries dead-lettered at hq",
    )
    after = demo.get("hq", path).json()
    assert (after["name"], after["version"], after["ownerNode"]) == (before["name"], before["version"], "js-nj")
    assert demo.get("hq", path, scope="gd").status_code == 404  # not moved into Guangdong's scope

    # the owner's next real change still reaches the group (no version poisoned by the forgery)
    r = demo.patch("js-nj", path, {"name": "南京地铁集团"})
    assert r.status_code == 200, r.text
    got = wait_until(
        lambda: (g := demo.get("hq", path).json())["version"] == r.json()["version"] and g,
        timeout=CONVERGE,
        what="js-nj's update at hq",
    )
    assert (got["name"], got["ownerNode"]) == ("南京地铁集团", "js-nj")
