"""Merge rules (客户合并): a survivor takes its victims' records — contacts, competitor presence, the
decision map, the needs profile, branches — and, attribute by attribute, the values chosen; the victims
stay as soft-deleted redirects to it. Within one node the owner merges (every customer of a merge is
owned here: one writer per record); the merge is audited, replicated up, and reversible within a window
(docs/customer-f1.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_customer import attached
from kam_customer.competitor import events as competitor_events
from kam_customer.competitor.models import CompetitorPresence
from kam_customer.contact import service as contact_service
from kam_customer.customer import events as customer_events
from kam_customer.customer import service as customer_service
from kam_customer.customer.repository import CustomerRepository
from kam_customer.customer.views import snapshot
from kam_customer.decision import events as decision_events
from kam_customer.decision.models import ContactRelation
from kam_customer.designation import service as designation_service
from kam_customer.models import Contact, Customer, Designation
from kam_customer.needs import events as needs_events
from kam_customer.needs.models import NeedsProfile
from kam_customer.needs.schemas import FIELDS as NEEDS_FIELDS
from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery

from . import events
from .models import CustomerMerge
from .repository import MERGED, MergeRepository
from .schemas import MergeCreate

AGGREGATE = "customer_merge"
PERMISSION = "customer:merge"
REVERSED = "REVERSED"
# how long a merge can be reversed: long enough for the account managers to notice a wrong one, short
# enough that the survivor's later history does not have to be unpicked
REVERSIBLE_FOR = timedelta(days=30)

# the attributes a merge chooses among survivor and victims (API name → columns, taken together)
MERGEABLE: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "shortName": ("short_name",),
    "nature": ("nature",),
    "mgmtLevel": ("mgmt_level",),
    "industry": ("industry",),
    "valueType": ("value_type",),
    "grade": ("grade",),
    "creditCode": ("credit_code",),
    "address": ("address",),
    "description": ("description",),
    "enterpriseScale": ("enterprise_scale",),
    "creditProfile": ("credit_profile",),
    "engagedParty": ("organization_id",),
    "accountManager": ("account_manager", "account_manager_name"),
}
_UUID_COLUMNS = frozenset({"organization_id", "parent_customer_id"})


def _contact_event(row: Contact) -> Message:
    return customer_pb2.ContactChanged(contact=contact_service.contact_state(row))


# the records attached to a customer that move to the survivor: table, aggregate type, event
MOVABLE: dict[str, tuple[Any, Callable[[Any], Message]]] = {
    "contact": (Contact, _contact_event),
    "competitor_presence": (CompetitorPresence, competitor_events.presence_changed),
    "contact_relation": (ContactRelation, decision_events.relation_changed),
    "needs_profile": (NeedsProfile, needs_events.profile_changed),
}


def _parse(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"{field}: {value!r} is not a valid id", field=field) from None


def _plain(value: Any) -> Any:
    """A column value as the undo record (JSON) holds it."""
    return str(value) if isinstance(value, uuid.UUID) else value


def _column(attr: str, value: Any) -> Any:
    return uuid.UUID(value) if attr in _UUID_COLUMNS and value is not None else value


def moved_counts(m: CustomerMerge) -> dict[str, int]:
    return {kind: len(ids) for kind, ids in (m.undo or {}).get("moved", {}).items() if ids}


async def _customer_changed(
    session: AsyncSession, c: Customer, before: dict[str, Any], *, actor: str, action: str, note: str
) -> None:
    changes = diff(before, snapshot(c))
    if not changes:
        return
    await customer_events.record_change(
        session,
        c,
        aggregate_type="customer",
        event=lambda row: customer_events.customer_changed(
            customer_events.customer_state(row), created=False, changes=changes
        ),
        actor=actor,
        action=action,
        changes=changes,
        note=note,
    )


async def _moved(
    session: AsyncSession,
    kind: str,
    row: Any,
    *,
    actor: str,
    action: str,
    note: str,
    old: Any,
    extra: dict[str, list[Any]] | None = None,
) -> None:
    _, event = MOVABLE[kind]
    await customer_events.record_change(
        session,
        row,
        aggregate_type=kind,
        event=event,
        actor=actor,
        action=action,
        changes={"customerId": [str(old), str(row.customer_id)], **(extra or {})},
        note=note,
    )


async def _lock_merge_set(
    session: AsyncSession, *, settings: Settings, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Customer]:
    """Every customer of the merge, visible to the caller (else 404) and owned here (else 409), locked."""
    for cid in ids:
        await attached.visible_customer(session, settings=settings, principal=principal, customer_id=cid)
    rows = {c.id: c for c in await MergeRepository.from_session(session).lock_customers(ids)}
    for cid in ids:
        if cid not in rows:
            raise NotFound(f"customer {cid} not found")
    owners = {str(c.id): c.owner_node for c in rows.values()}
    elsewhere = {cid: owner for cid, owner in owners.items() if owner != settings.node}
    if elsewhere and len(set(owners.values())) == 1:
        only = next(iter(elsewhere))
        raise NotOwner("customer", only, elsewhere[only])
    if elsewhere:
        raise Conflict(
            "customers owned by different nodes are merged by their owners: a common ancestor of them all "
            f"proposes the merge (POST /api/v1/customer/mergeProposals), here {settings.node} merges only its own",
            details={"ownerNodes": owners},
        )
    return rows


def parse_request(data: MergeCreate) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The survivor and victims a merge (or a merge proposal) names, checked: 422 for an id that is not
    one, a survivor among its victims, a victim twice, a choice of another attribute or customer."""
    survivor_id = _parse(data.survivor_id, "survivorId")
    victim_ids = [_parse(v, "victimIds") for v in data.victim_ids]
    if survivor_id in victim_ids:
        raise ValidationFailed("victimIds: the survivor cannot be its own victim", field="victimIds")
    if len(set(victim_ids)) != len(victim_ids):
        raise ValidationFailed("victimIds: a victim is named twice", field="victimIds")
    for key, chosen in data.choices.items():
        if key not in MERGEABLE:
            raise ValidationFailed(
                f"choices.{key}: not an attribute a merge chooses (one of {', '.join(MERGEABLE)})",
                field=f"choices.{key}",
            )
        if _parse(chosen, f"choices.{key}") not in {survivor_id, *victim_ids}:
            raise ValidationFailed(
                f"choices.{key}: {chosen} is neither the survivor nor a victim", field=f"choices.{key}"
            )
    return survivor_id, victim_ids


