"""A resync request (issue 7), with real PostgreSQL and the real migrations: published down the node's
subtree and up to its ancestors, carrying the restore marker when asked; a restore at the root, which
has no parent to restore from, is refused with 409."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from kam_contracts import envelope_pb2
from kam_platform.auth import Principal
from kam_platform.errors import Conflict
from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_sync.main import MIGRATIONS
from kam_sync.resync import service


@pytest.fixture(scope="module")
def database_url(make_database: Callable[[str, list[str]], str]) -> str:
    return make_database("test_sync_resync", [MIGRATIONS])


def settings(url: str, node: str) -> Settings:
    return Settings(
        node=node,
        service="sync",
        topology_file=topology_file("demo"),
        database_url=url,
        nats_url="nats://127.0.0.1:1",
        relay_enabled=False,
        replication_enabled=False,
    )


def admin(node: str) -> Principal:
    return Principal(
        username=f"{node}-admin",
        home_node=node,
        scope_node=node,
        roles=frozenset({"sys_admin"}),
        permissions=frozenset({"sync:admin"}),
    )


@pytest.mark.parametrize("restore", [False, True])
async def test_a_request_goes_down_and_up_with_the_restore_marker(database_url: str, restore: bool) -> None:
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session, session.begin():
            req = await service.request_resync(
                session, settings=settings(database_url, "gd-gz"), principal=admin("gd-gz"), reason="r", restore=restore
            )
            await session.flush()
            rows = (
                await session.execute(
                    text("SELECT subject, payload FROM sync.outbox WHERE aggregate_id = :a ORDER BY subject"),
                    {"a": str(req.id)},
                )
            ).all()
            await session.rollback()
    finally:
        await engine.dispose()
    assert [r.subject for r in rows] == [f"down.gd-gz.sync.resync.{req.id}", f"up.gd-gz.sync.resync.{req.id}"]
    for r in rows:
        asked = envelope_pb2.ResyncRequested.FromString(envelope_pb2.Envelope.FromString(r.payload).payload)
        assert (asked.node, asked.restore) == ("gd-gz", restore)


async def test_a_restore_at_the_root_is_refused(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            with pytest.raises(Conflict) as refused:
                await service.request_resync(
                    session, settings=settings(database_url, "hq"), principal=admin("hq"), reason=None, restore=True
                )
            assert refused.value.status == 409 and "no parent" in str(refused.value)
    finally:
        await engine.dispose()
