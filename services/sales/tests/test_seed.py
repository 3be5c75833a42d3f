"""The demo catalogue seed and the migrations, on a database of their own (the seed commits): the
national catalogue at the root and a package per province, idempotent, nothing at a local network,
every seeded item valid and published; and the migrations match the models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kam_platform.db.migrate import check
from kam_platform.testing.helpers import topology_file
from kam_platform.topology import Topology
from kam_sales.main import MIGRATIONS
from kam_sales.seed import national, provincial, seed


@pytest.fixture(scope="module")
def seed_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_sales_seed", [MIGRATIONS])


async def test_seed_is_idempotent_and_publishes_down(seed_url: str) -> None:
    topology = Topology.load(topology_file("demo"))
    assert await seed(seed_url, "hq", topology) == len(national("hq"))
    assert await seed(seed_url, "hq", topology) == 0
    assert await seed(seed_url, "gd", topology) == len(provincial("gd", "广东"))
    assert await seed(seed_url, "gd-gz", topology) == 0
    engine = create_async_engine(seed_url)
    try:
        async with engine.connect() as conn:
            lines = (
                (
                    await conn.execute(
                        text("SELECT name FROM sales.catalog_item WHERE kind = 'category' AND owner_node = 'hq'")
                    )
                )
                .scalars()
                .all()
            )
            subjects = (await conn.execute(text("SELECT subject FROM sales.outbox"))).scalars().all()
    finally:
        await engine.dispose()
    assert {
        "固定电话/长途",
        "数据电路",
        "DDN",
        "帧中继",
        "数字电路",
        "互联网专线",
        "增值业务",
        "系统集成/解决方案",
    } <= set(lines)
    downs = [s for s in subjects if s.startswith("down.")]
    assert {s.split(".")[1] for s in downs} == {"all", "gd"}  # the root publishes to all, gd to its subtree
    assert any(s.startswith("up.gd.sales.catalog_item.") for s in subjects)  # gd's items also go up


def test_migrations_match_the_models(seed_url: str) -> None:
    check(seed_url, MIGRATIONS)  # raises when autogenerate would find a difference
