"""Campaigns' rules: authored at a node, draft → approved (by someone else) → running → closed; launch
snapshots the target segment in the launcher's scope into one target list per part of the author's
subtree (a national campaign: per province) that flows down; the node holding a customer works it
(contact attempts, a response, conversion into an opportunity) and the work flows up; the evaluation
rolls the figures up the tree."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, Forbidden, InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_sales.catalog import service as catalog_service
from kam_sales.changes import CHANGES
from kam_sales.customers import CustomerDirectory
from kam_sales.models import Campaign, CampaignResponse, CampaignTargetList
from kam_sales.money import CENT, money_json
from kam_sales.opportunity import service as opportunity_service
from kam_sales.opportunity.schemas import OpportunityCreate

from .dataset import CAMPAIGNS, RESPONSES, TARGET_LISTS
from .repository import CampaignRepository, ConvertedRepository, ResponseRepository
from .schemas import TRANSITIONS, CampaignCreate, CampaignUpdate, ContactAttempt, TargetResponse

AGGREGATE = "campaign"
# a response may change while the campaign runs, until the target is converted
RESPONSE_MOVES: dict[str, tuple[str, ...]] = {
    "none": ("interested", "notInterested", "converted"),
    "interested": ("notInterested", "converted"),
    "notInterested": ("interested", "converted"),
    "converted": (),
}


class SeparationOfDuties(Forbidden):
    code, reason = "SEPARATION_OF_DUTIES", "Separation of duties"


def snapshot(r: Campaign) -> dict[str, Any]:
    return {
        "name": r.name,
        "objective": r.objective,
        "segment": r.segment,
        "offers": r.offers,
        "channel": r.channel,
        "budget": {"unit": r.currency, "value": str(r.budget)},
        "period": {"startDateTime": r.valid_from, "endDateTime": r.valid_to},
        "status": r.status,
        "approvedBy": r.approved_by,
    }


async def _offers(
    session: AsyncSession, settings: Settings, refs: Sequence[Any], now: datetime
) -> list[dict[str, str]]:
    """Offering references, each active and in force at this node (the campaign's author) today."""
    if not refs:
        return []
    ids = []
    for i, ref in enumerate(refs):
        try:
            ids.append(uuid.UUID(ref.id))
        except ValueError:
            raise ValidationFailed(f"offers[{i}].id: {ref.id!r} is not an id", field=f"offers[{i}].id") from None
    known = await catalog_service.known_at(session, settings=settings, node=settings.node, ids=ids)
    out = []
    for i, oid in enumerate(ids):
        o = known.get(oid)
        if o is None or o.kind != "productOffering" or o.lifecycle_status != "active":
            why = (
                "is not an active offering" if o is None or o.kind != "productOffering" else f"is {o.lifecycle_status}"
            )
            raise ValidationFailed(f"offers[{i}].id: offering {oid} {why} at {settings.node}", field=f"offers[{i}].id")
        out.append({"id": str(o.id), "name": o.name})
    return out


async def _changed(
    session: AsyncSession,
    settings: Settings,
    r: Campaign,
    who: str,
    action: str,
    changes: dict[str, Any],
    now: datetime,
    *,
    created: bool = False,
) -> None:
    """Version, audit, and the campaign's state to its subtree and up (once launched)."""
    if not created:
        r.version += 1
        r.updated_at = now
    await session.flush()
    await CHANGES.audit(
        session,
        node=settings.node,
        entity_type=AGGREGATE,
        entity_id=r.id,
        action=action,
        actor=who,
        changes=changes,
    )
    await CAMPAIGNS.publish(session, settings, r, actor=who)


async def create(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: CampaignCreate, now: datetime
) -> Campaign:
    r = Campaign(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        name=data.name,
        objective=data.objective,
        segment=data.segment.model_dump(mode="json"),
        offers=await _offers(session, settings, data.offers, now),
        channel=data.channel.value,
        budget=data.budget.value,
        currency=data.budget.unit,
        valid_from=data.period.start_date_time,
        valid_to=data.period.end_date_time,
        status="draft",
        created_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    session.add(r)
    await _changed(session, settings, r, principal.username, "create", diff({}, snapshot(r)), now, created=True)
    return r


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, campaign_id: uuid.UUID
) -> Campaign:
    r = await CampaignRepository.from_session(session).get_visible(
        campaign_id, principal, settings.topology, settings.node
    )
    if r is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return r


async def list_campaigns(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[Campaign], int]:
    return await CampaignRepository.from_session(session).page(principal, settings.topology, settings.node, lq)


async def _locked_own(session: AsyncSession, settings: Settings, who: Principal, campaign_id: uuid.UUID) -> Campaign:
    await get_visible(session, settings=settings, principal=who, campaign_id=campaign_id)
    r = await CampaignRepository.from_session(session).lock(campaign_id)
    if r is None:
        raise NotFound(f"campaign {campaign_id} not found")
    CAMPAIGNS.ensure_owner(r, settings)
    return r


def _move(r: Campaign, to: str) -> None:
    allowed = TRANSITIONS[r.status]
    if to not in allowed:
        raise InvalidTransition(
            f"campaign {r.id} is {r.status}; it may move to {', '.join(allowed) if allowed else 'nothing'}",
            details={"from": r.status, "to": to, "allowed": list(allowed)},
        )


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    campaign_id: uuid.UUID,
    patch: CampaignUpdate,
    present: set[str],
    now: datetime,
) -> Campaign:
    r = await _locked_own(session, settings, principal, campaign_id)
    for key in present - {"offers"}:
        if getattr(patch, {"name": "name"}.get(key, key), None) is None:
            raise ValidationFailed(f"{key} cannot be removed (null)", field=key)
    if r.status != "draft":
        raise InvalidTransition(
            f"campaign {r.id} is {r.status}; only a draft is edited",
            details={"from": r.status, "allowed": list(TRANSITIONS[r.status])},
        )
    before = snapshot(r)
    if patch.name is not None:
        r.name = patch.name
    if patch.objective is not None:
        r.objective = patch.objective
    if patch.segment is not None:
        r.segment = patch.segment.model_dump(mode="json")
    if "offers" in present:
        r.offers = await _offers(session, settings, patch.offers or [], now)
    if patch.channel is not None:
        r.channel = patch.channel.value
    if patch.budget is not None:
        r.budget, r.currency = patch.budget.value, patch.budget.unit
    if patch.period is not None:
        r.valid_from, r.valid_to = patch.period.start_date_time, patch.period.end_date_time
    changes = diff(before, snapshot(r))
    if changes:
        await _changed(session, settings, r, principal.username, "update", changes, now)
    return r


