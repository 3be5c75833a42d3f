"""Province verification rules (省级核实): a customer owned by a local network (a node without
children) is `unverified` until the owner's parent — its province — verifies it or returns it with a
reason. The verdict is the province's own record (one writer: the verifier), published down to its
subtree and up to its ancestors, so the state shows at every node that holds the customer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer import attached
from kam_customer.customer import events as customer_events
from kam_customer.models import Customer
from kam_platform.auth import Principal
from kam_platform.changes import lock
from kam_platform.errors import Conflict, NotFound, ValidationFailed
from kam_platform.federation import down_scope
from kam_platform.settings import Settings
from kam_platform.topology import Topology

from . import events
from .models import CustomerVerification
from .schemas import Verdict, VerificationState

AGGREGATE = "customer_verification"
PERMISSION = "customer.verification:write"


def verifier_of(topology: Topology, owner_node: str) -> str | None:
    """Who verifies a customer owned by `owner_node`: the parent of a node without children (a local
    network's province); nobody for a node with a subtree of its own (its records need no one above)."""
    if topology.children(owner_node):
        return None
    return topology.node(owner_node).parent


def state_of(topology: Topology, c: Customer, v: CustomerVerification | None) -> VerificationState:
    if v is not None:
        return VerificationState(v.status)
    return VerificationState.UNVERIFIED if verifier_of(topology, c.owner_node) else VerificationState.NOT_REQUIRED


async def of_customers(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CustomerVerification]:
    if not ids:
        return {}
    rows = (await session.scalars(select(CustomerVerification).where(CustomerVerification.customer_id.in_(ids)))).all()
    return {v.customer_id: v for v in rows}


async def get(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> tuple[Customer, CustomerVerification | None]:
    c = await attached.visible_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    return c, (await of_customers(session, [c.id])).get(c.id)


async def verify(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    customer_id: uuid.UUID,
    status: Verdict,
    reason: str | None,
) -> tuple[Customer, CustomerVerification]:
    """Record the verdict at the verifying node: 409 naming the verifier elsewhere (or 409 when the
    customer needs no verification); `returned` without a reason is 422."""
    principal.require(PERMISSION)
    if status is Verdict.RETURNED and not (reason or "").strip():
        raise ValidationFailed("reason: a returned record needs the reason", field="reason")
    c = await attached.visible_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    verifier = verifier_of(settings.topology, c.owner_node)
    if verifier is None:
        raise Conflict(f"customer {c.id} is owned by {c.owner_node}, whose records need no verification")
    if verifier != settings.node:
        raise Conflict(
            f"customer {c.id} is verified by {verifier}, not at {settings.node}", details={"verifierNode": verifier}
        )
    existing = (await of_customers(session, [c.id])).get(c.id)
    v = await lock(session, CustomerVerification, existing.id) if existing is not None else None
    now = datetime.now(UTC)
    created = v is None
    before = {"status": v.status, "reason": v.reason} if v is not None else {"status": "unverified", "reason": None}
    if v is None:
        v = CustomerVerification(
            owner_node=settings.node,
            customer_id=c.id,
            customer_owner_node=c.owner_node,
            version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(v)
    v.status, v.reason = status.value, reason
    v.verified_by, v.customer_version, v.customer_owner_node = principal.username, c.version, c.owner_node
    await customer_events.record_change(
        session,
        v,
        aggregate_type=AGGREGATE,
        actor=principal.username,
        action="verify" if status is Verdict.VERIFIED else "return",
        changes={k: [before[k], getattr(v, k)] for k in ("status", "reason") if before[k] != getattr(v, k)},
        created=created,
        event=events.verification_changed,
        down_scope=down_scope(settings.topology, settings.node),
        note=reason,
    )
    if settings.this_node.parent is not None:  # and up: the ancestors see the verdict too
        await customer_events.CHANGES.emit(
            session,
            node=settings.node,
            aggregate_type=AGGREGATE,
            aggregate_id=v.id,
            version=v.version,
            message=events.verification_changed(v),
            actor=principal.username,
        )
    return c, v


async def bulk(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    customer_ids: Sequence[str],
    status: Verdict,
    reason: str | None,
) -> list[tuple[str, VerificationState | None, str | None]]:
    """Verify (or return) each customer of a list; one refusal does not stop the others (a savepoint
    each), so the answer names every customer's outcome."""
    principal.require(PERMISSION)
    out: list[tuple[str, VerificationState | None, str | None]] = []
    for raw in customer_ids:
        try:
            cid = uuid.UUID(raw)
        except ValueError:
            out.append((raw, None, f"customer {raw} not found"))
            continue
        try:
            async with session.begin_nested():
                _, v = await verify(
                    session, settings=settings, principal=principal, customer_id=cid, status=status, reason=reason
                )
            out.append((raw, VerificationState(v.status), None))
        except (NotFound, Conflict, ValidationFailed) as exc:
            out.append((raw, None, exc.message))
    return out
