"""All SQL of contracts and their reminders: the scoped base, the due query, the once-only insert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.scoped import ScopedRepository
from kam_platform.tmf import Filterable, uuid_filter
from kam_sales.models import Agreement, AgreementReminder

FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(Agreement.id, predicate=uuid_filter(Agreement.id)),
    "number": Filterable(Agreement.number),
    "name": Filterable(Agreement.name),
    "status": Filterable(Agreement.status),
    "customer.id": Filterable(Agreement.customer_id, predicate=uuid_filter(Agreement.customer_id)),
    "accountManager": Filterable(Agreement.account_manager),
    "ownerNode": Filterable(Agreement.owner_node),
    "renewalStatus": Filterable(Agreement.renewal_status),
    "agreementVersion": Filterable(Agreement.agreement_version, int),
    "agreementPeriod.endDateTime": Filterable(Agreement.end_date, date),
    "agreementPeriod.startDateTime": Filterable(Agreement.start_date, date),
    "amount.value": Filterable(Agreement.amount, Decimal),
    "signedDate": Filterable(Agreement.signed_date, date),
    "updatedAt": Filterable(Agreement.updated_at, datetime),
}

REMINDER_FILTERABLE: dict[str, Filterable] = {
    "agreement.id": Filterable(AgreementReminder.agreement_id, predicate=uuid_filter(AgreementReminder.agreement_id)),
    "offsetDays": Filterable(AgreementReminder.offset_days, int),
    "dueOn": Filterable(AgreementReminder.due_on, date),
    "endDate": Filterable(AgreementReminder.end_date, date),
    "accountManager": Filterable(AgreementReminder.account_manager),
    "remindedAt": Filterable(AgreementReminder.reminded_at, datetime),
}


class AgreementRepository(ScopedRepository[Agreement]):
    model = Agreement
    filterable = FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return Agreement.account_manager.in_(managers)

    async def expiring(self, node: str, today: date, horizon: date) -> Sequence[Agreement]:
        """Signed, not renewed contracts of this node that end after today and no later than `horizon`."""
        stmt = select(Agreement).where(
            Agreement.owner_node == node,
            Agreement.status == "signed",
            Agreement.renewal_status == "none",
            Agreement.end_date > today,
            Agreement.end_date <= horizon,
        )
        return (await self.session.scalars(stmt)).all()

    async def number_taken(self, node: str, number: str) -> bool:
        stmt = select(Agreement.id).where(Agreement.owner_node == node, Agreement.number == number).limit(1)
        return (await self.session.scalar(stmt)) is not None


class ReminderRepository(ScopedRepository[AgreementReminder]):
    model = AgreementReminder
    filterable = REMINDER_FILTERABLE

    def portfolio(self, managers: frozenset[str]) -> ColumnElement[bool]:
        return AgreementReminder.account_manager.in_(managers)

    async def add_once(self, rows: list[dict[str, Any]]) -> Sequence[AgreementReminder]:
        """Insert the reminders not given before (the (agreement, offset) key); returns those inserted."""
        if not rows:
            return []
        stmt = (
            insert(AgreementReminder)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["agreement_id", "offset_days"])
            .returning(AgreementReminder)
        )
        return (await self.session.scalars(stmt)).all()
