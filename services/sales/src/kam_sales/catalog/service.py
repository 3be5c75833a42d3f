"""The catalogue's rules: who may author (a node with a subtree: the group or a province), references
only to items in force where the referrer flows, the TMF620 lifecycle inDesign → active → retired, and
which offerings are sellable at a node (province availability of national offerings)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.dataset import depth
from kam_platform.errors import InvalidTransition, NotFound, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery, validate_model
from kam_sales.changes import CHANGES
from kam_sales.models import CatalogItem

from .dataset import CATALOG
from .repository import CatalogRepository
from .schemas import CREATE, TRANSITIONS, Common, Kind, body_of, period_json

# which attribute of a kind refers to which kinds
REFERENCES: dict[Kind, dict[str, tuple[Kind, ...]]] = {
    Kind.CATALOG: {"category": (Kind.CATEGORY,)},
    Kind.CATEGORY: {"parentId": (Kind.CATEGORY,)},
    Kind.SPECIFICATION: {"bundledProductSpecification": (Kind.SPECIFICATION,)},
    Kind.OFFERING: {
        "category": (Kind.CATEGORY,),
        "productSpecification": (Kind.SPECIFICATION,),
        "productOfferingPrice": (Kind.PRICE,),
        "bundledProductOffering": (Kind.OFFERING,),
    },
    Kind.PRICE: {},
    Kind.AVAILABILITY: {"productOffering": (Kind.OFFERING,)},
}


def api_view(r: CatalogItem) -> dict[str, Any]:
    """The stored item in API spelling (what a merge patch applies to, and what audit compares)."""
    return {
        "name": r.name,
        "description": r.description,
        "lifecycleStatus": r.lifecycle_status,
        "validFor": period_json(r.valid_from, r.valid_to),
        **r.body,
    }


def _ref_ids(kind: Kind, body: dict[str, Any]) -> list[tuple[str, str, tuple[Kind, ...]]]:
    """(field, id, kinds it may name) of every reference in a body."""
    out: list[tuple[str, str, tuple[Kind, ...]]] = []
    for attr, kinds in REFERENCES[kind].items():
        value = body.get(attr)
        if value is None:
            continue
        if isinstance(value, str):
            out.append((attr, value, kinds))
        elif isinstance(value, dict):
            out.append((f"{attr}.id", str(value["id"]), kinds))
        else:
            out.extend((f"{attr}[{i}].id", str(ref["id"]), kinds) for i, ref in enumerate(value))
    return out


async def _check_references(
    session: AsyncSession, settings: Settings, kind: Kind, body: dict[str, Any], self_id: uuid.UUID | None
) -> None:
    parsed: list[tuple[str, uuid.UUID | None, tuple[Kind, ...]]] = []
    for field, raw, kinds in _ref_ids(kind, body):
        try:
            parsed.append((field, uuid.UUID(raw), kinds))
        except ValueError:
            parsed.append((field, None, kinds))
    found = await CatalogRepository.from_session(session).referable(
        [rid for _, rid, _ in parsed if rid is not None], settings.topology, settings.node
    )
    for field, rid, kinds in parsed:
        item = found.get(rid) if rid is not None else None
        if rid is not None and rid == self_id:
            raise ValidationFailed(f"{field}: an item cannot refer to itself", field=field)
        if item is None or item.kind not in {k.value for k in kinds}:
            raise ValidationFailed(
                f"{field}: no {' or '.join(k.value for k in kinds)} {rid or '?'} is published at {settings.node} "
                "or above it (an item refers only to items in force wherever it flows)",
                field=field,
            )
        if item.lifecycle_status == "retired":
            raise ValidationFailed(f"{field}: {item.kind} {rid} ({item.name}) is retired", field=field)
    if kind is Kind.AVAILABILITY:
        offering = found[uuid.UUID(body["productOffering"]["id"])]
        if offering.owner_node == settings.node:
            raise ValidationFailed(
                f"productOffering.id: {offering.name} is authored at {offering.owner_node}; availability is set "
                "by a node below the offering's author for an offering published from above",
                field="productOffering.id",
            )


def _transition(r: CatalogItem, to: str) -> None:
    if to == r.lifecycle_status:
        return
    allowed = TRANSITIONS[r.lifecycle_status]
    if to not in allowed:
        raise InvalidTransition(
            f"{r.kind} {r.id} is {r.lifecycle_status}; lifecycleStatus may move to "
            f"{', '.join(allowed) if allowed else 'nothing (retired is final)'}",
            details={"from": r.lifecycle_status, "to": to, "allowed": list(allowed)},
        )


async def create(
    session: AsyncSession, *, settings: Settings, principal: Principal, kind: Kind, data: Common
) -> CatalogItem:
    CATALOG.ensure_can_author(settings)
    if data.lifecycle_status.value == "retired":
        raise InvalidTransition(
            f"a new {kind.value} starts inDesign or active, not retired",
            details={"allowed": ["inDesign", "active"]},
        )
    body = body_of(data)
    await _check_references(session, settings, kind, body, None)
    now = datetime.now(UTC)
    r = CatalogItem(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        kind=kind.value,
        name=data.name,
        description=data.description,
        lifecycle_status=data.lifecycle_status.value,
        valid_from=data.valid_for.start,
        valid_to=data.valid_for.end,
        body=body,
        created_at=now,
        updated_at=now,
    )
    session.add(r)
    await session.flush()
    await CHANGES.audit(
        session,
        node=settings.node,
        entity_type=kind.value,
        entity_id=r.id,
        action="create",
        actor=principal.username,
        changes=diff({}, api_view(r)),
    )
    await CATALOG.publish(session, settings, r, actor=principal.username)
    return r


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    kind: Kind,
    item_id: uuid.UUID,
    patch: dict[str, Any],
) -> CatalogItem:
    repo = CatalogRepository.from_session(session)
    visible = await repo.get_visible(kind, item_id, principal, settings.topology)
    if visible is None:
        raise NotFound(f"{kind.value} {item_id} not found")
    r = await repo.lock(item_id)
    assert r is not None
    CATALOG.ensure_owner(r, settings)
    if r.lifecycle_status == "retired":
        raise InvalidTransition(
            f"{kind.value} {r.id} is retired; a retired item is not changed (publish a new one)",
            details={"from": "retired", "allowed": []},
        )
    before = api_view(r)
    merged = merge_patch(before, patch)
    data = validate_model(CREATE[kind], merged)
    _transition(r, data.lifecycle_status.value)
    if r.lifecycle_status != "inDesign" and data.valid_for.start != r.valid_from:
        raise ValidationFailed(
            "validFor.startDateTime: an item in force keeps its start (it was published with it)",
            field="validFor.startDateTime",
        )
    body = body_of(data)
    await _check_references(session, settings, kind, body, r.id)
    r.name, r.description = data.name, data.description
    r.lifecycle_status = data.lifecycle_status.value
    r.valid_from, r.valid_to = data.valid_for.start, data.valid_for.end
    r.body = body
    changes = diff(before, api_view(r))
    if not changes:
        return r
    r.version += 1
    r.updated_at = datetime.now(UTC)
    await session.flush()
    action = "update" if "lifecycleStatus" not in changes else r.lifecycle_status
    await CHANGES.audit(
        session,
        node=settings.node,
        entity_type=kind.value,
        entity_id=r.id,
        action=action,
        actor=principal.username,
        changes=changes,
    )
    await CATALOG.publish(session, settings, r, actor=principal.username)
    return r


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, kind: Kind, item_id: uuid.UUID
) -> CatalogItem:
    r = await CatalogRepository.from_session(session).get_visible(kind, item_id, principal, settings.topology)
    if r is None:
        raise NotFound(f"{kind.value} {item_id} not found")
    return r


async def list_items(
    session: AsyncSession, *, settings: Settings, principal: Principal, kind: Kind, lq: ListQuery
) -> tuple[Sequence[CatalogItem], int]:
    return await CatalogRepository.from_session(session).page(kind, principal, settings.topology, lq)


async def sellable_at(session: AsyncSession, *, settings: Settings, node: str, on: date) -> list[CatalogItem]:
    """Active offerings in force at `node` on `on` that are sellable there: the nearest availability
    record below the offering's author decides; without one, the offering's ``availableByDefault``."""
    repo = CatalogRepository.from_session(session)
    topo = settings.topology
    offerings = [o for o in await repo.offerings_in_force(topo, node, on) if o.body.get("isSellable", True)]
    decisions: dict[str, tuple[int, datetime, bool]] = {}
    for a in await repo.availability_in_force(topo, node, on):
        oid = str(a.body["productOffering"]["id"])
        key = (depth(topo, a.owner_node), a.updated_at)  # the nearest node's latest word
        if oid not in decisions or key > decisions[oid][:2]:
            decisions[oid] = (*key, bool(a.body["isAvailable"]))
    out = []
    for o in offerings:
        found = decisions.get(str(o.id))
        if found is not None and found[0] > depth(topo, o.owner_node):
            if found[2]:
                out.append(o)
        elif o.body.get("availableByDefault", True):
            out.append(o)
    return out


def ensure_known(kind: str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        raise NotFound(f"unknown catalogue resource {kind!r}") from None


async def known_at(
    session: AsyncSession, *, settings: Settings, node: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, CatalogItem]:
    """The items among `ids` that `node` holds from itself or its ancestors, in any lifecycle state (to
    say why an offering is not sellable: retired, or not available there)."""
    return await CatalogRepository.from_session(session).referable(ids, settings.topology, node)