async def merge(session: AsyncSession, *, settings: Settings, principal: Principal, data: MergeCreate) -> CustomerMerge:
    principal.require(PERMISSION)
    survivor_id, victim_ids = parse_request(data)
    ids = [survivor_id, *victim_ids]
    rows = await _lock_merge_set(session, settings=settings, principal=principal, ids=ids)
    survivor, victims = rows[survivor_id], [rows[v] for v in victim_ids]
    actor, now = principal.username, datetime.now(UTC)
    merge_id = uuid7()
    note = f"merge {merge_id}"

    # attribute by attribute: the value chosen, else the survivor's, else the first victim's that has one
    choices = {key: str(uuid.UUID(chosen)) for key, chosen in data.choices.items()}
    for key, attrs in MERGEABLE.items():
        if key not in choices and getattr(survivor, attrs[0]) is None:
            donor = next((v for v in victims if getattr(v, attrs[0]) is not None), None)
            if donor is not None:
                choices[key] = str(donor.id)
    before = snapshot(survivor)
    manager_before = survivor.account_manager
    survivor_undo: dict[str, list[Any]] = {}
    for key, cid in choices.items():
        source = rows[uuid.UUID(cid)]
        for attr in MERGEABLE[key]:
            old, new = getattr(survivor, attr), getattr(source, attr)
            if old != new:
                survivor_undo[attr] = [_plain(old), _plain(new)]
                setattr(survivor, attr, new)

    repo = MergeRepository.from_session(session)
    moved: dict[str, dict[str, str]] = {kind: {} for kind in (*MOVABLE, "children")}
    needs_filled: dict[str, dict[str, Any]] = {}
    own_profile = (await repo.lock_of_customers(NeedsProfile, [survivor_id])) or None
    profile = own_profile[0] if own_profile else None
    # one primary contact per customer: the survivor's own stays primary; where it has none, the first
    # moved primary (victims in the order named) becomes its primary and the other moved ones lose the flag
    has_primary = any(c.is_primary for c in await repo.lock_of_customers(Contact, [survivor_id]))
    unprimaried: list[str] = []
    for kind, (model, _) in MOVABLE.items():
        rows_of = await repo.lock_of_customers(model, victim_ids)
        if kind == "contact":
            order = {v: i for i, v in enumerate(victim_ids)}
            rows_of = sorted(rows_of, key=lambda r: (order[r.customer_id], str(r.id)))
        for row in rows_of:
            if kind == "needs_profile" and profile is not None:
                # one profile per customer: the survivor's keeps its answers and takes the victim's where
                # it has none; the victim's stays with the victim (its history readable there)
                filled = {
                    col: getattr(row, col)
                    for col in NEEDS_FIELDS.values()
                    if getattr(profile, col) is None and getattr(row, col) is not None
                }
                if filled:
                    p_before = needs_snapshot(profile)
                    for col, value in filled.items():
                        setattr(profile, col, value)
                    needs_filled.setdefault(str(profile.id), {}).update(filled)
                    await customer_events.record_change(
                        session,
                        profile,
                        aggregate_type=kind,
                        event=needs_events.profile_changed,
                        actor=actor,
                        action="merge",
                        changes=diff(p_before, needs_snapshot(profile)),
                        note=note,
                    )
                continue
            old = row.customer_id
            moved[kind][str(row.id)] = str(old)
            row.customer_id = survivor_id
            extra: dict[str, list[Any]] = {}
            if kind == "contact" and row.is_primary:
                if has_primary:
                    row.is_primary = False
                    unprimaried.append(str(row.id))
                    extra["isPrimary"] = [True, False]
                has_primary = True
            await _moved(session, kind, row, actor=actor, action="merge", note=note, old=old, extra=extra)
            if kind == "needs_profile":
                profile = row
    # branches of a victim hang off the survivor now (those this node owns; others keep pointing at the
    # victim, whose GET redirects); a survivor that was a victim's branch takes that victim's parent
    for child in await repo.lock_children(victim_ids, settings.node, exclude=ids):
        c_before = snapshot(child)
        moved["children"][str(child.id)] = str(child.parent_customer_id)
        child.parent_customer_id = survivor_id
        await _customer_changed(session, child, c_before, actor=actor, action="merge", note=note)
    if survivor.parent_customer_id in rows:
        parent = rows[survivor.parent_customer_id].parent_customer_id
        new_parent = parent if parent not in rows else None
        survivor_undo["parent_customer_id"] = [_plain(survivor.parent_customer_id), _plain(new_parent)]
        survivor.parent_customer_id = new_parent
    await _customer_changed(session, survivor, before, actor=actor, action="merge", note=note)
    if survivor.account_manager != manager_before:
        await customer_service.record_assignment(session, survivor, manager_before, actor, note)
    for v in victims:
        v.deleted_at = now
        await customer_events.record_change(
            session,
            v,
            at=now,
            aggregate_type="customer",
            event=lambda row: customer_pb2.CustomerDeleted(
                id=str(row.id), owner_node=row.owner_node, version=row.version, customer_code=row.customer_code
            ),
            actor=actor,
            action="merge",
            changes={"deleted": [False, True], "mergedInto": [None, str(survivor_id)]},
            note=note,
        )
    await repo.mark_pairs(ids, "MERGED", reviewer=actor, only="OPEN")

    m = CustomerMerge(
        id=merge_id,
        owner_node=settings.node,
        version=1,
        survivor_id=survivor_id,
        victim_ids=victim_ids,
        status=MERGED,
        choices=choices,
        undo={"survivor": survivor_undo, "moved": moved, "needsFilled": needs_filled, "unprimaried": unprimaried},
        merged_by=actor,
        reversible_until=now + REVERSIBLE_FOR,
        created_at=now,
        updated_at=now,
    )
    session.add(m)
    await customer_events.record_change(
        session,
        m,
        created=True,
        aggregate_type=AGGREGATE,
        event=events.merge_changed,
        actor=actor,
        action="merge",
        changes={"survivor": [None, str(survivor_id)], "victims": [None, [str(v) for v in victim_ids]]},
        note=data.reason,
    )
    return m


