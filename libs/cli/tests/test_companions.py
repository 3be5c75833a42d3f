"""`kam up` starts the specs' companions (external systems' simulators) beside each node's services and
points the services at them; a node started on its own (`kam node`) starts none."""

from __future__ import annotations

from pathlib import Path

import pytest

from kam_cli.runtime import NodeLaunch, NodeRuntime
from kam_platform.service import discover
from kam_platform.testing.helpers import topology_file
from kam_platform.topology import Topology


def runtime(code: str) -> NodeRuntime:
    topo = Topology.load(topology_file("trio"))
    return NodeRuntime(node=topo.node(code), database_url="postgresql+asyncpg://x/y", nats_url="nats://x", nats=None)


@pytest.mark.parametrize("process_per", ["service", "node"])
def test_kam_up_plans_the_10000_simulator_and_points_the_services_at_it(process_per: str, tmp_path: Path) -> None:
    launch = NodeLaunch(
        specs=discover(),
        process_per=process_per,  # type: ignore[arg-type]
        topology_file=topology_file("trio"),
        logs_dir=tmp_path,
        nats_url=lambda _service: "nats://x",
        start_companions=True,
    )
    rt = runtime("gd-gz")
    launch.plan(rt)
    sim = rt.processes["sim10000"]
    assert sim.argv[1:3] == ["-m", "kam_sim10000"] and sim.argv[sim.argv.index("--port") + 1] == str(sim.port)
    assert sim.env["KAM_NODE"] == "gd-gz" and sim.env["KAM_PUBLIC_URL"] == rt.url
    host = rt.processes["service" if process_per == "service" else "node"]
    assert host.env["KAM_CS10000_URL"] == f"http://127.0.0.1:{sim.port}"


def test_a_node_on_its_own_starts_no_simulator(tmp_path: Path) -> None:
    launch = NodeLaunch(
        specs=discover(),
        process_per="service",
        topology_file=topology_file("trio"),
        logs_dir=tmp_path,
        nats_url=lambda _service: "nats://x",
    )
    rt = runtime("gd-gz")
    launch.plan(rt)
    assert "sim10000" not in rt.processes and "KAM_CS10000_URL" not in rt.processes["service"].env
