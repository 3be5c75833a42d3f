"""Rule sets (/api/v1/rules/ruleSet) and the evaluation API (/api/v1/rules/effective)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.errors import Forbidden, NotFound, ValidationFailed
from kam_platform.settings import AppSettings
from kam_platform.tmf import href, id_or_404, parse_list_query
from kam_rules.models import RuleSet, RuleSetVersion

from . import service
from .bounds import Bound
from .cache import EffectiveCache
from .kinds import Kind
from .repository import FILTERABLE
from .schemas import (
    EffectiveRule,
    RuleSetAction,
    RuleSetCreate,
    RuleSetRead,
    RuleSetUpdate,
    RuleSetVersionRead,
    ValidFor,
)

BASE = "/api/v1/rules/ruleSet"
router = APIRouter(prefix="/api/v1/rules", tags=["rules"])

Reader = Annotated[Principal, require("rules:read")]
Writer = Annotated[Principal, require("rules:write")]
Approver = Annotated[Principal, require("rules:approve")]

FIELDS = [
    *("kind", "name", "ownerNode", "scopeNode", "version", "status", "validFor", "parameters", "bounds"),
    *("basedOn", "author", "approver", "publisher", "note", "createdAt", "updatedAt", "publishedAt"),
]


async def get_cache(request: Request) -> EffectiveCache:
    cache: EffectiveCache = request.app.state.rules_cache
    return cache


Cache = Annotated[EffectiveCache, Depends(get_cache)]


def read(request: Request, r: RuleSet) -> RuleSetRead:
    return RuleSetRead(
        id=str(r.id),
        href=href(request, f"{BASE}/{r.id}"),
        kind=r.kind,
        name=r.name,
        owner_node=r.owner_node,
        scope_node=r.scope_node,
        version=r.version,
        status=r.status,
        valid_for=ValidFor(start_date=r.valid_from, end_date=r.valid_to),
        parameters=r.parameters,
        bounds=[Bound.model_validate(b) for b in r.bounds],
        based_on=str(r.based_on) if r.based_on else None,
        author=r.author,
        approver=r.approver,
        publisher=r.publisher,
        note=r.note,
        created_at=r.created_at,
        updated_at=r.updated_at,
        published_at=r.published_at,
    )


@router.get("/ruleSet", response_model=list[RuleSetRead])
async def list_rule_sets(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[RuleSetRead] | JSONResponse:
    """Rule sets this node holds and the caller may see (its scope's subtree and the reference data above).
    Filters: kind, status, ownerNode, scopeNode, name, version, validFor.startDate, validFor.endDate,
    updatedAt; `sort=`, `fields=`, `offset`/`limit`."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_rule_sets(session, settings=settings, principal=who, lq=lq)
    return page(response, [read(request, r) for r in rows], total, lq)


@router.post("/ruleSet", status_code=201, response_model=RuleSetRead)
async def create_rule_set(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    cache: Cache,
    data: RuleSetCreate,
    _: None = JSON_BODY,
) -> RuleSetRead:
    """Draft a rule set at this node. At the group it is a national rule and may declare `bounds`; at a
    province it refines the rule in force above on `validFor.startDate`, within that rule's bounds."""
    r = await service.create(session, settings=settings, principal=who, cache=cache, data=data)
    body = read(request, r)
    response.headers["Location"] = body.href
    return body


@router.get("/ruleSet/{rule_set_id}", response_model=RuleSetRead)
async def get_rule_set(
    rule_set_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> RuleSetRead | JSONResponse:
    """One rule set (404 when unknown or outside the caller's scope)."""
    lq = parse_list_query(request, {}, FIELDS)
    r = await service.get_visible(
        session, settings=settings, principal=who, rule_set_id=id_or_404(rule_set_id, "rule set")
    )
    return one(read(request, r), lq.fields)


@router.patch("/ruleSet/{rule_set_id}", response_model=RuleSetRead)
async def update_rule_set(
    rule_set_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    cache: Cache,
    patch: Annotated[RuleSetUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    _: None = MERGE_PATCH_BODY,
) -> RuleSetRead:
    """Change a draft (JSON merge patch). Published rules are not edited: retire and publish anew."""
    r = await service.update(
        session,
        settings=settings,
        principal=who,
        cache=cache,
        rule_set_id=id_or_404(rule_set_id, "rule set"),
        patch=patch,
        present=present_keys(patch),
    )
    return read(request, r)


@router.post("/ruleSet/{rule_set_id}/approve", response_model=RuleSetRead)
async def approve_rule_set(
    rule_set_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Approver,
    cache: Cache,
    data: RuleSetAction | None = None,
    _: None = JSON_BODY,
) -> RuleSetRead:
    """DRAFT → APPROVED, by someone other than the author (403 SEPARATION_OF_DUTIES otherwise)."""
    r = await service.transition(
        session,
        settings=settings,
        principal=who,
        cache=cache,
        rule_set_id=id_or_404(rule_set_id, "rule set"),
        action="approve",
        note=data.note if data else None,
    )
    return read(request, r)


@router.post("/ruleSet/{rule_set_id}/publish", response_model=RuleSetRead)
async def publish_rule_set(
    rule_set_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    cache: Cache,
    data: RuleSetAction | None = None,
    _: None = JSON_BODY,
) -> RuleSetRead:
    """APPROVED → PUBLISHED: in force from `validFor.startDate`, distributed to the subtree."""
    r = await service.transition(
        session,
        settings=settings,
        principal=who,
        cache=cache,
        rule_set_id=id_or_404(rule_set_id, "rule set"),
        action="publish",
        note=data.note if data else None,
    )
    return read(request, r)


@router.post("/ruleSet/{rule_set_id}/retire", response_model=RuleSetRead)
async def retire_rule_set(
    rule_set_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    cache: Cache,
    data: RuleSetAction | None = None,
    _: None = JSON_BODY,
) -> RuleSetRead:
    """→ RETIRED: no longer in force anywhere (the rule above, if any, applies again)."""
    r = await service.transition(
        session,
        settings=settings,
        principal=who,
        cache=cache,
        rule_set_id=id_or_404(rule_set_id, "rule set"),
        action="retire",
        note=data.note if data else None,
    )
    return read(request, r)


@router.get("/ruleSet/{rule_set_id}/version", response_model=list[RuleSetVersionRead])
async def list_versions(
    rule_set_id: str, request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[RuleSetVersionRead] | JSONResponse:
    """The history of a rule set, newest first: every version this node has seen, with who and when."""
    lq = parse_list_query(request, {}, ("ruleSetId", "version", "status", "actor", "at", "state"))
    rid = id_or_404(rule_set_id, "rule set")
    rows, total = await service.versions(session, settings=settings, principal=who, rule_set_id=rid, lq=lq)
    return page(response, [_version(request, v) for v in rows], total, lq)


def _version(request: Request, v: RuleSetVersion) -> RuleSetVersionRead:
    return RuleSetVersionRead(
        id=f"{v.rule_set_id}:{v.version}",
        href=href(request, f"{BASE}/{v.rule_set_id}/version?version={v.version}"),
        rule_set_id=str(v.rule_set_id),
        version=v.version,
        status=v.status,
        actor=v.actor,
        at=v.at,
        state=v.state,
    )


@router.get("/effective", response_model=EffectiveRule)
async def effective_rule(
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Reader,
    cache: Cache,
    kind: Annotated[str, Query(max_length=32)],
    node: Annotated[str | None, Query(max_length=32)] = None,
    on: Annotated[date | None, Query(alias="date")] = None,
) -> EffectiveRule:
    """The published rule set of `kind` in force at `node` (default: the caller's scope node) on `date`
    (default: today, UTC): the nearest own-or-ancestor scope's rule valid on that date."""

    if kind not in {k.value for k in Kind}:
        raise ValidationFailed(f"kind: unknown kind {kind!r} (one of {', '.join(k.value for k in Kind)})", field="kind")
    target = node or who.scope_node
    if target not in settings.topology:
        raise ValidationFailed(f"node: unknown node {target!r}", field="node")
    if not settings.topology.is_in_subtree(target, who.scope_node):
        raise Forbidden(f"node {target} is outside your scope {who.scope_node}")
    if not settings.topology.is_in_subtree(target, settings.node):
        raise ValidationFailed(
            f"node: {settings.node} answers for its own subtree; ask {target}'s own node", field="node"
        )
    day = on or datetime.now(UTC).date()
    found = await service.effective(session, settings=settings, cache=cache, kind=kind, node=target, on=day)
    if found is None:
        raise NotFound(f"no published {kind} rule is in force at {target} on {day}")
    r, chain = found
    return EffectiveRule(kind=kind, node=target, date=day, rule_set=read(request, r), chain=chain)
