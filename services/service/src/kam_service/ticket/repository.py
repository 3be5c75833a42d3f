"""All SQL of tickets: the scoped TMF page (node subtree, or the caller's portfolio by the customer's
account manager at acceptance), the audit trail, the evaluator's due scan."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.auth import Principal
from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_platform.topology import Topology
from kam_service.models import Audit, TroubleTicket

from .states import Channel, Priority, Status, TicketType

FILTERABLE = {
    "status": Filterable(TroubleTicket.status, Status),
    "ticketType": Filterable(TroubleTicket.ticket_type, TicketType),
    "channel": Filterable(TroubleTicket.channel, Channel),
    "priority": Filterable(TroubleTicket.priority, Priority),
    "customerGrade": Filterable(TroubleTicket.customer_grade),
    "ownerNode": Filterable(TroubleTicket.owner_node),
    "handler": Filterable(TroubleTicket.handler),
    "externalId": Filterable(TroubleTicket.external_id),
    "affectedService": Filterable(TroubleTicket.affected_service),
    "relatedParty.id": Filterable(
        TroubleTicket.customer_id, sortable=False, predicate=uuid_filter(TroubleTicket.customer_id)
    ),
    "creationDate": Filterable(TroubleTicket.created_at, datetime),
    "lastUpdate": Filterable(TroubleTicket.updated_at, datetime),
    "sla.resolveDueAt": Filterable(TroubleTicket.resolve_due_at, datetime),
    "sla.resolveBreached": Filterable(TroubleTicket.resolve_breached, bool),
    "sla.responseBreached": Filterable(TroubleTicket.response_breached, bool),
    "sla.escalationLevel": Filterable(TroubleTicket.escalation_level, int),
}


class TicketRepository(ScopedRepository[TroubleTicket]):
    model = TroubleTicket
    filterable = FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return TroubleTicket.account_manager.in_(managers)

    def search(self, stmt: Select[Any], term: str) -> Select[Any]:
        like = f"%{term.replace('%', '').replace('_', '')}%"
        return stmt.where(
            or_(
                TroubleTicket.name.ilike(like),
                TroubleTicket.customer_name.ilike(like),
                TroubleTicket.customer_code.ilike(like),
                TroubleTicket.affected_service.ilike(like),
            )
        )

    async def add(self, ticket: TroubleTicket) -> TroubleTicket:
        self.session.add(ticket)
        await self.session.flush()
        return ticket

    async def by_external_id(self, node: str, external_id: str) -> TroubleTicket | None:
        stmt = select(TroubleTicket).where(TroubleTicket.owner_node == node, TroubleTicket.external_id == external_id)
        return (await self.session.scalars(stmt)).first()

    async def audit_of(self, ticket_id: uuid.UUID) -> Sequence[Audit]:
        stmt = select(Audit).where(Audit.entity_id == ticket_id).order_by(Audit.at, Audit.id)
        return (await self.session.scalars(stmt)).all()

    async def due_for_update(self, node: str, now: datetime, *, limit: int) -> Sequence[TroubleTicket]:
        """Open tickets of this node with something due, locked; rows another evaluator holds are
        skipped (it handles them)."""
        stmt = (
            select(TroubleTicket)
            .where(TroubleTicket.owner_node == node, TroubleTicket.next_due_at <= now)
            .order_by(TroubleTicket.next_due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).all()

    def visible(self, principal: Principal, topology: Topology) -> Select[tuple[TroubleTicket]]:
        return self.scoped(principal, topology)
