"""All SQL of competitor presence; the data scope is the platform's (`ScopedRepository`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select

from kam_customer.attached import AttachedRepository
from kam_platform.tmf import Filterable, uuid_filter

from .models import CompetitorPresence as P


def _products(op: str, values: list[Any]) -> Any:
    return P.products_held.overlap(values)


FILTERABLE: dict[str, Filterable] = {
    "id": Filterable(P.id, str, predicate=uuid_filter(P.id)),
    "customer.id": Filterable(P.customer_id, sortable=False, predicate=uuid_filter(P.customer_id)),
    "competitor": Filterable(P.competitor),
    "productsHeld": Filterable(P.products_held, sortable=False, predicate=_products),
    "contractEnd": Filterable(P.contract_end, date),
    "observedOn": Filterable(P.observed_on, date),
    "source": Filterable(P.source),
    "ownerNode": Filterable(P.owner_node),
    "updatedAt": Filterable(P.updated_at, datetime),
}


class CompetitorRepository(AttachedRepository):
    model = P
    filterable = FILTERABLE

    def search(self, stmt: Select[Any], term: str) -> Select[Any]:
        like = f"%{term.replace('%', '').replace('_', '')}%"
        return stmt.where(P.competitor.like(like) | P.offers.like(like))
