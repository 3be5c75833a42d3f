"""Rule sets: authoring, the status flow (draft → approved → published → retired, approver ≠ author),
refinement within the bounds of the rule refined, and the effective rule at a node on a date."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff, jsonable
from kam_platform.auth import Principal
from kam_platform.dataset import after_commit, depth
from kam_platform.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_rules.models import RuleSet, RuleSetVersion

from . import bounds as bounds_mod
from .cache import EffectiveCache
from .dataset import CHANGES, RULE_SETS
from .kinds import KIND_MODELS, Kind
from .repository import RuleSetRepository
from .schemas import RuleSetCreate, RuleSetUpdate


class SeparationOfDuties(Forbidden):
    code, reason = "SEPARATION_OF_DUTIES", "Separation of duties"


TRANSITIONS = {
    "approve": ({"DRAFT"}, "APPROVED"),
    "publish": ({"APPROVED"}, "PUBLISHED"),
    "retire": ({"DRAFT", "APPROVED", "PUBLISHED"}, "RETIRED"),
}


def validate_parameters(kind: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters as the kind's model normalises them; 422 naming each bad parameter."""
    model = KIND_MODELS[Kind(kind)]
    try:
        parsed = model.model_validate(parameters)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(["parameters", *(str(p) for p in e["loc"])]), "message": e["msg"]} for e in exc.errors()
        ]
        msg = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ValidationFailed(msg, field=errors[0]["field"], errors=errors) from None
    dumped: dict[str, Any] = parsed.model_dump(mode="json", by_alias=True)
    return dumped


def snapshot(r: RuleSet) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "name": r.name,
        "scopeNode": r.scope_node,
        "validFor": {"startDate": r.valid_from, "endDate": r.valid_to},
        "status": r.status,
        "parameters": r.parameters,
        "bounds": r.bounds,
        "basedOn": r.based_on,
        "author": r.author,
        "approver": r.approver,
        "publisher": r.publisher,
        "note": r.note,
    }


def version_row(r: RuleSet, actor: str) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "rule_set_id": r.id,
        "version": r.version,
        "owner_node": r.owner_node,
        "status": r.status,
        "state": jsonable(snapshot(r)),
        "actor": actor,
    }


def pick(candidates: Sequence[RuleSet], settings: Settings) -> RuleSet | None:
    """The nearest scope wins; at one scope the latest start, then the latest publication."""
    topo = settings.topology
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda r: (
            depth(topo, r.owner_node) if r.owner_node in topo else -1,
            r.valid_from,
            r.published_at or datetime.min.replace(tzinfo=UTC),
            r.version,
        ),
    )


def _detached(r: RuleSet) -> RuleSet:
    """A copy bound to no session: a cached answer outlives the session (a rollback would expire it)."""
    return RuleSet(**{c.key: getattr(r, c.key) for c in RuleSet.__table__.columns})


async def effective(
    session: AsyncSession, *, settings: Settings, cache: EffectiveCache, kind: str, node: str, on: date
) -> tuple[RuleSet, list[str]] | None:
    """The published rule set of `kind` in force at `node` on `on`, and its refinement chain."""
    key = (kind, node, on)
    hit = cache.get(key)
    if hit is not None:
        return hit if hit != () else None
    repo = RuleSetRepository.from_session(session)
    found = pick(await repo.published_in_force(settings.topology, kind, node, on), settings)
    result: tuple[RuleSet, list[str]] | None = None
    if found is not None:
        chain = [str(found.id)]
        cur = found
        while cur.based_on is not None and len(chain) < 16:
            parent = await repo.get(cur.based_on)
            if parent is None:
                break
            chain.insert(0, str(parent.id))
            cur = parent
        result = (_detached(found), chain)
    cache.put(key, result if result is not None else ())
    return result


async def _base_for(session: AsyncSession, settings: Settings, kind: str, on: date, cache: EffectiveCache) -> RuleSet:
    parent = settings.this_node.parent
    assert parent is not None
    found = await effective(session, settings=settings, cache=cache, kind=kind, node=parent, on=on)
    if found is None:
        raise ValidationFailed(
            f"validFor.startDate: no published {kind} rule is in force above {settings.node} on {on} to refine; "
            f"{settings.node} refines the rules of its ancestors",
            field="validFor.startDate",
        )
    return found[0]


