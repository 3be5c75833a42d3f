"""Merge proposals across owner nodes (跨节点合并提议): proposed at a common ancestor, answered by each
owner, listed TMF630-style."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from kam_customer.merge.schemas import MergeCreate, MergeReverse
from kam_platform.api import JSON_BODY, one, page
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, id_or_404, parse_list_query

from . import service
from .models import MergeProposal, MergeProposalResponse
from .repository import FILTERABLE
from .schemas import MergeProposalRead, ProposalAnswer, ProposalSideRead

PATH = "/api/v1/customer/mergeProposals"
FIELDS = (
    "survivorId",
    "victimIds",
    "choices",
    "owners",
    "reason",
    "status",
    "state",
    "mergeId",
    "sides",
    "proposedBy",
    "ownerNode",
    "version",
    "createdAt",
    "updatedAt",
)

router = APIRouter(tags=["merge"])


def _proposal_id(proposal_id: str) -> uuid.UUID:
    return id_or_404(proposal_id, "merge proposal")


ProposalId = Annotated[uuid.UUID, Depends(_proposal_id)]


def to_api(p: MergeProposal, base: str, responses: Sequence[MergeProposalResponse]) -> MergeProposalRead:
    by_node = {r.owner_node: r for r in responses}
    survivor_owner = p.owners.get(str(p.survivor_id))
    sides = []
    for node in p.side_nodes:
        r = by_node.get(node)
        sides.append(
            ProposalSideRead(
                node=node,
                customer_ids=sorted(cid for cid, owner in p.owners.items() if owner == node),
                holds_survivor=node == survivor_owner,
                status=r.status if r is not None else "PENDING",
                reason=r.reason if r is not None else None,
                merge_id=str(r.merge_id) if r is not None and r.merge_id else None,
                responded_by=r.responded_by if r is not None else None,
                updated_at=r.updated_at if r is not None else None,
            )
        )
    merged = next((s.merge_id for s in sides if s.merge_id), None)
    return MergeProposalRead(
        id=str(p.id),
        href=f"{base}{PATH}/{p.id}",
        survivor_id=str(p.survivor_id),
        victim_ids=[str(v) for v in p.victim_ids],
        choices=p.choices,
        owners=p.owners,
        reason=p.reason,
        status=p.status,
        state=service.state_of(p, responses),
        merge_id=merged,
        sides=sides,
        proposed_by=p.proposed_by,
        owner_node=p.owner_node,
        version=p.version,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


async def _read(session: Session, p: MergeProposal, base: str) -> MergeProposalRead:
    return to_api(p, base, (await service.responses_for(session, [p.id]))[p.id])


@router.post(PATH, status_code=201, summary="Propose a merge of customers owned by different nodes")
async def propose_merge(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    data: MergeCreate,
    principal: Principal = require("customer:merge"),
    _: None = JSON_BODY,
) -> MergeProposalRead:
    """At a common ancestor of every owner (409 for a customer owned above this node, one already merged
    or in a pending proposal, or when this node owns them all: then merge them here). The proposal flows
    down; each owner answers its side (`PUT …/{id}/response`): victims' owners first — they hand their
    victims to the survivor's owner — then the survivor's owner, whose acceptance carries out the merge."""
    p = await service.propose(session, settings=settings, principal=principal, data=data)
    item = await _read(session, p, base_url(request))
    response.headers["Location"] = item.href
    return item


@router.get(PATH, summary="Merge proposals in the caller's scope", response_model=list[MergeProposalRead])
async def list_merge_proposals(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> list[MergeProposalRead] | JSONResponse:
    """TMF630 list: filter by `survivorId`, `status` (PROPOSED, WITHDRAWN), `ownerNode`, `proposedBy`,
    `createdAt`. A proposal is seen in the proposer's scope and in every scope holding one of its sides."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_proposals(session, settings=settings, principal=principal, lq=lq)
    responses = await service.responses_for(session, [p.id for p in rows])
    base = base_url(request)
    return page(response, [to_api(p, base, responses[p.id]) for p in rows], total, lq)


@router.get(
    PATH + "/{proposal_id}", summary="A merge proposal and each owner's answer", response_model=MergeProposalRead
)
async def get_merge_proposal(
    proposal_id: ProposalId,
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:read"),
) -> MergeProposalRead | JSONResponse:
    lq = parse_list_query(request, {}, FIELDS)
    p = await service.get(session, settings=settings, principal=principal, proposal_id=proposal_id)
    return one(await _read(session, p, base_url(request)), lq.fields)


@router.put(PATH + "/{proposal_id}/response", summary="This owner's answer to its side of a merge proposal")
async def answer_merge_proposal(
    proposal_id: ProposalId,
    request: Request,
    session: Session,
    settings: AppSettings,
    data: ProposalAnswer,
    principal: Principal = require("customer:merge"),
    _: None = JSON_BODY,
) -> MergeProposalRead:
    """ACCEPTED at a victim's owner transfers its victims to the survivor's owner; ACCEPTED at the
    survivor's owner (409 until every victim has reached it) merges them into the survivor. REJECTED
    needs a reason. One answer per side; it flows up to the proposer."""
    p = await service.respond(session, settings=settings, principal=principal, proposal_id=proposal_id, data=data)
    return await _read(session, p, base_url(request))


@router.post(PATH + "/{proposal_id}/withdraw", summary="Withdraw a pending merge proposal (at the proposer)")
async def withdraw_merge_proposal(
    proposal_id: ProposalId,
    request: Request,
    session: Session,
    settings: AppSettings,
    data: MergeReverse,
    principal: Principal = require("customer:merge"),
    _: None = JSON_BODY,
) -> MergeProposalRead:
    p = await service.withdraw(
        session, settings=settings, principal=principal, proposal_id=proposal_id, reason=data.reason
    )
    return await _read(session, p, base_url(request))
