"""Duplicate detection rules: candidates by credit code, normalised name, address and contact phone,
scored with the reasons, within the caller's scope — at hq across provinces, which neither province
sees. A warning, never a refusal: a person decides (dismiss, or merge)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer import attached
from kam_customer.models import Customer
from kam_platform.auth import Principal
from kam_platform.changes import lock
from kam_platform.errors import Forbidden, NotFound
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery

from . import rules
from .models import DuplicateCandidate
from .repository import DuplicateRepository
from .schemas import DuplicateCheck

Candidate = tuple[Customer, int, list[dict[str, object]]]


def _ranked(found: list[tuple[Customer, set[str]]]) -> list[Candidate]:
    out = [(c, rules.score(s), rules.reasons(s)) for c, s in found]
    return sorted(out, key=lambda x: (-x[1], x[0].name))


async def check(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: DuplicateCheck
) -> list[Candidate]:
    """Candidates for a customer about to be created."""
    found = await DuplicateRepository.from_session(session).matches(
        principal,
        settings.topology,
        name=data.name,
        credit_code=(data.credit_code or "").upper() or None,
        address=data.address,
        phones=data.phones,
    )
    return _ranked(found)


async def for_customer(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer_id: uuid.UUID
) -> list[Candidate]:
    """Candidates for a stored customer (404 when it is not visible)."""
    c = await attached.visible_customer(session, settings=settings, principal=principal, customer_id=customer_id)
    repo = DuplicateRepository.from_session(session)
    found = await repo.matches(
        principal,
        settings.topology,
        name=c.name,
        credit_code=c.credit_code,
        address=c.address,
        phones=await repo.phones_of(c.id),
        exclude=c.id,
    )
    return _ranked(found)


async def count_for_created(
    session: AsyncSession, *, settings: Settings, principal: Principal, customer: Customer
) -> int:
    """How many candidates `for_customer` lists for a customer this request has just written (the
    create's warning header), counted without re-reading the customer or loading the candidates: a
    new customer has no contacts yet (no phone signal), and it is visible to the caller exactly when
    its owner lies in the caller's scope and its account manager in the caller's portfolio (a token
    narrowed to a descendant may create here a record its own scope does not show: then nothing)."""
    visible = (
        customer.deleted_at is None
        and settings.topology.is_in_subtree(customer.owner_node, principal.scope_node)
        and principal.sees_portfolio_of(customer.account_manager)
    )
    if not visible:
        return 0
    return await DuplicateRepository.from_session(session).count_matches(
        principal,
        settings.topology,
        name=customer.name,
        credit_code=customer.credit_code,
        address=customer.address,
        phones=[],
        exclude=customer.id,
    )


async def scan(session: AsyncSession, *, settings: Settings, principal: Principal) -> tuple[int, Counter[str]]:
    """The job over the whole scope: every pair found is queued for review (OPEN)."""
    if principal.by_portfolio:
        raise Forbidden("a duplicate scan reads the whole node's scope; a portfolio-scoped token cannot run one")
    repo = DuplicateRepository.from_session(session)
    pairs = await repo.scan(principal, settings.topology)
    owners = await repo.owners(sorted({i for p in pairs for i in p}))
    rows = [
        {
            "id": uuid7(),
            "customer_a": a,
            "customer_b": b,
            "owner_a": owners[a],
            "owner_b": owners[b],
            "score": rules.score(signals),
            "reasons": rules.reasons(signals),
            "status": "OPEN",
        }
        for (a, b), signals in pairs.items()
    ]
    await repo.store(rows)
    return len(rows), Counter(s for signals in pairs.values() for s in signals)


async def queue(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    status: str | None,
    min_score: int,
    lq: ListQuery,
) -> tuple[Sequence[DuplicateCandidate], int]:
    stmt = DuplicateRepository.from_session(session).queue(principal, settings.topology)
    if status:
        stmt = stmt.where(DuplicateCandidate.status == status)
    stmt = stmt.where(DuplicateCandidate.score >= min_score)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    order = (DuplicateCandidate.score.desc(), DuplicateCandidate.id)
    rows = (await session.scalars(stmt.order_by(*order).offset(lq.offset).limit(lq.limit))).all()
    return rows, int(total or 0)


async def review(
    session: AsyncSession, *, settings: Settings, principal: Principal, pair_id: uuid.UUID, status: str
) -> DuplicateCandidate:
    visible = DuplicateRepository.from_session(session).queue(principal, settings.topology)
    if (await session.scalar(visible.where(DuplicateCandidate.id == pair_id))) is None:
        raise NotFound(f"duplicate pair {pair_id} not found")
    pair = await lock(session, DuplicateCandidate, pair_id)
    assert pair is not None
    pair.status, pair.reviewed_by = status, principal.username
    await session.flush()
    return pair