def _check_against_base(r: RuleSet, base: RuleSet, supplied_bounds: list[dict[str, Any]] | None) -> None:
    label = f"{base.kind} rule {base.id} of {base.owner_node}"
    if supplied_bounds is not None and supplied_bounds != base.bounds:
        raise ValidationFailed(
            f"bounds: a refinement keeps the bounds of the rule it refines ({label}); it cannot declare its own",
            field="bounds",
        )
    if r.valid_from < base.valid_from:
        raise ValidationFailed(f"validFor.startDate: before the start of {label} ({base.valid_from})", field="validFor")
    if base.valid_to is not None and (r.valid_to is None or r.valid_to > base.valid_to):
        raise ValidationFailed(
            f"validFor.endDate: {label} ends on {base.valid_to}; a refinement cannot outlast it",
            field="validFor.endDate",
        )
    bounds_mod.check_refinement(
        [bounds_mod.Bound.model_validate(b) for b in base.bounds], base.parameters, r.parameters, base_label=label
    )


def _invalidate(session: AsyncSession, cache: EffectiveCache) -> None:
    after_commit(session, cache.clear)


async def create(
    session: AsyncSession, *, settings: Settings, principal: Principal, cache: EffectiveCache, data: RuleSetCreate
) -> RuleSet:
    RULE_SETS.ensure_can_author(settings)
    params = validate_parameters(data.kind.value, data.parameters)
    supplied = [b.model_dump(mode="json", exclude_none=True) for b in data.bounds] if data.bounds is not None else None
    now = datetime.now(UTC)
    r = RuleSet(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        kind=data.kind.value,
        name=data.name,
        scope_node=settings.node,
        valid_from=data.valid_for.start_date,
        valid_to=data.valid_for.end_date,
        status="DRAFT",
        parameters=params,
        bounds=[],
        author=principal.username,
        note=data.note,
        created_at=now,
        updated_at=now,
    )
    if settings.this_node.parent is None:
        r.bounds = supplied or []
        bounds_mod.check_declared([bounds_mod.Bound.model_validate(b) for b in r.bounds], params)
    else:
        base = await _base_for(session, settings, r.kind, r.valid_from, cache)
        _check_against_base(r, base, supplied)
        r.based_on, r.bounds = base.id, list(base.bounds)
    session.add(r)
    await session.flush()
    repo = RuleSetRepository.from_session(session)
    await repo.add_version(version_row(r, principal.username))
    await CHANGES.audit(
        session,
        node=settings.node,
        entity_type="rule_set",
        entity_id=r.id,
        action="create",
        actor=principal.username,
        changes=diff({}, snapshot(r)),
    )
    return r


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, rule_set_id: uuid.UUID, lock: bool = False
) -> RuleSet:
    r = await RuleSetRepository.from_session(session).get_visible(rule_set_id, principal, settings.topology, lock=lock)
    if r is None:
        raise NotFound(f"rule set {rule_set_id} not found")
    return r


async def list_rule_sets(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[RuleSet], int]:
    return await RuleSetRepository.from_session(session).page(principal, settings.topology, lq)


async def versions(
    session: AsyncSession, *, settings: Settings, principal: Principal, rule_set_id: uuid.UUID, lq: ListQuery
) -> tuple[Sequence[RuleSetVersion], int]:
    await get_visible(session, settings=settings, principal=principal, rule_set_id=rule_set_id)
    return await RuleSetRepository.from_session(session).versions(rule_set_id, lq)


