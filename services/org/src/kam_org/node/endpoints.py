"""Nodes (/api/v1/org/nodes): the tier tree, its ancestors and subtrees."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from kam_org.api import Caller, caller
from kam_org.models import Node
from kam_org.node import service
from kam_org.node.repository import NODE_FILTERS
from kam_org.node.schemas import NODE_FIELDS, NodeRead
from kam_platform.api import page
from kam_platform.db.engine import Session
from kam_platform.tmf import href, parse_list_query

router = APIRouter(prefix="/api/v1/org/nodes", tags=["nodes"])

BASE = "/api/v1/org/nodes"
Reader = Annotated[Caller, caller("org.node:read")]


def _node(request: Request, node: Node) -> NodeRead:
    return NodeRead(
        id=node.code,
        href=href(request, f"{BASE}/{node.code}"),
        code=node.code,
        tier=node.tier,
        parent=node.parent,
        name_zh=node.name_zh,
        name_en=node.name_en,
    )


@router.get("", response_model=list[NodeRead])
async def list_nodes(
    request: Request, response: Response, session: Session, _: Reader
) -> list[NodeRead] | JSONResponse:
    """Every node of the federation (filters: code, tier, parent, nameZh, nameEn)."""
    lq = parse_list_query(request, NODE_FILTERS, NODE_FIELDS)
    nodes, total = await service.list_nodes(session, lq=lq)
    return page(response, [_node(request, n) for n in nodes], total, lq)


@router.get("/{code}")
async def get_node(code: str, request: Request, session: Session, _: Reader) -> NodeRead:
    """One node by its code."""
    return _node(request, await service.get_node(session, code=code))


@router.get("/{code}/ancestors", response_model=list[NodeRead])
async def ancestors(
    code: str, request: Request, response: Response, session: Session, _: Reader
) -> list[NodeRead] | JSONResponse:
    """The node's ancestors, parent first, root last."""
    lq = parse_list_query(request, NODE_FILTERS, NODE_FIELDS)
    nodes, total = await service.walk(session, code=code, direction="up", lq=lq)
    return page(response, [_node(request, n) for n in nodes], total, lq)


@router.get("/{code}/subtree", response_model=list[NodeRead])
async def subtree(
    code: str, request: Request, response: Response, session: Session, _: Reader
) -> list[NodeRead] | JSONResponse:
    """The node and every node below it, by depth."""
    lq = parse_list_query(request, NODE_FILTERS, NODE_FIELDS)
    nodes, total = await service.walk(session, code=code, direction="down", lq=lq)
    return page(response, [_node(request, n) for n in nodes], total, lq)
