"""Records attached to a key account (F1, issue 14: needs profile, competitor presence, contact
relations, merges, verifications): how they are written at the owner, claimed and applied at the
replicas, and read within the caller's data scope.

A record attached to a customer is owned by the customer's owner node (the province's verification is
the exception: owned by the verifying node). It is written under the customer's row lock through the
customer service's `ChangeLog` (version, outbox event, audit), replicated up like the customer, and
applied by version with the platform's dataset apply (`kam_platform.dataset.Dataset`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kam_customer.customer.repository import CustomerRepository
from kam_customer.customer.schemas import AuditRecordRead
from kam_customer.models import SCHEMA, Audit, Customer
from kam_platform.auth import Principal
from kam_platform.changes import lock
from kam_platform.dataset import Dataset
from kam_platform.errors import NotFound, NotOwner
from kam_platform.replication import Claim, Event
from kam_platform.scoped import ScopedRepository
from kam_platform.settings import Settings

SERVICE = "customer"


def iso_date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def of_customer(model: Any) -> Callable[[frozenset[str]], ColumnElement[bool]]:
    """The portfolio clause of a table with a ``customer_id``: rows of customers managed by `managers`."""

    def clause(managers: frozenset[str]) -> ColumnElement[bool]:
        result: ColumnElement[bool] = model.customer_id.in_(
            select(Customer.id).where(Customer.account_manager.in_(managers))
        )
        return result

    return clause


class AttachedRepository(ScopedRepository[Any]):
    """Scoped reads of a table attached to customers (``customer_id``; owner by ``owner_node``)."""

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return of_customer(self.model)(managers)

    def of(self, customer_id: uuid.UUID, principal: Principal, settings: Settings) -> Select[Any]:
        return self.scoped(principal, settings.topology).where(self.model.customer_id == customer_id)


async def visible_customer(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> Customer:
    """The customer when the caller may see it, else 404 (the customer service's own lookup; this module
    does not import the customer service, which writes the attached records on a transfer)."""
    c = await CustomerRepository.from_session(session).get_visible(customer_id, principal, settings.topology)
    if c is None:
        raise NotFound(f"customer {customer_id} not found")
    return c


async def owned_customer(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> Customer:
    """The customer under its row lock, for writing a record attached to it: 404 outside the caller's
    scope (or portfolio), 409 NOT_OWNER at a replica. The lock serialises every writer of the
    customer's records, so their versions never race."""
    await visible_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    c = await lock(session, Customer, customer_id)
    if c is None:
        raise NotFound(f"customer {customer_id} not found")
    if c.owner_node != settings.node:
        raise NotOwner("customer", str(customer_id), c.owner_node)
    return c


@dataclass(frozen=True)
class Kind:
    """One attached record type: its dataset (state message, conversions, apply, republish) and the
    customer each record hangs off (the `Screen` then checks that customer's owner too)."""

    dataset: Dataset[Any]
    customer_of: Callable[[Message], str]

    @property
    def event_type(self) -> str:
        return self.dataset.event_type

    def claims(self, ev: Event) -> list[Claim]:
        out = []
        customer = self.customer_of(ev.payload_as(self.dataset.message))
        for c in self.dataset.claims(ev):
            attached = (("customer", uuid.UUID(customer)),) if customer else ()
            out.append(Claim(c.table, c.record_id, c.owner, c.version, attached_to=attached))
        return out

    async def apply(self, session: AsyncSession, events: Sequence[Event]) -> None:
        await self.dataset.apply(session, events)


def dataset(
    name: str, model: Any, message: type[Message], to_message: Callable[[Any], Message], to_row: Any
) -> Dataset[Any]:
    """An upward attached record type as a platform dataset (apply, claims, republish)."""
    return Dataset(
        name=name, service=SERVICE, schema=SCHEMA, model=model, message=message, to_message=to_message, to_row=to_row
    )


async def history_of(
    session: AsyncSession, entity_type: str, entity_ids: Sequence[uuid.UUID], offset: int, limit: int
) -> tuple[Sequence[Audit], int]:
    """The audit trail of records (newest first) and its total."""
    base = select(Audit).where(Audit.entity_type == entity_type, Audit.entity_id.in_(entity_ids))
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    rows = (await session.scalars(base.order_by(Audit.at.desc(), Audit.id.desc()).offset(offset).limit(limit))).all()
    return rows, int(total or 0)


def audit_read(a: Audit) -> AuditRecordRead:
    return AuditRecordRead(
        id=str(a.id),
        entity_type=a.entity_type,
        entity_id=str(a.entity_id),
        action=a.action,
        actor=a.actor,
        at=a.at,
        changes=a.changes,
        request_id=a.request_id,
        note=a.note,
        owner_node=a.owner_node,
    )