async def _changed(
    session: AsyncSession,
    settings: Settings,
    cache: EffectiveCache,
    r: RuleSet,
    before: dict[str, Any],
    *,
    action: str,
    actor: str,
    note: str | None = None,
) -> None:
    r.version += 1
    r.updated_at = datetime.now(UTC)
    await session.flush()
    repo = RuleSetRepository.from_session(session)
    await repo.add_version(version_row(r, actor))
    await CHANGES.audit(
        session,
        node=settings.node,
        entity_type="rule_set",
        entity_id=r.id,
        action=action,
        actor=actor,
        changes=diff(before, snapshot(r)),
        note=note,
    )
    await RULE_SETS.publish(session, settings, r, actor=actor)
    _invalidate(session, cache)


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    cache: EffectiveCache,
    rule_set_id: uuid.UUID,
    patch: RuleSetUpdate,
    present: set[str],
) -> RuleSet:
    r = await get_visible(session, settings=settings, principal=principal, rule_set_id=rule_set_id, lock=True)
    RULE_SETS.ensure_owner(r, settings)
    if r.status != "DRAFT":
        raise InvalidTransition(f"rule set {r.id} is {r.status}; only a draft is edited (publish a new one instead)")
    before = snapshot(r)
    for key in ("name", "validFor", "parameters"):
        if key in present and getattr(patch, {"validFor": "valid_for"}.get(key, key)) is None:
            raise ValidationFailed(f"{key} cannot be removed (null)", field=key)
    if patch.name is not None:
        r.name = patch.name
    if patch.valid_for is not None:
        r.valid_from, r.valid_to = patch.valid_for.start_date, patch.valid_for.end_date
    if patch.parameters is not None:
        r.parameters = validate_parameters(r.kind, patch.parameters)
    if "note" in present:
        r.note = patch.note
    supplied = (
        [b.model_dump(mode="json", exclude_none=True) for b in patch.bounds]
        if "bounds" in present and patch.bounds is not None
        else None
    )
    if settings.this_node.parent is None:
        if "bounds" in present:
            r.bounds = supplied or []
        bounds_mod.check_declared([bounds_mod.Bound.model_validate(b) for b in r.bounds], r.parameters)
    else:
        base = await _base_for(session, settings, r.kind, r.valid_from, cache)
        _check_against_base(r, base, supplied)
        r.based_on, r.bounds = base.id, list(base.bounds)
    if diff(before, snapshot(r)):
        await _changed(session, settings, cache, r, before, action="update", actor=principal.username)
    return r


async def transition(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    cache: EffectiveCache,
    rule_set_id: uuid.UUID,
    action: str,
    note: str | None = None,
) -> RuleSet:
    r = await get_visible(session, settings=settings, principal=principal, rule_set_id=rule_set_id, lock=True)
    RULE_SETS.ensure_owner(r, settings)
    allowed_from, to = TRANSITIONS[action]
    if r.status not in allowed_from:
        raise InvalidTransition(f"rule set {r.id} is {r.status}; {action} applies to {', '.join(sorted(allowed_from))}")
    before = snapshot(r)
    if action == "approve":
        if principal.username == r.author:
            raise SeparationOfDuties(
                f"rule set {r.id} was written by {r.author}; another person with rules:approve must approve it"
            )
        r.approver = principal.username
    elif action == "publish":
        if r.based_on is not None:
            # the refined rule may have been retired or replaced since the draft was checked
            base = await _base_for(session, settings, r.kind, r.valid_from, cache)
            if base.id != r.based_on:
                raise InvalidTransition(
                    f"rule set {r.id} refines {r.based_on}, but the rule in force above is now {base.id}; "
                    "edit the draft to refine it"
                )
            _check_against_base(r, base, None)
        r.publisher = principal.username
        r.published_at = datetime.now(UTC)
    r.status = to
    await _changed(session, settings, cache, r, before, action=action, actor=principal.username, note=note)
    return r


def default_id(node: str, kind: Kind) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"kam:rules:{node}:{kind.value}:default")


async def seed_rule(
    session: AsyncSession,
    *,
    settings: Settings,
    kind: Kind,
    name: str,
    start: date,
    parameters: dict[str, Any],
    bounds: list[dict[str, Any]],
) -> RuleSet:
    """A published national default, written by the system (seed): authored and approved by the seed."""
    now = datetime.now(UTC)
    r = RuleSet(
        id=default_id(settings.node, kind),
        owner_node=settings.node,
        version=1,
        kind=kind.value,
        name=name,
        scope_node=settings.node,
        valid_from=start,
        valid_to=None,
        status="PUBLISHED",
        parameters=validate_parameters(kind.value, parameters),
        bounds=[bounds_mod.Bound.model_validate(b).model_dump(mode="json", exclude_none=True) for b in bounds],
        author="system:seed",
        approver="system:seed",
        publisher="system:seed",
        created_at=now,
        updated_at=now,
        published_at=now,
    )
    bounds_mod.check_declared([bounds_mod.Bound.model_validate(b) for b in r.bounds], r.parameters)
    session.add(r)
    await session.flush()
    repo = RuleSetRepository.from_session(session)
    await repo.add_version(version_row(r, "system:seed"))
    await CHANGES.audit(
        session,
        node=settings.node,
        entity_type="rule_set",
        entity_id=r.id,
        action="seed",
        actor="system:seed",
        changes=diff({}, snapshot(r)),
    )
    await RULE_SETS.publish(session, settings, r, actor="system:seed")
    return r
