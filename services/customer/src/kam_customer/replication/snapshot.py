"""Snapshots (resync) and relays: republish current state as events so a replica equals its owner.

- `republish_own`: this node's own records go up again (``up.<node>…``, ``snapshot=true``);
- `republish_reference`: the reference data this node publishes down (designations) goes down again;
- `relay_down`: a lowest common ancestor forwards an ownership transfer down the new owner's branch.
Rows are written to the outbox in bulk, in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.contact.service import contact_state
from kam_customer.customer.events import SERVICE, customer_state
from kam_customer.models import SCHEMA, Contact, Customer, Designation, DesignationResponse, Organization
from kam_customer.organization.service import organization_state
from kam_platform.federation import down_scope
from kam_platform.outbox import build_event, write_rows
from kam_platform.settings import Settings

CHUNK = 2000


async def _write(session: AsyncSession, rows: list[tuple[Any, ...]]) -> None:
    await write_rows(session, schema=SCHEMA, rows=rows)


def _row(
    settings: Settings,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    version: int,
    message: Message,
    *,
    down: bool = False,
    actor: str = "system:resync",
    snapshot: bool = True,
) -> tuple[Any, ...]:
    event_id, subject, etype, payload = build_event(
        node=settings.node,
        service=SERVICE,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        version=version,
        message=message,
        actor=actor,
        snapshot=snapshot,
        down_scope=down_scope(settings.topology, settings.node) if down else None,
    )
    return (event_id, subject, etype, str(aggregate_id), version, payload)


async def _chunks(session: AsyncSession, stmt: Select[Any], id_col: Any) -> Any:
    last: uuid.UUID | None = None
    while True:
        page = stmt.order_by(id_col).limit(CHUNK)
        if last is not None:
            page = page.where(id_col > last)
        rows = (await session.scalars(page)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


async def _republish(
    session: AsyncSession,
    settings: Settings,
    stmt: Select[Any],
    id_col: Any,
    aggregate_type: str,
    to_message: Callable[[Any], Message],
    *,
    down: bool = False,
) -> int:
    count = 0
    async for rows in _chunks(session, stmt, id_col):
        await _write(session, [_row(settings, aggregate_type, r.id, r.version, to_message(r), down=down) for r in rows])
        count += len(rows)
    return count


async def republish_own(session: AsyncSession, settings: Settings) -> int:
    me = settings.node
    n = 0
    n += await _republish(
        session,
        settings,
        select(Organization).where(Organization.owner_node == me),
        Organization.id,
        "organization",
        lambda o: customer_pb2.OrganizationChanged(organization=organization_state(o)),
    )
    n += await _republish(
        session,
        settings,
        select(Customer).where(Customer.owner_node == me, Customer.deleted_at.is_(None)),
        Customer.id,
        "customer",
        lambda c: customer_pb2.CustomerUpdated(customer=customer_state(c)),
    )
    n += await _republish(
        session,
        settings,
        select(Customer).where(Customer.owner_node == me, Customer.deleted_at.is_not(None)),
        Customer.id,
        "customer",
        lambda c: customer_pb2.CustomerDeleted(
            id=str(c.id), owner_node=c.owner_node, version=c.version, customer_code=c.customer_code
        ),
    )
    n += await _republish(
        session,
        settings,
        select(Contact).where(Contact.owner_node == me, Contact.deleted_at.is_(None)),
        Contact.id,
        "contact",
        lambda c: customer_pb2.ContactChanged(contact=contact_state(c)),
    )
    from kam_customer.designation.service import response_state

    n += await _republish(
        session,
        settings,
        select(DesignationResponse).where(DesignationResponse.owner_node == me),
        DesignationResponse.id,
        "designation_response",
        lambda r: customer_pb2.DesignationResponseChanged(response=response_state(r)),
    )
    return n


async def republish_reference(session: AsyncSession, settings: Settings) -> int:
    from kam_customer.designation.service import designation_state

    n = await _republish(
        session,
        settings,
        select(Designation).where(Designation.owner_node == settings.node),
        Designation.id,
        "designation",
        lambda d: customer_pb2.DesignationChanged(designation=designation_state(d)),
        down=True,
    )
    return n


async def relay_down(
    session: AsyncSession,
    settings: Settings,
    env: envelope_pb2.Envelope,
    transfer: customer_pb2.CustomerOwnershipTransferred,
) -> None:
    row = _row(
        settings,
        "customer",
        uuid.UUID(env.aggregate_id),
        env.version,
        transfer,
        down=True,
        actor=env.actor,
        snapshot=False,
    )
    await _write(session, [row])
