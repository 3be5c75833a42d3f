"""The stream layout derived from the topology, declared on a real nats-server."""

from __future__ import annotations

import tempfile

import nats
import pytest

from kam_platform.embedded.nats import NatsNode
from kam_platform.federation import declare, inbound_streams, plan
from kam_platform.testing.helpers import topology_file
from kam_platform.topology import Topology

DEMO = Topology.load(topology_file("demo"))


def test_layout_of_a_province() -> None:
    specs = {s.name: s for s in plan(DEMO, "gd")}
    assert set(specs) == {"UP_gd", "DLQ_gd", "DOWN_gd"}
    up = specs["UP_gd"]
    assert up.subjects == ("up.gd.>",)
    # each child's source is filtered to that child's subtree: a child cannot feed other nodes' events up
    assert {(s.stream, s.domain, s.subjects) for s in up.sources} == {
        ("UP_gd-gz", "gd-gz", ("up.gd-gz.>",)),
        ("UP_gd-sz", "gd-sz", ("up.gd-sz.>",)),
    }
    down = specs["DOWN_gd"]
    assert down.subjects == ("down.gd.>",)
    assert [(s.stream, s.domain, s.subjects) for s in down.sources] == [("DOWN_ALL", "hq", ("down.all.>",))]
    assert inbound_streams(DEMO, "gd") == ["UP_gd", "DOWN_gd"]


def test_layout_of_the_root_and_a_leaf() -> None:
    root = {s.name: s for s in plan(DEMO, "hq")}
    assert set(root) == {"UP_hq", "DLQ_hq", "UP_ALL", "DOWN_ALL"}
    assert root["UP_ALL"].subjects == () and root["UP_hq"].sources == ()
    assert {(s.stream, s.subjects) for s in root["UP_ALL"].sources} == {
        ("UP_gd", ("up.gd.>", "up.gd-gz.>", "up.gd-sz.>")),
        ("UP_js", ("up.js.>", "up.js-nj.>")),
    }
    leaf = {s.name: s for s in plan(DEMO, "gd-gz")}
    assert leaf["UP_gd-gz"].sources == ()
    assert [set(s.subjects) for s in leaf["DOWN_gd-gz"].sources] == [{"down.all.>", "down.gd.>"}]
    assert inbound_streams(DEMO, "hq") == ["UP_ALL"]
    assert inbound_streams(DEMO, "gd-gz") == ["DOWN_gd-gz"]


@pytest.fixture
def server() -> NatsNode:
    node = NatsNode("gd", tempfile.mkdtemp(prefix="kam-sync-test-"))
    node.start()
    yield node  # type: ignore[misc]
    node.stop()


async def test_declare_is_idempotent_and_repairs_drift(server: NatsNode) -> None:
    nc = await nats.connect(server.url)
    js = nc.jetstream()
    try:
        assert set(await declare(js, DEMO, "gd")) == {"UP_gd", "DLQ_gd", "DOWN_gd"}
        assert await declare(js, DEMO, "gd") == []
        info = await js.stream_info("UP_gd")
        cfg = info.config
        cfg.subjects = ["up.gd.>", "up.js-nj.>"]  # someone widened the stream by hand
        await js.update_stream(cfg)
        assert await declare(js, DEMO, "gd") == ["UP_gd"]
        assert (await js.stream_info("UP_gd")).config.subjects == ["up.gd.>"]
    finally:
        await nc.close()
