"""全国大客户名录下发: the group designates national key accounts as its own versioned directive
records; they flow down to every node; a province acknowledges or disputes each designation, a local
network assigns its account manager; those answers flow back up so the group sees where each stands."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from kam_customer.customer import events
from kam_customer.customer.repository import CustomerRepository
from kam_customer.customer.rules import Grade
from kam_customer.customer.schemas import ApiModel
from kam_customer.models import Designation, DesignationResponse
from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, Forbidden, NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings

from .events import DESIGNATIONS, RESPONSES, change_of
from .repository import DesignationRepository

RESPONSE_NAMESPACE = uuid.UUID("6f1d6c1e-5b0a-4c59-9a43-7d1f3e0a2b11")
ACTIVE_INDEX = "uq_designation_customer_id_active"  # migration 0005: one ACTIVE designation per customer


class DesignationCreate(ApiModel):
    customer_id: Annotated[str, Field(alias="customerId")]
    grade: Grade
    group_account_manager: Annotated[str | None, Field(alias="groupAccountManager", max_length=64)] = None
    group_account_manager_name: Annotated[str | None, Field(alias="groupAccountManagerName", max_length=100)] = None
    service_level: Annotated[str | None, Field(alias="serviceLevel", max_length=32)] = None
    note: Annotated[str | None, Field(max_length=500)] = None


class DesignationUpdate(ApiModel):
    grade: Grade | None = None
    group_account_manager: Annotated[str | None, Field(alias="groupAccountManager", max_length=64)] = None
    group_account_manager_name: Annotated[str | None, Field(alias="groupAccountManagerName", max_length=100)] = None
    service_level: Annotated[str | None, Field(alias="serviceLevel", max_length=32)] = None
    status: Literal["ACTIVE", "WITHDRAWN"] | None = None
    note: Annotated[str | None, Field(max_length=500)] = None


class ResponseCreate(ApiModel):
    status: Literal["ACKNOWLEDGED", "DISPUTED", "ASSIGNED"]
    reason: Annotated[str | None, Field(max_length=500)] = None
    account_manager: Annotated[str | None, Field(alias="accountManager", max_length=64)] = None
    account_manager_name: Annotated[str | None, Field(alias="accountManagerName", max_length=100)] = None


def _snapshot(d: Designation) -> dict[str, object]:
    return {
        "grade": d.grade,
        "groupAccountManager": d.group_account_manager,
        "serviceLevel": d.service_level,
        "status": d.status,
        "note": d.note,
    }


async def designate(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: DesignationCreate
) -> Designation:
    if not settings.this_node.can_author_reference_data:
        raise Conflict(
            f"national key accounts are designated by the group node {settings.topology.root.code!r}, "
            f"not at {settings.node!r}"
        )
    try:
        customer_id = uuid.UUID(data.customer_id)
    except ValueError:
        raise ValidationFailed(f"customerId: {data.customer_id!r} is not a valid id", field="customerId") from None
    customer = await CustomerRepository.from_session(session).get_visible(customer_id, principal, settings.topology)
    if customer is None:
        raise ValidationFailed(f"customerId: customer {customer_id} not found", field="customerId")
    existing = await for_customer(session, customer_id)
    if existing is not None:
        raise Conflict(f"customer {customer.customer_code} is already designated ({existing.id})")
    now = datetime.now(UTC)
    d = Designation(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        customer_id=customer_id,
        customer_code=customer.customer_code,
        customer_name=customer.name,
        customer_owner_node=customer.owner_node,
        grade=data.grade.value,
        group_account_manager=data.group_account_manager,
        group_account_manager_name=data.group_account_manager_name,
        service_level=data.service_level,
        status="ACTIVE",
        note=data.note,
        designated_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    try:
        # the savepoint keeps the transaction usable to name the designation that won a concurrent race
        async with session.begin_nested():
            session.add(d)
            await session.flush()
    except IntegrityError as exc:
        if ACTIVE_INDEX not in str(exc.orig):
            raise
        winner = await for_customer(session, customer_id)
        raise Conflict(
            f"customer {customer.customer_code} is already designated ({winner.id if winner else 'concurrently'})"
        ) from None
    await events.record_change(
        session,
        d,
        created=True,
        actor=principal.username,
        action="create",
        changes=diff({}, _snapshot(d)),
        **change_of(DESIGNATIONS, settings),
    )
    await events.audit(
        session,
        node=settings.node,
        entity_type="customer",
        entity_id=customer_id,
        action="designate",
        actor=principal.username,
        changes={"nationalKeyAccount": [None, data.grade.value]},
    )
    return d


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    designation_id: uuid.UUID,
    patch: DesignationUpdate,
    present: set[str],
) -> Designation:
    d = await get_visible(session, settings=settings, principal=principal, designation_id=designation_id, lock=True)
    if d.owner_node != settings.node:
        raise NotOwner("designation", str(designation_id), d.owner_node)
    before = _snapshot(d)
    for key, attr in {
        "grade": "grade",
        "groupAccountManager": "group_account_manager",
        "groupAccountManagerName": "group_account_manager_name",
        "serviceLevel": "service_level",
        "status": "status",
        "note": "note",
    }.items():
        if key in present:
            value = getattr(patch, attr)
            if value is None and key in ("grade", "status"):
                raise ValidationFailed(f"{key} cannot be removed (null)", field=key)
            setattr(d, attr, value.value if hasattr(value, "value") else value)
    changes = diff(before, _snapshot(d))
    if changes:
        # the new version also records the customer's current owner, so the group's row and the
        # replicas it reaches say the same thing
        flag_modified(d, "customer_owner_node")
        await events.record_change(
            session, d, actor=principal.username, action="update", changes=changes, **change_of(DESIGNATIONS, settings)
        )
    return d


async def get_visible(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    designation_id: uuid.UUID,
    lock: bool = False,
) -> Designation:
    d = await DesignationRepository.from_session(session).get_visible(
        designation_id, principal, settings.topology, lock=lock
    )
    if d is None:
        raise NotFound(f"designation {designation_id} not found")
    return d


async def list_designations(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    offset: int,
    limit: int,
    status: str | None = None,
) -> tuple[Sequence[Designation], int]:
    return await DesignationRepository.from_session(session).page(
        principal, settings.topology, offset=offset, limit=limit, status=status
    )


async def responses_for(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[DesignationResponse]]:
    return await DesignationRepository.from_session(session).responses_for(ids)


async def for_customer(session: AsyncSession, customer_id: uuid.UUID) -> Designation | None:
    return await DesignationRepository.from_session(session).active_for_customer(customer_id)


async def respond(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    designation_id: uuid.UUID,
    data: ResponseCreate,
) -> DesignationResponse:
    # the designation's lock serialises this node's answers to it: concurrent first answers become one
    # insert and then updates, instead of racing to insert the same response id
    d = await get_visible(session, settings=settings, principal=principal, designation_id=designation_id, lock=True)
    me = settings.node
    if settings.this_node.parent is None:
        raise Conflict("the group designates; provinces and local networks respond")
    if not settings.topology.is_in_subtree(d.customer_owner_node, me):
        raise Forbidden(f"customer {d.customer_code} is not held in {me}'s subtree")
    supervising = bool(settings.topology.children(me))
    allowed = {"ACKNOWLEDGED", "DISPUTED"} if supervising else {"ASSIGNED"}
    if data.status not in allowed:
        raise ValidationFailed(f"status: at {me} a designation can be {' or '.join(sorted(allowed))}", field="status")
    if data.status == "DISPUTED" and not data.reason:
        raise ValidationFailed("reason is required to dispute a designation", field="reason")
    if data.status == "ASSIGNED" and not data.account_manager:
        raise ValidationFailed("accountManager is required to assign a designation", field="accountManager")
    rid = uuid.uuid5(RESPONSE_NAMESPACE, f"{d.id}:{me}")
    r = await DesignationRepository.from_session(session).response_for_update(rid)
    now = datetime.now(UTC)
    created = r is None
    if r is None:
        r = DesignationResponse(
            id=rid,
            owner_node=me,
            version=1,
            designation_id=d.id,
            status=data.status,
            reason=data.reason,
            account_manager=data.account_manager,
            account_manager_name=data.account_manager_name,
            responded_by=principal.username,
            created_at=now,
            updated_at=now,
        )
        session.add(r)
        before: dict[str, object] = {}
    else:
        before = {"status": r.status, "reason": r.reason, "accountManager": r.account_manager}
        r.status, r.reason = data.status, data.reason
        r.account_manager, r.account_manager_name = data.account_manager, data.account_manager_name
        r.responded_by = principal.username
    await events.record_change(
        session,
        r,
        created=created,
        at=now,
        actor=principal.username,
        action="respond",
        changes=diff(before, {"status": r.status, "reason": r.reason, "accountManager": r.account_manager}),
        **change_of(RESPONSES, settings),
    )
    return r
