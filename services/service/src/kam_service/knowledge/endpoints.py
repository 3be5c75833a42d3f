"""The knowledge base (知识库, F2) under /api/v1/service/knowledge: items with review and revisions,
Chinese full-text search (`q=`, ranked, highlighted), and contributions from below."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_service.deps import Now
from kam_service.models import KnowledgeContribution, KnowledgeItem, KnowledgeRevision

from . import service
from .repository import CONTRIBUTION_FILTERABLE, FILTERABLE
from .schemas import (
    CONTRIBUTION_FIELDS,
    ITEM_FIELDS,
    ContributionCreate,
    ContributionRead,
    KnowledgeItemCreate,
    KnowledgeItemRead,
    KnowledgeItemUpdate,
    KnowledgeRevisionRead,
    OutcomeRead,
    StatusAction,
)

BASE = "/api/v1/service/knowledge"
router = APIRouter(prefix=BASE, tags=["knowledge"])

Reader = Annotated[Principal, require("service.knowledge:read")]
Writer = Annotated[Principal, require("service.knowledge:write")]
Reviewer = Annotated[Principal, require("service.knowledge:review")]


def read_item(
    request: Request, r: KnowledgeItem, *, rank: float | None = None, q: str | None = None
) -> KnowledgeItemRead:
    return KnowledgeItemRead(
        id=str(r.id),
        href=href(request, f"{BASE}/item/{r.id}"),
        kind=r.kind,
        title=r.title,
        summary=r.summary,
        body=r.body,
        tags=list(r.tags),
        status=r.status,
        revision=r.revision,
        author=r.author,
        reviewer=r.reviewer,
        reviewed_at=r.reviewed_at,
        published_at=r.published_at,
        retired_at=r.retired_at,
        status_reason=r.status_reason,
        source_contribution_id=str(r.source_contribution_id) if r.source_contribution_id else None,
        contributed_by_node=r.contributed_by_node,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
        owner_node=r.owner_node,
        version=r.version,
        creation_date=r.created_at,
        last_update=r.updated_at,
        rank=rank,
        highlight=service.highlight(r, q) if q and q.strip() else None,
    )


def read_contribution(request: Request, c: KnowledgeContribution, answer: KnowledgeItem | None) -> ContributionRead:
    return ContributionRead(
        id=str(c.id),
        href=href(request, f"{BASE}/contribution/{c.id}"),
        kind=c.kind,
        title=c.title,
        summary=c.summary,
        body=c.body,
        tags=list(c.tags),
        author=c.author,
        reviewing_node=c.reviewing_node,
        status=c.status,
        owner_node=c.owner_node,
        version=c.version,
        creation_date=c.created_at,
        last_update=c.updated_at,
        outcome=None
        if answer is None
        else OutcomeRead(
            item_id=str(answer.id), status=answer.status, reviewer=answer.reviewer, status_reason=answer.status_reason
        ),
    )


def _revision(r: KnowledgeRevision) -> KnowledgeRevisionRead:
    return KnowledgeRevisionRead(
        revision=r.revision,
        title=r.title,
        summary=r.summary,
        body=r.body,
        tags=list(r.tags),
        author=r.author,
        reviewer=r.reviewer,
        published_at=r.published_at,
        superseded_at=r.superseded_at,
    )


@router.get("/item", response_model=list[KnowledgeItemRead])
async def list_items(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[KnowledgeItemRead] | JSONResponse:
    """Items in force here: this node's own in every status, its ancestors' and its subtree's published
    ones. `q=` searches title, tags, summary and body (Chinese by 2-character pieces; every word must
    occur), ranks the hits (`rank`: title, tag, occurrences) and marks them (`highlight`). Filters: kind,
    status, tags (any of), ownerNode, revision, publishedAt, lastUpdate, title."""
    lq = parse_list_query(request, FILTERABLE, ITEM_FIELDS)
    rows, total = await service.list_items(session, settings=settings, principal=who, lq=lq)
    return page(response, [read_item(request, r, rank=rank, q=lq.q) for r, rank in rows], total, lq)


@router.post("/item", status_code=201, response_model=KnowledgeItemRead)
async def create_item(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: KnowledgeItemCreate,
    now: Now,
    _: None = JSON_BODY,
) -> KnowledgeItemRead:
    """A new draft, authored at the group or a province (a local network contributes instead: 409)."""
    r = await service.create_item(session, settings=settings, principal=who, data=data, now=now)
    body = read_item(request, r)
    response.headers["Location"] = body.href
    return body


@router.get("/item/{item_id}", response_model=KnowledgeItemRead)
async def get_item(
    item_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> KnowledgeItemRead | JSONResponse:
    """One item (its current revision)."""
    lq = parse_list_query(request, {}, ITEM_FIELDS)
    r = await service.get_item(session, settings=settings, principal=who, item_id=id_or_404(item_id, "knowledgeItem"))
    return one(read_item(request, r), lq.fields)


@router.patch("/item/{item_id}", response_model=KnowledgeItemRead)
async def update_item(
    item_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[KnowledgeItemUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    now: Now,
    _: None = MERGE_PATCH_BODY,
) -> KnowledgeItemRead:
    """Edit a draft (JSON merge patch); a published item is revised first."""
    r = await service.update_item(
        session,
        settings=settings,
        principal=who,
        item_id=id_or_404(item_id, "knowledgeItem"),
        patch=patch,
        present=present_keys(patch),
        now=now,
    )
    return read_item(request, r)


@router.get("/item/{item_id}/revision", response_model=list[KnowledgeRevisionRead])
async def list_revisions(
    item_id: str, session: Session, settings: AppSettings, who: Reader
) -> list[KnowledgeRevisionRead]:
    """The earlier revisions kept at the owner, newest first."""
    rows = await service.revisions(
        session, settings=settings, principal=who, item_id=id_or_404(item_id, "knowledgeItem")
    )
    return [_revision(r) for r in rows]


async def _act(
    action: str,
    item_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Principal,
    body: StatusAction | None,
    now: Now,
) -> KnowledgeItemRead:
    r = await service.act(
        session,
        settings=settings,
        principal=who,
        item_id=id_or_404(item_id, "knowledgeItem"),
        action=action,
        reason=body.reason if body is not None else None,
        now=now,
    )
    return read_item(request, r)


@router.post("/item/{item_id}/review", response_model=KnowledgeItemRead)
async def review(
    item_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Reviewer,
    now: Now,
    body: StatusAction | None = None,
) -> KnowledgeItemRead:
    """draft → reviewed, by another person than the author (403 SEPARATION_OF_DUTIES)."""
    return await _act("review", item_id, request, session, settings, who, body, now)


@router.post("/item/{item_id}/publish", response_model=KnowledgeItemRead)
async def publish(
    item_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    now: Now,
    body: StatusAction | None = None,
) -> KnowledgeItemRead:
    """reviewed → published: in force down the owner's subtree."""
    return await _act("publish", item_id, request, session, settings, who, body, now)


