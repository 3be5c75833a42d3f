"""Organization (legal entity) rules: owner-only writes, credit code validated, audited, evented."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2
from kam_customer.customer import events
from kam_customer.customer.schemas import merge_stored
from kam_customer.models import Organization
from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import NotFound, NotOwner, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery

from .repository import OrganizationRepository
from .schemas import OrganizationCreate, OrganizationUpdate


def snapshot(o: Organization) -> dict[str, Any]:
    return {
        "name": o.name,
        "tradingName": o.trading_name,
        "organizationType": o.organization_type,
        "creditCode": o.credit_code,
        "status": o.status,
        # the standard TMF attributes kept as given, each audited under its own name
        **dict(sorted((o.tmf_attributes or {}).items())),
    }


def organization_state(o: Organization) -> customer_pb2.OrganizationState:
    return customer_pb2.OrganizationState(
        id=str(o.id),
        owner_node=o.owner_node,
        version=o.version,
        name=o.name,
        trading_name=o.trading_name or "",
        credit_code=o.credit_code or "",
        organization_type=o.organization_type or "",
        industry=o.industry or "",
        status=o.status,
        deleted=o.deleted_at is not None,
        tmf_attributes_json=events.tmf_json(getattr(o, "tmf_attributes", None)),
    )


async def _record(
    session: AsyncSession, o: Organization, actor: str, action: str, changes: dict[str, Any], *, created: bool = False
) -> None:
    await events.record_change(
        session,
        o,
        created=created,
        aggregate_type="organization",
        event=lambda row: customer_pb2.OrganizationChanged(organization=organization_state(row)),
        actor=actor,
        action=action,
        changes=changes,
    )


async def create(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: OrganizationCreate
) -> Organization:
    now = datetime.now(UTC)
    o = Organization(
        id=uuid7(),
        owner_node=settings.node,
        version=1,
        name=data.name or data.trading_name,
        trading_name=data.trading_name,
        organization_type=data.organization_type,
        credit_code=data.given_credit_code()[1],
        status=data.status or "validated",
        tmf_attributes=merge_stored(None, data.stored()),
        created_at=now,
        updated_at=now,
    )
    session.add(o)
    await _record(session, o, principal.username, "create", diff({}, snapshot(o)), created=True)
    return o


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, org_id: uuid.UUID
) -> Organization:
    o = await OrganizationRepository.from_session(session).get_visible(org_id, principal, settings.topology)
    if o is None:
        raise NotFound(f"organization {org_id} not found")
    return o


async def list_organizations(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[Organization], int]:
    return await OrganizationRepository.from_session(session).page(principal, settings.topology, lq)


async def update(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    org_id: uuid.UUID,
    patch: OrganizationUpdate,
    present: set[str],
) -> Organization:
    # lock first, then judge scope and ownership on the committed row (see customer._lock_owned)
    repo = OrganizationRepository.from_session(session)
    o = await repo.get_for_update(org_id)
    if o is None or not settings.topology.is_in_subtree(o.owner_node, principal.scope_node):
        raise NotFound(f"organization {org_id} not found")
    if principal.by_portfolio and await repo.get_visible(org_id, principal, settings.topology) is None:
        raise NotFound(f"organization {org_id} not found")
    if o.owner_node != settings.node:
        raise NotOwner("organization", str(org_id), o.owner_node)
    if "tradingName" in present and patch.trading_name is None:
        raise ValidationFailed("tradingName is mandatory and cannot be removed (null)", field="tradingName")
    before = snapshot(o)
    for key, attr in {
        "name": "name",
        "tradingName": "trading_name",
        "organizationType": "organization_type",
        "creditCode": "credit_code",
        "status": "status",
    }.items():
        if key in present and (getattr(patch, attr) is not None or key not in ("name", "status")):
            setattr(o, attr, getattr(patch, attr))
    code_given, code = patch.given_credit_code()
    if code_given:
        o.credit_code = code
    kept = patch.stored()
    if kept:
        o.tmf_attributes = merge_stored(o.tmf_attributes, kept)
    changes = diff(before, snapshot(o))
    if changes:
        await _record(session, o, principal.username, "update", changes)
    return o