def needs_snapshot(p: NeedsProfile) -> dict[str, Any]:
    return {api: getattr(p, col) for api, col in NEEDS_FIELDS.items()}


async def reverse(
    session: AsyncSession, *, settings: Settings, principal: Principal, merge_id: uuid.UUID, reason: str | None
) -> CustomerMerge:
    """Undo a merge within its window, at its owner: the victims live again and take back what moved;
    the survivor's attributes go back where they still hold the merged value (a later edit is kept)."""
    principal.require(PERMISSION)
    await get(session, settings=settings, principal=principal, merge_id=merge_id)
    repo = MergeRepository.from_session(session)
    m = await repo.for_update(merge_id)
    if m is None:
        raise NotFound(f"merge {merge_id} not found")
    if m.owner_node != settings.node:
        raise NotOwner(AGGREGATE, str(m.id), m.owner_node)
    if m.status != MERGED:
        raise InvalidTransition(
            f"merge {m.id} is {m.status}", details={"field": "status", "from": m.status, "to": REVERSED, "allowed": []}
        )
    now = datetime.now(UTC)
    if now > m.reversible_until:
        raise Conflict(
            f"merge {m.id} could be reversed until {m.reversible_until.isoformat()}",
            details={"reversibleUntil": m.reversible_until.isoformat()},
        )
    ids = [m.survivor_id, *m.victim_ids]
    rows = {c.id: c for c in await repo.lock_customers(ids, live=False)}
    survivor = rows.get(m.survivor_id)
    if survivor is None or survivor.deleted_at is not None:
        later = await repo.survivor_of(m.survivor_id)
        raise Conflict(
            f"the survivor {m.survivor_id} is no longer live"
            + (f" (merged into {later}): reverse that first" if later else ""),
            details={"mergedInto": str(later)} if later else None,
        )
    if survivor.owner_node != settings.node:  # transferred since: its records are written elsewhere
        raise NotOwner("customer", str(survivor.id), survivor.owner_node)
    actor, note = principal.username, f"reverse merge {m.id}"
    for v in (rows[i] for i in m.victim_ids if i in rows):
        v_before = snapshot(v)
        v.deleted_at = None
        await customer_events.record_change(
            session,
            v,
            at=now,
            aggregate_type="customer",
            event=lambda row: customer_events.customer_changed(
                customer_events.customer_state(row), created=False, changes=("deleted",)
            ),
            actor=actor,
            action="unmerge",
            changes={**diff(v_before, snapshot(v)), "deleted": [True, False]},
            note=note,
        )
    undo = m.undo or {}
    unprimaried = set(undo.get("unprimaried", []))
    for kind, back in undo.get("moved", {}).items():
        if not back:
            continue
        model = Customer if kind == "children" else MOVABLE[kind][0]
        for row in await repo.lock_rows(model, [uuid.UUID(i) for i in back]):
            victim = uuid.UUID(back[str(row.id)])
            if kind == "children":
                if row.parent_customer_id == m.survivor_id and row.owner_node == settings.node:
                    c_before = snapshot(row)
                    row.parent_customer_id = victim
                    await _customer_changed(session, row, c_before, actor=actor, action="unmerge", note=note)
            elif row.customer_id == m.survivor_id:
                row.customer_id = victim
                extra: dict[str, list[Any]] = {}
                if kind == "contact" and str(row.id) in unprimaried and not row.is_primary:
                    row.is_primary = True  # primary again on its own customer
                    extra["isPrimary"] = [False, True]
                await _moved(
                    session, kind, row, actor=actor, action="unmerge", note=note, old=m.survivor_id, extra=extra
                )
    for profile_id, filled in undo.get("needsFilled", {}).items():
        for p in await repo.lock_rows(NeedsProfile, [uuid.UUID(profile_id)]):
            p_before = needs_snapshot(p)
            for col, value in filled.items():
                if getattr(p, col) == value:
                    setattr(p, col, None)
            changes = diff(p_before, needs_snapshot(p))
            if changes:
                await customer_events.record_change(
                    session,
                    p,
                    aggregate_type="needs_profile",
                    event=needs_events.profile_changed,
                    actor=actor,
                    action="unmerge",
                    changes=changes,
                    note=note,
                )
    before, manager_before = snapshot(survivor), survivor.account_manager
    for attr, (old, new) in undo.get("survivor", {}).items():
        if _plain(getattr(survivor, attr)) == new:  # not edited since the merge
            setattr(survivor, attr, _column(attr, old))
    await _customer_changed(session, survivor, before, actor=actor, action="unmerge", note=note)
    if survivor.account_manager != manager_before:
        await customer_service.record_assignment(session, survivor, manager_before, actor, note)
    await repo.mark_pairs(ids, "OPEN", reviewer=actor, only="MERGED")
    m.status = REVERSED
    await customer_events.record_change(
        session,
        m,
        aggregate_type=AGGREGATE,
        event=events.merge_changed,
        actor=actor,
        action="reverse",
        changes={"status": [MERGED, REVERSED]},
        note=reason,
    )
    return m