@router.post("/item/{item_id}/retire", response_model=KnowledgeItemRead)
async def retire(
    item_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    now: Now,
    body: StatusAction | None = None,
) -> KnowledgeItemRead:
    """→ retired (final): withdrawn everywhere."""
    return await _act("retire", item_id, request, session, settings, who, body, now)


@router.post("/item/{item_id}/revise", response_model=KnowledgeItemRead)
async def revise(
    item_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    now: Now,
    body: StatusAction | None = None,
) -> KnowledgeItemRead:
    """published → a draft of the next revision (the published one is kept in the revisions and stays
    in force below until the next is published)."""
    return await _act("revise", item_id, request, session, settings, who, body, now)


@router.get("/contribution", response_model=list[ContributionRead])
async def list_contributions(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[ContributionRead] | JSONResponse:
    """Contributions of this node and its subtree, each with the reviewing node's outcome once known.
    Filters: kind, status, ownerNode, reviewingNode, lastUpdate."""
    lq = parse_list_query(request, CONTRIBUTION_FILTERABLE, CONTRIBUTION_FIELDS)
    rows, total, answers = await service.list_contributions(session, settings=settings, principal=who, lq=lq)
    return page(response, [read_contribution(request, c, answers.get(c.id)) for c in rows], total, lq)


@router.post("/contribution", status_code=201, response_model=ContributionRead)
async def contribute(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: ContributionCreate,
    now: Now,
    _: None = JSON_BODY,
) -> ContributionRead:
    """Submit a contribution to the province above this node, which reviews it."""
    c = await service.contribute(session, settings=settings, principal=who, data=data, now=now)
    body = read_contribution(request, c, None)
    response.headers["Location"] = body.href
    return body


@router.get("/contribution/{contribution_id}", response_model=ContributionRead)
async def get_contribution(
    contribution_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> ContributionRead | JSONResponse:
    """One contribution and what the reviewing node made of it."""
    lq = parse_list_query(request, {}, CONTRIBUTION_FIELDS)
    c, answer = await service.get_contribution(
        session, settings=settings, principal=who, contribution_id=id_or_404(contribution_id, "knowledgeContribution")
    )
    return one(read_contribution(request, c, answer), lq.fields)


@router.post("/contribution/{contribution_id}/takeUp", status_code=201, response_model=KnowledgeItemRead)
async def take_up(
    contribution_id: str,
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Reviewer,
    now: Now,
) -> KnowledgeItemRead:
    """At the reviewing node: the contribution becomes this node's draft (its contributor the author),
    to be reviewed by another person and published."""
    r = await service.take_up(
        session,
        settings=settings,
        principal=who,
        contribution_id=id_or_404(contribution_id, "knowledgeContribution"),
        decline=None,
        now=now,
    )
    body = read_item(request, r)
    response.headers["Location"] = body.href
    return body


@router.post("/contribution/{contribution_id}/decline", response_model=KnowledgeItemRead)
async def decline(
    contribution_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Reviewer,
    body: StatusAction,
    now: Now,
    _: None = JSON_BODY,
) -> KnowledgeItemRead:
    """At the reviewing node: decline with a reason (recorded as this node's item, retired at once,
    which the contributor sees as the outcome)."""
    r = await service.take_up(
        session,
        settings=settings,
        principal=who,
        contribution_id=id_or_404(contribution_id, "knowledgeContribution"),
        decline=body.reason or "declined",
        now=now,
    )
    return read_item(request, r)