async def approve(
    session: AsyncSession, *, settings: Settings, principal: Principal, campaign_id: uuid.UUID, now: datetime
) -> Campaign:
    """draft → approved, by someone other than the author (403 SEPARATION_OF_DUTIES)."""
    r = await _locked_own(session, settings, principal, campaign_id)
    _move(r, "approved")
    if principal.username == r.created_by:
        raise SeparationOfDuties(f"{principal.username} authored campaign {r.id}; another approves it")
    before = snapshot(r)
    r.status, r.approved_by, r.approved_at = "approved", principal.username, now
    await _changed(session, settings, r, principal.username, "approved", diff(before, snapshot(r)), now)
    return r


def _part(settings: Settings, author: str, node: str) -> str | None:
    """The part of the author's subtree a customer of `node` belongs to: the author itself, or the child
    of the author whose subtree holds `node`; None outside the author's subtree."""
    topo = settings.topology
    if node == author:
        return author
    return next((c for c in topo.children(author) if topo.is_in_subtree(node, c)), None)


async def launch(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    campaign_id: uuid.UUID,
    directory: CustomerDirectory,
    token: str,
    now: datetime,
) -> tuple[Campaign, list[CampaignTargetList]]:
    """approved → running: the segment's customers the launcher sees, snapshot into one target list per
    part of the author's subtree; the lists and the campaign flow down."""
    r = await _locked_own(session, settings, principal, campaign_id)
    _move(r, "running")
    found = await directory.segment(dict(r.segment.get("filter", {})), token=token)
    parts: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()
    for t in found:
        part = _part(settings, r.owner_node, t.node)
        if part is None or t.customer_id in seen:
            continue
        seen.add(t.customer_id)
        target = {"customerId": t.customer_id, "name": t.name, "node": t.node}
        if t.account_manager:
            target["accountManager"] = t.account_manager
        parts.setdefault(part, []).append(target)
    lists = []
    for part, targets in sorted(parts.items()):
        tl = CampaignTargetList(
            id=uuid.uuid5(r.id, part),  # one list per campaign and part, whoever launches, however often
            owner_node=r.owner_node,
            version=1,
            campaign_id=r.id,
            scope_node=part,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            targets=targets,
            created_at=now,
            updated_at=now,
        )
        session.add(tl)
        await session.flush()
        await TARGET_LISTS.publish(session, settings, tl, actor=principal.username)
        lists.append(tl)
    before = snapshot(r)
    r.status, r.launched_at = "running", now
    # the snapshot's size travels with the campaign: every node apportions the budget by it
    r.segment = {**r.segment, "targetCount": len(seen), "snapshotAt": now.isoformat()}
    changes = {**diff(before, snapshot(r)), "targets": [None, len(seen)]}
    await _changed(session, settings, r, principal.username, "launched", changes, now)
    return r, lists


