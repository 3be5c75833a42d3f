"""`kam seed`: every service's seeder in start order, each given the options it accepts — the caller's
and what the services seeded before it provide (`ServiceSpec.seed_provides`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kam_cli.seed import seed_node
from kam_platform.service import ServiceSpec
from kam_platform.topology import Topology

TRIO = Path(__file__).resolve().parents[3] / "deploy" / "topologies" / "trio.yaml"
seeded: list[tuple[str, str, dict[str, Any]]] = []


def seed_people(database_url: str, node: str, topology: Topology) -> None:
    seeded.append(("people", node, {}))


def list_people(database_url: str, node: str) -> list[str]:
    return [f"{node}-am01", f"{node}-am02"]


async def seed_accounts(
    database_url: str, node: str, topology: Topology, *, customers: int = 1, account_managers: list[str] | None = None
) -> int:
    seeded.append(("accounts", node, {"customers": customers, "account_managers": account_managers}))
    return customers


def seed_anything(database_url: str, node: str, topology: Topology, **options: Any) -> None:
    seeded.append(("anything", node, options))


def _spec(name: str, order: int, seed: str | None, **kw: Any) -> ServiceSpec:
    return ServiceSpec(name=name, app=f"{__name__}:nothing", order=order, seed=seed, **kw)


def test_seeders_run_in_order_with_the_options_they_accept() -> None:
    seeded.clear()
    specs = {
        "people": _spec(
            "people", 0, f"{__name__}:seed_people", seed_provides={"account_managers": f"{__name__}:list_people"}
        ),
        "quiet": _spec("quiet", 10, None),
        "accounts": _spec("accounts", 20, f"{__name__}:seed_accounts"),
        "anything": _spec("anything", 30, f"{__name__}:seed_anything"),
    }
    topology = Topology.load(TRIO)
    ran = seed_node(specs, "postgresql+asyncpg://unused/db", "gd-gz", topology, customers=7)

    assert ran == ["people", "accounts", "anything"]
    managers = ["gd-gz-am01", "gd-gz-am02"]
    assert seeded == [
        ("people", "gd-gz", {}),  # accepts no options: none passed
        ("accounts", "gd-gz", {"customers": 7, "account_managers": managers}),
        ("anything", "gd-gz", {"customers": 7, "account_managers": managers}),
    ]
