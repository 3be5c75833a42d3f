"""The node tree: synchronised from the topology at start-up, read by anyone with org.node:read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from kam_org.models import Node
from kam_org.node.repository import NodeRepository
from kam_platform.errors import NotFound
from kam_platform.tmf import ListQuery
from kam_platform.topology import Topology


async def sync_topology(session: AsyncSession, *, topology: Topology) -> None:
    rows = [
        {"code": n.code, "tier": n.tier.value, "parent": n.parent, "name_zh": n.name_zh, "name_en": n.name_en}
        for n in topology.ordered()
    ]
    await NodeRepository.from_session(session).upsert(rows)


async def list_nodes(session: AsyncSession, *, lq: ListQuery) -> tuple[Sequence[Node], int]:
    return await NodeRepository.from_session(session).page(lq)


async def get_node(session: AsyncSession, *, code: str) -> Node:
    node = await NodeRepository.from_session(session).get(code)
    if node is None:
        raise NotFound(f"node {code!r} not found")
    return node


async def walk(
    session: AsyncSession, *, code: str, direction: Literal["up", "down"], lq: ListQuery
) -> tuple[Sequence[Node], int]:
    await get_node(session, code=code)
    return await NodeRepository.from_session(session).walk(code, direction, lq)
