"""Customer rules (F1): create, merge-patch update with the status state machines, hierarchy
without cycles, account-manager assignment with history, owner-only writes, audit and events.
Services never commit; the request scope does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_customer.merge.repository import MergeRepository
from kam_customer.models import AccountManagerAssignment, Audit, Customer, Organization
from kam_customer.organization.repository import OrganizationRepository
from kam_customer.organization.schemas import PARTY_REFERENCE, UNVERIFIED
from kam_customer.replication import attached as f1_records
from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.db.together import flush_new
from kam_platform.errors import Conflict, InvalidTransition, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.outbox import ts
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_platform.topology import Topology

from . import events, rules
from .repository import CustomerRepository
from .schemas import (
    IMMUTABLE,
    NOT_NULLABLE,
    AccountManagerAssign,
    CreditProfileIn,
    CustomerCreate,
    CustomerUpdate,
    merge_stored,
)
from .views import snapshot

# the unique index of live customer codes (kam_customer.models.Customer)
LIVE_CODE_INDEX = "uq_customer_customer_code_live"


def _parse_id(value: str | None, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(f"{field}: {value!r} is not a valid id", field=field) from None


def _account_manager(parties: Sequence[Any] | None) -> tuple[str | None, str | None] | None:
    """(id, name) of the relatedParty with role accountManager; None when relatedParty is absent."""
    if parties is None:
        return None
    managers = [p for p in parties if p.role == "accountManager"]
    if len(managers) > 1:
        raise ValidationFailed("relatedParty: at most one party with role 'accountManager'", field="relatedParty")
    # a party in any other role is kept as given (CustomerFields.stored)
    return (managers[0].id, managers[0].name) if managers else (None, None)


def _credit_profile(items: list[CreditProfileIn] | None) -> dict[str, Any] | None:
    if not items:
        return None
    cp = items[0].model_dump(by_alias=True, exclude_none=True, exclude={"type_"}, mode="json")
    return cp


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> Customer:
    c = await CustomerRepository.from_session(session).get_visible(customer_id, principal, settings.topology)
    if c is None:
        raise NotFound(f"customer {customer_id} not found")
    return c


async def list_customers(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[Customer], int]:
    return await CustomerRepository.from_session(session).page(principal, settings.topology, lq)


async def _lock_owned(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> Customer:
    # Lock first, then judge: scope and ownership are checked on the row as committed after any
    # concurrent writer (a transfer among them) has finished, so a loser sees the new owner.
    c = await CustomerRepository.from_session(session).get_for_update(customer_id)
    topology = settings.topology
    if c is not None and not topology.is_in_subtree(c.owner_node, principal.scope_node):
        if not topology.is_in_subtree(c.owner_node, settings.node):
            # held here but owned outside this node's subtree: transferred away (to a sibling or up to
            # an ancestor). 409, the writer is elsewhere, without naming a node outside the scope.
            raise Conflict(f"customer {customer_id} is not owned by {settings.node}: it is written only at its owner")
        c = None  # a descendant's record outside a narrowed scope: as if absent
    if c is not None and not principal.sees_portfolio_of(c.account_manager):
        c = None  # outside the caller's portfolio: as if absent
    if c is None:
        raise NotFound(f"customer {customer_id} not found")
    if c.owner_node != settings.node:
        raise NotOwner("customer", str(customer_id), c.owner_node)
    return c


def _may_refer_to(topology: Topology, principal: Principal, owner_node: str) -> bool:
    """A record may be referred to (as parent, as legal entity) when it lies in the caller's scope or
    is an ancestor's (a province's or the group's headquarters record). Anything else is "not found",
    like any id the caller may not see: naming it or its owner would tell a narrowed token what lies
    outside its scope."""
    return topology.is_in_subtree(owner_node, principal.scope_node) or owner_node in topology.ancestors(
        principal.scope_node
    )


async def _check_parent(
    repo: CustomerRepository,
    child_id: uuid.UUID | None,
    parent_id: uuid.UUID,
    *,
    settings: Settings,
    principal: Principal,
) -> None:
    parent = await repo.get(parent_id)
    if parent is not None and not _may_refer_to(settings.topology, principal, parent.owner_node):
        parent = None
    if parent is None:
        raise ValidationFailed(f"parentCustomer.id: customer {parent_id} not found", field="parentCustomer.id")
    problem = rules.parent_type_problem(parent.name, parent.customer_type)
    if problem:
        raise ValidationFailed(f"parentCustomer.id: {problem}", field="parentCustomer.id")
    if child_id is not None and rules.creates_cycle(child_id, parent_id, await repo.ancestors(parent_id)):
        raise Conflict(f"parentCustomer.id: {rules.cycle_problem(parent.name)}")


async def _resolve_organization(
    session: AsyncSession,
    *,
    node: str,
    data: CustomerCreate | CustomerUpdate,
    name: str,
    now: datetime,
    actor: str,
    settings: Settings,
    principal: Principal,
) -> uuid.UUID:
    from kam_customer.organization.service import organization_state

    ref = data.engaged_party
    external: list[dict[str, str]] = []
    if ref is not None and ref.id:
        # an organization this caller may refer to; any other id is a party this node does not know
        # (created elsewhere, or not yet): it becomes an unverified organization (待核实) that keeps the
        # id as an external reference, and the next customer naming that id finds it (docs/api-conventions.md)
        try:
            known: Organization | None = await session.get(Organization, uuid.UUID(ref.id))
        except ValueError:
            known = None
        if (
            known is not None
            and known.deleted_at is None
            and _may_refer_to(settings.topology, principal, known.owner_node)
        ):
            return known.id
        known = await OrganizationRepository.from_session(session).by_party_reference(node, ref.id)
        if known is not None:
            return known.id
        external = [{"externalReferenceType": PARTY_REFERENCE, "name": ref.id}]
    org_name = ref.name if ref and ref.name else name
    org = Organization(
        id=uuid7(),  # known before the row is written: it goes in with the customer's (one flush, not two)
        owner_node=node,
        name=org_name,
        trading_name=org_name,  # TMF632's one mandatory attribute: the name is all we know
        credit_code=data.credit_code,
        industry=getattr(data, "industry", None),
        organization_type="legalEntity",
        status=UNVERIFIED if external else "validated",
        tmf_attributes={"externalReference": external} if external else {},
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(org)
    await events.emit(
        session,
        node=node,
        aggregate_type="organization",
        aggregate_id=org.id,
        version=1,
        actor=actor,
        message=customer_pb2.OrganizationChanged(organization=organization_state(org)),
    )
    return org.id


async def _record_assignment(
    session: AsyncSession,
    repo: CustomerRepository,
    c: Customer,
    previous: str | None,
    actor: str,
    reason: str | None,
    now: datetime,
    *,
    first: bool = False,
) -> None:
    if not first:  # a customer being created has no open assignment to close
        await repo.close_open_assignment(c.id, now)
    row = AccountManagerAssignment(
        id=uuid7(),
        owner_node=c.owner_node,
        customer_id=c.id,
        account_manager=c.account_manager,
        account_manager_name=c.account_manager_name,
        previous_account_manager=previous,
        assigned_by=actor,
        valid_from=now,
        reason=reason,
    )
    session.add(row)
    if not first:
        await session.flush()
    # a first assignment is written by the create's one statement, with the customer; a change is written
    # now, after the UPDATE that closed the open one
    await events.emit(
        session,
        node=c.owner_node,
        aggregate_type="assignment",
        aggregate_id=row.id,
        version=1,
        actor=actor,
        message=events.account_manager_assigned(
            assignment_id=row.id,
            owner_node=c.owner_node,
            customer_id=c.id,
            account_manager=c.account_manager,
            previous=previous,
            assigned_by=actor,
            valid_from=ts(now),
            reason=reason,
        ),
    )


async def record_assignment(
    session: AsyncSession, c: Customer, previous: str | None, actor: str, reason: str | None
) -> None:
    """An account-manager change another domain made (a merge): the open assignment closes, the new one
    is recorded and replicated."""
    repo = CustomerRepository.from_session(session)
    await _record_assignment(session, repo, c, previous, actor, reason, datetime.now(UTC))


async def create(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    data: CustomerCreate,
    action: str = "create",
) -> Customer:
    repo = CustomerRepository.from_session(session)
    node = settings.node
    now = datetime.now(UTC)
    if data.customer_code is not None:
        problem = rules.code_namespace_problem(settings.topology, node, data.customer_code)
        if problem:
            raise ValidationFailed(f"customerCode: {problem}", field="customerCode")
    # a code in use is answered by the unique index when the row is written (below), not by a look-up
    # first: one round trip less per create, and two concurrent creates of one code get 409, not 500
    code = data.customer_code or await repo.next_code(node)
    parent_id = None
    if data.parent_customer is not None:
        parent_id = _parse_id(data.parent_customer.id, "parentCustomer.id")
        await _check_parent(repo, None, parent_id, settings=settings, principal=principal)
    manager = _account_manager(data.related_party) or (None, None)
    org_id = await _resolve_organization(
        session,
        node=node,
        data=data,
        name=data.name,
        now=now,
        actor=principal.username,
        settings=settings,
        principal=principal,
    )
    c = Customer(
        id=uuid7(),
        owner_node=node,
        version=1,
        customer_code=code,
        name=data.name,
        short_name=data.short_name,
        customer_type=data.customer_type.value,
        nature=data.nature.value if data.nature else None,
        mgmt_level=data.mgmt_level.value,
        industry=data.industry.value,
        value_type=data.value_type.value if data.value_type else None,
        grade=data.grade.value,
        life_status=data.status.value,
        recog_status=data.recognition_status.value,
        status_reason=data.status_reason,
        credit_code=data.credit_code,
        parent_customer_id=parent_id,
        organization_id=org_id,
        account_manager=manager[0],
        account_manager_name=manager[1],
        enterprise_scale=data.enterprise_scale,
        address=data.address,
        description=data.description,
        credit_profile=_credit_profile(data.credit_profile),
        tmf_attributes=merge_stored(None, data.stored()),
        created_at=now,
        updated_at=now,
    )
    session.add(c)
    if c.account_manager:
        await _record_assignment(session, repo, c, None, principal.username, "initial assignment", now, first=True)
    # every column of the new rows is set here, so their events and the audit record are built before
    # the write, and one statement writes the organization, customer, assignment and audit rows
    # together (kam_platform.db.together; the outbox rows follow at the commit)
    await events.record_created(
        session,
        c,
        aggregate_type="customer",
        event=lambda row: events.customer_changed(events.customer_state(row), created=True, changes=()),
        actor=principal.username,
        action=action,
        changes=diff({}, snapshot(c)),
    )
    try:
        await flush_new(session)
    except IntegrityError as exc:
        # the transaction is aborted: the request's session rolls back everything written so far
        if LIVE_CODE_INDEX in str(exc.orig):
            raise Conflict(f"customerCode {code!r} already exists") from None
        raise
    return c


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    customer_id: uuid.UUID,
    patch: CustomerUpdate,
    present: set[str],
    action: str = "update",
) -> Customer:
    nulls = sorted(k for k in present & NOT_NULLABLE if getattr(patch, _attr(k)) is None)
    if nulls:
        raise ValidationFailed(f"{nulls[0]} is mandatory and cannot be removed (null)", field=nulls[0])
    c = await _lock_owned(session, settings=settings, principal=principal, customer_id=customer_id)
    for key in present & IMMUTABLE:
        if patch.customer_code != c.customer_code:
            raise ValidationFailed(f"{key} cannot be changed once assigned", field=key)
    repo = CustomerRepository.from_session(session)
    now = datetime.now(UTC)
    before = snapshot(c)
    status_from = c.life_status

    life = (c.life_status, patch.status.value) if "status" in present and patch.status else None
    rs = patch.recognition_status
    recog = (c.recog_status, rs.value) if "recognitionStatus" in present and rs else None
    refused = rules.transition_refused(life, recog)
    if refused is not None:
        raise InvalidTransition(
            refused.message,
            details={
                "field": refused.field,
                "from": refused.current,
                "to": refused.requested,
                "allowed": refused.allowed,
            },
        )
    if life is not None:
        c.life_status = life[1]
    if recog is not None:
        c.recog_status = recog[1]

    simple = {
        "name": "name",
        "shortName": "short_name",
        "nature": "nature",
        "mgmtLevel": "mgmt_level",
        "industry": "industry",
        "valueType": "value_type",
        "grade": "grade",
        "statusReason": "status_reason",
        "creditCode": "credit_code",
        "enterpriseScale": "enterprise_scale",
        "address": "address",
        "description": "description",
        "customerType": "customer_type",
    }
    for key, attr in simple.items():
        if key in present:
            value = getattr(patch, attr)
            setattr(c, attr, value.value if hasattr(value, "value") else value)
    if (
        "customerType" in present
        and rules.leaves_group(before["customerType"], c.customer_type)
        and await repo.has_live_children(c.id)
    ):
        raise Conflict(f"customerType: {rules.BRANCHES_STAY_GROUP}")
    if "creditProfile" in present:
        c.credit_profile = _credit_profile(patch.credit_profile)
    if "parentCustomer" in present:
        if patch.parent_customer is None or patch.parent_customer.id is None:
            c.parent_customer_id = None
        else:
            parent_id = _parse_id(patch.parent_customer.id, "parentCustomer.id")
            if parent_id != c.parent_customer_id:
                await _check_parent(repo, c.id, parent_id, settings=settings, principal=principal)
            c.parent_customer_id = parent_id
    if "engagedParty" in present:
        if patch.engaged_party is None:
            raise ValidationFailed("engagedParty is mandatory and cannot be removed (null)", field="engagedParty")
        c.organization_id = await _resolve_organization(
            session,
            node=c.owner_node,
            data=patch,
            name=c.name,
            now=now,
            actor=principal.username,
            settings=settings,
            principal=principal,
        )
    previous_manager = c.account_manager
    if "relatedParty" in present:
        manager = _account_manager(patch.related_party or []) or (None, None)
        c.account_manager, c.account_manager_name = manager

    kept = patch.stored()
    if kept:
        c.tmf_attributes = merge_stored(c.tmf_attributes, kept)
    changes = diff(before, snapshot(c))
    if not changes:
        return c

    await events.record_change(
        session,
        c,
        at=now,
        aggregate_type="customer",
        event=lambda row: events.customer_changed(
            events.customer_state(row), created=False, changes=changes, status_from=status_from
        ),
        actor=principal.username,
        action="status" if set(changes) <= {"status", "statusReason"} else action,
        changes=changes,
    )
    if "accountManager" in changes:
        await _record_assignment(session, repo, c, previous_manager, principal.username, None, now)
    return c


def _attr(api_key: str) -> str:
    return {
        "name": "name",
        "customerType": "customer_type",
        "mgmtLevel": "mgmt_level",
        "industry": "industry",
        "grade": "grade",
        "status": "status",
        "recognitionStatus": "recognition_status",
    }[api_key]


async def assign_account_manager(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    customer_id: uuid.UUID,
    data: AccountManagerAssign,
) -> Customer:
    c = await _lock_owned(session, settings=settings, principal=principal, customer_id=customer_id)
    if c.account_manager == data.account_manager:
        return c
    repo = CustomerRepository.from_session(session)
    now = datetime.now(UTC)
    before = snapshot(c)
    previous = c.account_manager
    c.account_manager, c.account_manager_name = data.account_manager, data.account_manager_name
    await events.record_change(
        session,
        c,
        at=now,
        aggregate_type="customer",
        event=lambda row: customer_pb2.CustomerUpdated(
            customer=events.customer_state(row), changed_fields=["accountManager"]
        ),
        actor=principal.username,
        action="assign",
        changes=diff(before, snapshot(c)),
        note=data.reason,
    )
    await _record_assignment(session, repo, c, previous, principal.username, data.reason, now)
    return c


async def delete(session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID) -> None:
    c = await _lock_owned(session, settings=settings, principal=principal, customer_id=customer_id)
    repo = CustomerRepository.from_session(session)
    if await repo.has_live_children(c.id):
        raise Conflict(f"customer {c.customer_code} still has branches; move or delete them first")
    now = datetime.now(UTC)
    c.deleted_at = now
    await events.record_change(
        session,
        c,
        at=now,
        aggregate_type="customer",
        event=lambda row: customer_pb2.CustomerDeleted(
            id=str(row.id), owner_node=row.owner_node, version=row.version, customer_code=row.customer_code
        ),
        actor=principal.username,
        action="delete",
        changes={"deleted": [False, True]},
    )


async def history(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    customer_id: uuid.UUID,
    offset: int,
    limit: int,
) -> tuple[Sequence[Audit], int]:
    await get_visible(session, settings=settings, principal=principal, customer_id=customer_id)
    # a survivor's history holds its merged-away customers' too (F1 merge: audit rows are never rewritten)
    merged = await MergeRepository.from_session(session).merged_into(customer_id)
    return await CustomerRepository.from_session(session).history([customer_id, *merged], offset, limit)


async def assignments(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> Sequence[AccountManagerAssignment]:
    await get_visible(session, settings=settings, principal=principal, customer_id=customer_id)
    merged = await MergeRepository.from_session(session).merged_into(customer_id)
    return await CustomerRepository.from_session(session).assignments([customer_id, *merged])


async def hierarchy(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> tuple[Customer, list[Customer], Sequence[Customer]]:
    """The customer, its visible ancestors (nearest first) and its visible direct branches."""
    c = await get_visible(session, settings=settings, principal=principal, customer_id=customer_id)
    repo = CustomerRepository.from_session(session)
    ids = await repo.ancestors(c.id)
    found = await repo.get_many(ids)
    ancestors = [
        found[i]
        for i in ids
        if i in found
        and settings.topology.is_in_subtree(found[i].owner_node, principal.scope_node)
        and principal.sees_portfolio_of(found[i].account_manager)
    ]
    children = await repo.children(c.id, principal, settings.topology)
    return c, ancestors, children


async def transfer(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    customer_id: uuid.UUID,
    to_node: str,
    reason: str | None,
    across_provinces: bool = False,
) -> Customer:
    """Move ownership to another node: written by the current owner only, replicated so every node
    agrees on the new owner. From this commit on, the old owner refuses writes (409 naming the new
    owner); the new owner accepts them once it has applied the transfer.

    `across_provinces`: only for a merge victim handed to its survivor's owner in another province
    (an accepted merge proposal, kam_customer.merge_proposal): the lowest common ancestor relays the
    transfer down to the new owner, and the old province's replica is left behind — acceptable for a
    record about to be merged away, not for a customer that lives on."""
    from kam_customer.contact.repository import ContactRepository
    from kam_customer.contact.service import contact_state

    topology = settings.topology
    if to_node not in topology:
        raise ValidationFailed(f"toNode: unknown node {to_node!r}", field="toNode")
    # Concurrent transfers serialise on the row lock taken here; the first one commits the new owner,
    # and every later one then finds the record no longer ours and gets 409 naming that owner.
    c = await _lock_owned(session, settings=settings, principal=principal, customer_id=customer_id)
    if to_node == c.owner_node:
        raise ValidationFailed(f"toNode: customer is already owned by {to_node!r}", field="toNode")
    province = _province(topology, c.owner_node)
    if province is not None and _province(topology, to_node) != province and not across_provinces:
        # A customer stays in its province: the province supervises it and holds its history, and a
        # province keeps no feed of another's records, so its replica would go stale unseen.
        raise ValidationFailed(
            f"toNode: {to_node!r} is outside province {province!r}; a customer moves only within its province",
            field="toNode",
        )
    from_node = c.owner_node
    now = datetime.now(UTC)
    c.owner_node = to_node
    contacts = await ContactRepository.from_session(session).lock_of_customer(c.id)
    for contact in contacts:
        contact.owner_node = to_node
        contact.version += 1
        contact.updated_at = now
    # F1: the needs profile, competitor presence and decision map follow the customer, as its contacts do
    attached_records = await f1_records.transfer(session, c.id, to_node, now)
    await events.record_change(
        session,
        c,
        at=now,
        node=from_node,  # the old owner writes the transfer; replicas learn the new owner from it
        aggregate_type="customer",
        event=lambda row: customer_pb2.CustomerOwnershipTransferred(
            customer=events.customer_state(row),
            from_node=from_node,
            to_node=to_node,
            contacts=[contact_state(x) for x in contacts],
            reason=reason or "",
            **attached_records,
        ),
        actor=principal.username,
        action="transfer",
        changes={"ownerNode": [from_node, to_node]},
        note=reason,
    )
    return c


def _province(topology: Topology, node: str) -> str | None:
    """The province a node belongs to (itself for a province); None for the group."""
    chain = [node, *topology.ancestors(node)]
    return chain[-2] if len(chain) >= 2 else None