async def close(
    session: AsyncSession, *, settings: Settings, principal: Principal, campaign_id: uuid.UUID, now: datetime
) -> Campaign:
    r = await _locked_own(session, settings, principal, campaign_id)
    _move(r, "closed")
    before = snapshot(r)
    r.status, r.closed_at = "closed", now
    await _changed(session, settings, r, principal.username, "closed", diff(before, snapshot(r)), now)
    return r


@dataclass(frozen=True)
class Target:
    campaign: Campaign
    customer_id: str
    name: str
    node: str
    account_manager: str | None
    response: CampaignResponse | None


async def targets(
    session: AsyncSession, *, settings: Settings, principal: Principal, campaign_id: uuid.UUID
) -> list[Target]:
    """The campaign's targets held here that the caller's scope covers (the customer's node in the
    scope's subtree, and in the portfolio at a portfolio level), with their work so far."""
    c = await get_visible(session, settings=settings, principal=principal, campaign_id=campaign_id)
    topo = settings.topology
    repo = CampaignRepository.from_session(session)
    work = {
        (str(w.customer_id), w.owner_node): w
        for w in await ResponseRepository.from_session(session).of_campaign(c.id, principal, topo)
    }
    out = []
    for tl in await repo.target_lists(c.id):
        for t in tl.targets:
            node, manager = str(t["node"]), t.get("accountManager")
            if not topo.is_in_subtree(node, principal.scope_node) or not principal.sees_portfolio_of(manager):
                continue
            out.append(
                Target(
                    c, str(t["customerId"]), str(t.get("name", "")), node, manager, work.get((t["customerId"], node))
                )
            )
    return sorted(out, key=lambda x: (x.node, x.name, x.customer_id))


