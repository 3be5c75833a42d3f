"""Expert service rules (专家服务): the group's and provinces' expert pools (a downward dataset: authored
there, read below), a request by an account manager at its node, assignment (named, or the best match:
domain, industry, fewest open requests here, the nearest pool first), the outcome — a technical solution
document (F4) — by the expert or a manager, then closed by the requester's side."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.changes import lock
from kam_platform.dataset import authors_above
from kam_platform.errors import Conflict, Forbidden, InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_service.document import service as document_service
from kam_service.lookups import Lookups
from kam_service.models.care import Expert, ExpertRequest
from kam_service.ticket.events import CHANGES

from .events import EXPERT, EXPERTS, REQUEST, request_message
from .repository import ExpertRepository, RequestRepository
from .schemas import AssignExpert, ExpertCreate, ExpertRequestCreate, ExpertUpdate, OutcomeCreate
from .states import TRANSITIONS, RequestStatus

EXPERT_TRACKED = ("name", "domains", "industries", "is_active")
REQUEST_TRACKED = ("status", "expert_name", "outcome_summary", "outcome_document_id")
MANAGE = "service.expert:write"


def person(principal: Principal) -> str:
    return f"{principal.username}@{principal.home_node}"


def _snap(row: Any, keys: Sequence[str]) -> dict[str, Any]:
    return {k: getattr(row, k) for k in keys}


def _id(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"{field}: not a valid id", field=field) from None


def pool_nodes(settings: Settings) -> list[str]:
    """Whose experts this node calls on: its own and its ancestors', nearest first."""
    return authors_above(settings.topology, settings.node)


# --- experts --------------------------------------------------------------------------------------


async def list_experts(
    session: AsyncSession, *, settings: Settings, domain: str | None, industry: str | None, active: bool | None
) -> Sequence[Expert]:
    return await ExpertRepository.from_session(session).pool(
        pool_nodes(settings), domain=domain, industry=industry, active=active
    )


async def get_expert(session: AsyncSession, *, settings: Settings, expert_id: uuid.UUID) -> Expert:
    e = await ExpertRepository.from_session(session).get(pool_nodes(settings), expert_id)
    if e is None:
        raise NotFound(f"expert {expert_id} not found")
    return e


async def _published(session: AsyncSession, settings: Settings, e: Expert, *, actor: str, action: str,
                     changes: dict[str, Any]) -> None:  # fmt: skip
    await session.flush()
    await CHANGES.audit(
        session, node=settings.node, entity_type=EXPERT, entity_id=e.id, action=action, actor=actor, changes=changes
    )
    await EXPERTS.publish(session, settings, e, actor=actor)


async def create_expert(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: ExpertCreate, now: datetime
) -> Expert:
    EXPERTS.ensure_can_author(settings)
    repo = ExpertRepository.from_session(session)
    if await repo.by_username(settings.node, data.username) is not None:
        raise Conflict(f"{data.username} is already in the expert pool of {settings.node}")
    e = Expert(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        username=data.username,
        name=data.name,
        domains=sorted(set(data.domains)),
        industries=sorted(set(data.industries)),
        is_active=data.is_active,
        created_at=now,
        updated_at=now,
    )
    await repo.add(e)
    await _published(session, settings, e, actor=principal.username, action="create",
                     changes=diff({}, _snap(e, EXPERT_TRACKED)))  # fmt: skip
    return e


async def update_expert(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    expert_id: uuid.UUID,
    patch: ExpertUpdate,
    present: set[str],
    now: datetime,
) -> Expert:
    await get_expert(session, settings=settings, expert_id=expert_id)
    e = await lock(session, Expert, expert_id)
    if e is None:
        raise NotFound(f"expert {expert_id} not found")
    EXPERTS.ensure_owner(e, settings)
    for name in ("name", "domains", "industries", "isActive"):
        if name in present and getattr(patch, {"isActive": "is_active"}.get(name, name)) is None:
            raise ValidationFailed(f"{name}: may not be null", field=name)
    before = _snap(e, EXPERT_TRACKED)
    if patch.name is not None:
        e.name = patch.name
    if patch.domains is not None:
        e.domains = sorted(set(patch.domains))
    if patch.industries is not None:
        e.industries = sorted(set(patch.industries))
    if patch.is_active is not None:
        e.is_active = patch.is_active
    changes = diff(before, _snap(e, EXPERT_TRACKED))
    if changes:
        e.version += 1
        e.updated_at = now
        await _published(session, settings, e, actor=principal.username, action="update", changes=changes)
    return e


# --- requests -------------------------------------------------------------------------------------


async def list_requests(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[ExpertRequest], int]:
    return await RequestRepository.from_session(session).page(principal, settings.topology, lq)


async def get_request(
    session: AsyncSession, *, settings: Settings, principal: Principal, request_id: uuid.UUID
) -> ExpertRequest:
    r = await RequestRepository.from_session(session).get_visible(request_id, principal, settings.topology)
    if r is None:
        raise NotFound(f"expertRequest {request_id} not found")
    return r


