"""Assignment queues of this node (/api/v1/service/queue): list, read, create, merge-patch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404
from kam_service.deps import Now
from kam_service.models.assignment import TicketQueue

from . import service
from .schemas import QueueCreate, QueueRead, QueueUpdate, Strategy

BASE = "/api/v1/service/queue"
router = APIRouter(prefix=BASE, tags=["assignment"])

Reader = Annotated[Principal, require("service.ticket:read")]
Admin = Annotated[Principal, require("service.queue:write")]


def read(request: Request, q: TicketQueue) -> QueueRead:
    return QueueRead(
        id=str(q.id),
        href=href(request, f"{BASE}/{q.id}"),
        name=q.name,
        team=q.team,
        ticket_types=list(q.ticket_types),
        grades=list(q.grades),
        members=list(q.members),
        strategy=Strategy(q.strategy),
        rank=q.rank,
        is_active=q.is_active,
        owner_node=q.owner_node,
        version=q.version,
        last_update=q.updated_at,
    )


@router.get("", response_model=list[QueueRead])
async def list_queues(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[QueueRead]:
    """This node's queues, lowest rank first (the order in which a new ticket is matched)."""
    rows = await service.list_queues(session, settings=settings)
    response.headers["X-Total-Count"] = response.headers["X-Result-Count"] = str(len(rows))
    return [read(request, q) for q in rows]


@router.get("/{queue_id}", response_model=QueueRead)
async def get_queue(queue_id: str, request: Request, session: Session, settings: AppSettings, who: Reader) -> QueueRead:
    q = await service.get_queue(session, settings=settings, queue_id=id_or_404(queue_id, "ticketQueue"))
    return read(request, q)


@router.post("", status_code=201, response_model=QueueRead)
async def create_queue(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Admin,
    data: QueueCreate,
    now: Now,
    _: None = JSON_BODY,
) -> QueueRead:
    """A queue per team and skill (ticket types, customer grades) with its rule: ROUND_ROBIN or
    LEAST_LOADED among the members (409 when the name is taken here)."""
    q = await service.create_queue(session, settings=settings, principal=who, data=data, now=now)
    body = read(request, q)
    response.headers["Location"] = body.href
    return body


@router.patch("/{queue_id}", response_model=QueueRead)
async def update_queue(
    queue_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Admin,
    patch: Annotated[QueueUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    now: Now,
    _: None = MERGE_PATCH_BODY,
) -> QueueRead:
    q = await service.update_queue(
        session,
        settings=settings,
        principal=who,
        queue_id=id_or_404(queue_id, "ticketQueue"),
        patch=patch,
        present=present_keys(patch),
        now=now,
    )
    return read(request, q)