async def _work_on(
    session: AsyncSession, settings: Settings, principal: Principal, campaign_id: uuid.UUID, customer_id: str
) -> tuple[Campaign, Target, CampaignResponse | None]:
    found = [
        t
        for t in await targets(session, settings=settings, principal=principal, campaign_id=campaign_id)
        if t.customer_id == customer_id
    ]
    if not found:
        raise NotFound(f"customer {customer_id} is not a target of campaign {campaign_id} in your scope")
    t = next((x for x in found if x.node == settings.node), found[0])
    if t.node != settings.node:
        raise NotOwner("campaign target", customer_id, t.node)
    c = t.campaign
    if c.status != "running":
        raise Conflict(f"campaign {c.id} is {c.status}; its targets are worked while it runs")
    cid = uuid.UUID(customer_id)
    existing = await ResponseRepository.from_session(session).for_update(c.id, cid, settings.node)
    return c, t, existing


def _new_response(settings: Settings, c: Campaign, t: Target, who: Principal, now: datetime) -> CampaignResponse:
    return CampaignResponse(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        campaign_id=c.id,
        customer_id=uuid.UUID(t.customer_id),
        attempts=[],
        response="none",
        account_manager=t.account_manager or who.username,
        created_by=who.username,
        created_at=now,
        updated_at=now,
    )


def _response_snapshot(w: CampaignResponse) -> dict[str, Any]:
    return {
        "attempts": len(w.attempts),
        "response": w.response,
        "opportunityId": w.opportunity_id,
    }


async def _record_response(
    session: AsyncSession,
    w: CampaignResponse,
    who: Principal,
    action: str,
    changes: dict[str, Any],
    now: datetime,
    created: bool,
) -> None:
    await CHANGES.record_change(
        session,
        w,
        aggregate_type="campaign_response",
        event=RESPONSES.to_message,
        actor=who.username,
        action=action,
        changes=changes,
        created=created,
        at=now,
    )


async def attempt(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    campaign_id: uuid.UUID,
    customer_id: str,
    data: ContactAttempt,
    now: datetime,
) -> Target:
    c, t, w = await _work_on(session, settings, principal, campaign_id, customer_id)
    created = w is None
    w = w or _new_response(settings, c, t, principal, now)
    if created:
        session.add(w)
    before = {} if created else _response_snapshot(w)
    entry = {"at": (data.at or now).isoformat(), "by": principal.username, "channel": (data.channel or c.channel)}
    if data.note:
        entry["note"] = data.note
    w.attempts = [*w.attempts, entry]
    await _record_response(session, w, principal, "contactAttempt", diff(before, _response_snapshot(w)), now, created)
    return Target(c, t.customer_id, t.name, t.node, t.account_manager, w)


async def respond(
    session: AsyncSession,
    *,
    settings: Settings,
    caller: opportunity_service.Caller,
    campaign_id: uuid.UUID,
    customer_id: str,
    data: TargetResponse,
    now: datetime,
) -> Target:
    """The customer's response; `converted` creates the opportunity (source CAMPAIGN, the campaign's
    offers that are sellable here) in the same transaction."""
    who = caller.principal
    c, t, w = await _work_on(session, settings, who, campaign_id, customer_id)
    created = w is None
    w = w or _new_response(settings, c, t, who, now)
    if created:
        session.add(w)
    to = data.response.value
    allowed = RESPONSE_MOVES[w.response]
    if to not in allowed:
        raise InvalidTransition(
            f"target {customer_id} of campaign {c.id} is {w.response}; it may move to "
            f"{', '.join(allowed) if allowed else 'nothing (converted)'}",
            details={"from": w.response, "to": to, "allowed": list(allowed)},
        )
    if (to == "converted") != (data.opportunity is not None):
        raise ValidationFailed(
            "opportunity: given exactly when the response is converted (转商机)", field="opportunity"
        )
    before = {} if created else _response_snapshot(w)
    if data.opportunity is not None:
        sellable = {
            str(o.id)
            for o in await catalog_service.sellable_at(session, settings=settings, node=settings.node, on=now.date())
        }
        o = await opportunity_service.create(
            session,
            settings=settings,
            caller=caller,
            data=OpportunityCreate.model_validate(
                {
                    "name": data.opportunity.name,
                    "customer": {"id": t.customer_id, "name": t.name},
                    "source": "CAMPAIGN",
                    "description": f"营销活动 {c.name} ({c.id})",
                    "expectedAmount": money_json(data.opportunity.expected_amount),
                    "closeDate": data.opportunity.close_date.isoformat() if data.opportunity.close_date else None,
                    "accountManager": t.account_manager or who.username,
                    "products": [{"id": x["id"]} for x in c.offers if x["id"] in sellable],
                    "decisionChain": [],
                }
            ),
        )
        w.opportunity_id = o.id
    if data.note:
        w.attempts = [*w.attempts, {"at": now.isoformat(), "by": who.username, "note": data.note, "channel": c.channel}]
    w.response, w.responded_at = to, now
    await _record_response(session, w, who, "response", diff(before, _response_snapshot(w)), now, created)
    return Target(c, t.customer_id, t.name, t.node, t.account_manager, w)