async def get(session: AsyncSession, *, settings: Settings, principal: Principal, merge_id: uuid.UUID) -> CustomerMerge:
    m: CustomerMerge | None = await MergeRepository.from_session(session).get_visible(
        merge_id, principal, settings.topology
    )
    if m is None:
        raise NotFound(f"merge {merge_id} not found")
    return m


async def list_merges(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[CustomerMerge], int]:
    return await MergeRepository.from_session(session).page(principal, settings.topology, lq)


async def redirect(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> uuid.UUID | None:
    """The survivor a merged-away customer now lives in, when the caller may see it (the customer GET
    then answers 308 to it); None otherwise."""
    survivor = await MergeRepository.from_session(session).survivor_of(customer_id)
    if survivor is None:
        return None
    found = await CustomerRepository.from_session(session).get_visible(survivor, principal, settings.topology)
    return found.id if found is not None else None


async def designation_of(session: AsyncSession, customer_id: uuid.UUID) -> Designation | None:
    """The customer's national key-account designation, or — for a survivor — one of a customer merged
    into it: the group's directive names the victim's id and is the group's to rewrite, so the survivor
    shows it through the merge."""
    found = await designation_service.for_customer(session, customer_id)
    if found is not None:
        return found
    for victim in await MergeRepository.from_session(session).merged_into(customer_id):
        found = await designation_service.for_customer(session, victim)
        if found is not None:
            return found
    return None
