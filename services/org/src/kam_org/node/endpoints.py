"""Nodes (/api/v1/org/nodes): the tier tree, its ancestors and subtrees."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kam_org.api import Caller, caller
from kam_org.models import Node
from kam_org.node import service
from kam_org.node.repository import NODE_FILTERS
from kam_org.node.schemas import NODE_FIELDS, NodeRead
from kam_platform.db.engine import Session
from kam_platform.tmf import href, list_response, parse_list_query

router = APIRouter(prefix="/api/v1/org/nodes", tags=["nodes"])

BASE = "/api/v1/org/nodes"
Reader = Annotated[Caller, caller("org.node:read")]


def _node(request: Request, node: Node) -> dict[str, Any]:
    return NodeRead(
        id=node.code,
        href=href(request, f"{BASE}/{node.code}"),
        code=node.code,
        tier=node.tier,
        parent=node.parent,
        name_zh=node.name_zh,
        name_en=node.name_en,
    ).resource()


@router.get("")
async def list_nodes(request: Request, session: Session, _: Reader) -> JSONResponse:
    """Every node of the federation (filters: code, tier, parent, nameZh, nameEn)."""
    lq = parse_list_query(request, NODE_FILTERS, NODE_FIELDS)
    nodes, total = await service.list_nodes(session, lq=lq)
    return list_response([_node(request, n) for n in nodes], total, lq)


@router.get("/{code}")
async def get_node(code: str, request: Request, session: Session, _: Reader) -> dict[str, Any]:
    """One node by its code."""
    return _node(request, await service.get_node(session, code=code))


@router.get("/{code}/ancestors")
async def ancestors(code: str, request: Request, session: Session, _: Reader) -> JSONResponse:
    """The node's ancestors, parent first, root last."""
    lq = parse_list_query(request, NODE_FILTERS, NODE_FIELDS)
    nodes, total = await service.walk(session, code=code, direction="up", lq=lq)
    return list_response([_node(request, n) for n in nodes], total, lq)


@router.get("/{code}/subtree")
async def subtree(code: str, request: Request, session: Session, _: Reader) -> JSONResponse:
    """The node and every node below it, by depth."""
    lq = parse_list_query(request, NODE_FILTERS, NODE_FIELDS)
    nodes, total = await service.walk(session, code=code, direction="down", lq=lq)
    return list_response([_node(request, n) for n in nodes], total, lq)