def _line(node: str) -> dict[str, Any]:
    return {
        "node": node,
        "targets": 0,
        "contacted": 0,
        "responders": 0,
        "conversions": 0,
        "pipeline": Decimal(0),
        "won": Decimal(0),
    }


async def evaluation(
    session: AsyncSession, *, settings: Settings, principal: Principal, campaign_id: uuid.UUID, node: str | None
) -> tuple[Campaign, str, dict[str, Any], list[dict[str, Any]]]:
    """Per line (the node's own customers, then each child's subtree rolled up) and in total: targets,
    contacted, responders (any response), conversions, the converted opportunities' open pipeline and
    won amounts, the budget's share (by share of targets) and its cost per response. Only what the
    caller's scope holds is counted."""
    topo = settings.topology
    target = node or principal.scope_node
    if target not in topo:
        raise ValidationFailed(f"node: unknown node {target!r}", field="node")
    if not topo.is_in_subtree(target, principal.scope_node):
        raise Forbidden(f"node {target} is outside your scope {principal.scope_node}")
    everyone = await targets(session, settings=settings, principal=principal, campaign_id=campaign_id)
    c = await get_visible(session, settings=settings, principal=principal, campaign_id=campaign_id)
    lines = {n: _line(n) for n in [target, *topo.children(target)]}
    total = _line(target)

    def key(n: str) -> str | None:
        return n if n == target else next((ch for ch in topo.children(target) if topo.is_in_subtree(n, ch)), None)

    converted = [t.response.opportunity_id for t in everyone if t.response and t.response.opportunity_id]
    amounts = await ConvertedRepository.from_session(session).amounts(converted, principal, topo)
    all_targets = int(c.segment.get("targetCount", len(everyone)))
    for t in everyone:
        k = key(t.node)
        if k is None:
            continue
        w = t.response
        for line in (lines[k], total):
            line["targets"] += 1
            if w is None:
                continue
            line["contacted"] += 1 if (w.attempts or w.response != "none") else 0
            line["responders"] += 1 if w.response != "none" else 0
            line["conversions"] += 1 if w.response == "converted" else 0
            found = amounts.get(w.opportunity_id) if w.opportunity_id else None
            if found is not None:
                stage, amount, _ = found
                if stage == "WON":
                    line["won"] += amount
                elif stage != "LOST":
                    line["pipeline"] += amount
    for line in [*lines.values(), total]:
        share = Decimal(line["targets"]) / Decimal(all_targets) if all_targets else Decimal(0)
        cost = c.budget * share  # rounded once, at the end: a cent of rounding is not multiplied
        line["cost"] = cost.quantize(CENT)
        line["cost_per_response"] = (cost / line["responders"]).quantize(CENT) if line["responders"] else None
        line["response_rate"] = (
            f"{(Decimal(line['responders']) * 100 / line['targets']).quantize(CENT)}" if line["targets"] else None
        )
    return c, target, total, sorted(lines.values(), key=lambda x: str(x["node"]))