async def create_request(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    data: ExpertRequestCreate,
    lookups: Lookups,
    token: str,
    now: datetime,
) -> ExpertRequest:
    customer = await lookups.customer(_id(data.related_party[0].id, "relatedParty"), token)
    r = ExpertRequest(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        subject=data.subject,
        description=data.description,
        domain=data.domain,
        industry=data.industry,
        customer_id=customer.id,
        customer_name=customer.name,
        account_manager=customer.account_manager,
        requested_by=person(principal),
        status=RequestStatus.REQUESTED.value,
        created_at=now,
        updated_at=now,
    )
    await RequestRepository.from_session(session).add(r)
    await CHANGES.record_change(
        session, r, aggregate_type=REQUEST, event=request_message, actor=principal.username, action="create",
        changes={"subject": [None, r.subject], "domain": [None, r.domain]}, created=True, at=now,
    )  # fmt: skip
    return r


async def _owned(
    session: AsyncSession, settings: Settings, principal: Principal, request_id: uuid.UUID
) -> ExpertRequest:
    await get_request(session, settings=settings, principal=principal, request_id=request_id)
    r = await RequestRepository.from_session(session).get_for_update(request_id)
    if r is None:
        raise NotFound(f"expertRequest {request_id} not found")
    if r.owner_node != settings.node:
        raise NotOwner("expertRequest", str(r.id), r.owner_node)
    return r


def _move(r: ExpertRequest, to: RequestStatus) -> None:
    current = RequestStatus(r.status)
    if to not in TRANSITIONS[current]:
        allowed = sorted(s.value for s in TRANSITIONS[current])
        raise InvalidTransition(
            f"expertRequest {r.id} is {r.status}: it cannot become {to.value}; allowed: {', '.join(allowed) or 'none'}",
            details={"allowed": allowed},
        )
    r.status = to.value


async def _changed(session: AsyncSession, r: ExpertRequest, before: dict[str, Any], *, actor: str, action: str,
                   note: str | None, now: datetime) -> ExpertRequest:  # fmt: skip
    await CHANGES.record_change(
        session, r, aggregate_type=REQUEST, event=request_message, actor=actor, action=action,
        changes=diff(before, _snap(r, REQUEST_TRACKED)), note=note, at=now,
    )  # fmt: skip
    return r


async def assign(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    request_id: uuid.UUID,
    body: AssignExpert,
    now: datetime,
) -> ExpertRequest:
    r = await _owned(session, settings, principal, request_id)
    before = _snap(r, REQUEST_TRACKED)
    repo = ExpertRepository.from_session(session)
    if body.expert_id is not None:
        e = await repo.get(pool_nodes(settings), _id(body.expert_id, "expertId"))
        if e is None or not e.is_active:
            raise ValidationFailed(f"expertId: no active expert {body.expert_id} in the pools here", field="expertId")
    else:
        e = await repo.best_match(settings.node, pool_nodes(settings), r.domain, r.industry)
        if e is None:
            raise ValidationFailed(
                f"no active expert for {r.domain}" + (f" / {r.industry}" if r.industry else "") + " in the pools of "
                + ", ".join(pool_nodes(settings)) + "; name one (expertId)",
                field="expertId",
            )  # fmt: skip
    _move(r, RequestStatus.ASSIGNED)
    r.expert_id, r.expert_name = e.id, e.name
    return await _changed(session, r, before, actor=principal.username, action="assign",
                          note=f"{e.name} ({e.username})", now=now)  # fmt: skip


async def answer(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    request_id: uuid.UUID,
    body: OutcomeCreate,
    now: datetime,
) -> ExpertRequest:
    r = await _owned(session, settings, principal, request_id)
    expert = (
        await ExpertRepository.from_session(session).get(pool_nodes(settings), r.expert_id) if r.expert_id else None
    )
    if not principal.has(MANAGE) and (expert is None or expert.username != person(principal)):
        raise Forbidden(f"the outcome of expertRequest {r.id} is given by its expert or by a {MANAGE} holder")
    doc = await document_service.get_document(
        session, settings=settings, principal=principal, document_id=_id(body.document_id, "documentId")
    )
    if doc.customer_id != r.customer_id:
        raise ValidationFailed("documentId: the document belongs to another customer", field="documentId")
    before = _snap(r, REQUEST_TRACKED)
    _move(r, RequestStatus.ANSWERED)
    r.outcome_summary, r.outcome_document_id = body.summary, doc.id
    return await _changed(session, r, before, actor=principal.username, action="answer", note=None, now=now)


async def finish(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    request_id: uuid.UUID,
    to: RequestStatus,
    note: str | None,
    now: datetime,
) -> ExpertRequest:
    r = await _owned(session, settings, principal, request_id)
    before = _snap(r, REQUEST_TRACKED)
    _move(r, to)
    return await _changed(session, r, before, actor=principal.username, action=to.value.lower(), note=note, now=now)
