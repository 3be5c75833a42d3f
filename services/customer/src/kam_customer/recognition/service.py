"""Recognition runs and decisions. A run asks the rules service for the recognition rule in force at this
node, judges this node's customers on it and proposes candidates with the reason; a person other than
the proposer confirms (the customer's grade and recognition status change through the customer write
path: versioned, audited, replicated — the customer history keeps every grade) or rejects."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_customer.customer import service as customer_service
from kam_customer.customer.rules import Grade, RecogStatus
from kam_customer.customer.schemas import CustomerUpdate
from kam_platform.auth import Principal
from kam_platform.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from kam_platform.ids import uuid7
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_rules.client import EffectiveRule, RulesClient

from . import rules
from .models import RecognitionCandidate, RecognitionSchedule
from .repository import RecognitionRepository
from .schemas import ScheduleSet, SpendIn

KIND = "recognition"


class SeparationOfDuties(Forbidden):
    code, reason = "SEPARATION_OF_DUTIES", "Separation of duties"


async def run(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    client: RulesClient,
    token: str,
    on: date,
) -> tuple[uuid.UUID, EffectiveRule, int, list[RecognitionCandidate]]:
    rule = await client.effective(KIND, node=settings.node, on=on, token=token)
    if rule is None:
        raise Conflict(f"no published {KIND} rule is in force at {settings.node} on {on}; nothing to judge by")
    repo = RecognitionRepository.from_session(session)
    customers = await repo.customers_to_judge(settings.node, principal, settings.topology)
    ids = [c.id for c in customers]
    months = rules.months_before(on, int(rule.parameters["months"]))
    spend = await repo.spend(ids, months)
    already = await repo.open_candidates(ids)
    run_id, now = uuid7(), datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for c in customers:
        if c.id in already:
            continue
        verdict = rules.evaluate(rule.parameters, nature=c.nature, spend=spend.get(c.id, {}), on=on)
        if verdict is None or (verdict.grade == c.grade and c.recog_status == RecogStatus.CONFIRMED):
            continue
        rows.append(
            {
                "id": uuid7(),
                "owner_node": settings.node,
                "run_id": run_id,
                "customer_id": c.id,
                "customer_code": c.customer_code,
                "customer_name": c.name,
                "current_grade": c.grade,
                "current_status": c.recog_status,
                "proposed_grade": verdict.grade,
                "reason": verdict.reason + f" (规则 {rule.id} v{rule.version}, {rule.owner_node})",
                "evidence": verdict.evidence,
                "rule_set_id": uuid.UUID(rule.id),
                "rule_version": rule.version,
                "rule_owner_node": rule.owner_node,
                "status": "PROPOSED",
                "proposed_by": principal.username,
                "proposed_at": now,
            }
        )
    inserted = set(await repo.add_candidates(rows))
    made = [RecognitionCandidate(**r) for r in rows if r["id"] in inserted]
    return run_id, rule, len(customers), made


async def list_candidates(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[RecognitionCandidate], int]:
    return await RecognitionRepository.from_session(session).page(principal, settings.topology, lq)


async def get_visible(
    session: AsyncSession, *, settings: Settings, principal: Principal, candidate_id: uuid.UUID, lock: bool = False
) -> RecognitionCandidate:
    found = await RecognitionRepository.from_session(session).get_visible(
        candidate_id, principal, settings.topology, lock=lock
    )
    if found is None:
        raise NotFound(f"recognition candidate {candidate_id} not found")
    return found


async def _open(
    session: AsyncSession, settings: Settings, principal: Principal, candidate_id: uuid.UUID
) -> RecognitionCandidate:
    cand = await get_visible(session, settings=settings, principal=principal, candidate_id=candidate_id, lock=True)
    if cand.status != "PROPOSED":
        raise InvalidTransition(f"candidate {cand.id} is already {cand.status}")
    if cand.proposed_by == principal.username:
        raise SeparationOfDuties(
            f"candidate {cand.id} was proposed by {cand.proposed_by}; another person decides it (认定)"
        )
    return cand


async def confirm(
    session: AsyncSession, *, settings: Settings, principal: Principal, candidate_id: uuid.UUID, note: str | None
) -> RecognitionCandidate:
    """认定: the customer takes the proposed grade and is CONFIRMED (one customer change, audited)."""
    cand = await _open(session, settings, principal, candidate_id)
    present = {"grade", "recognitionStatus"}
    patch = CustomerUpdate.model_validate(
        {"grade": Grade(cand.proposed_grade), "recognitionStatus": RecogStatus.CONFIRMED}
    )
    await customer_service.update(
        session,
        settings=settings,
        principal=principal,
        customer_id=cand.customer_id,
        patch=patch,
        present=present,
        action="recognize",
    )
    cand.status, cand.decided_by, cand.decided_at = "CONFIRMED", principal.username, datetime.now(UTC)
    cand.decision_note = note
    await session.flush()
    return cand


async def reject(
    session: AsyncSession, *, settings: Settings, principal: Principal, candidate_id: uuid.UUID, reason: str
) -> RecognitionCandidate:
    cand = await _open(session, settings, principal, candidate_id)
    cand.status, cand.decided_by, cand.decided_at = "REJECTED", principal.username, datetime.now(UTC)
    cand.decision_note = reason
    await session.flush()
    return cand


async def load_spend(session: AsyncSession, *, settings: Settings, principal: Principal, items: list[SpendIn]) -> int:
    """Monthly spend of this node's customers (the billing summary recognition reads)."""
    parsed: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        try:
            cid = uuid.UUID(item.customer_id)
        except ValueError:
            raise ValidationFailed(f"items.{i}.customerId: not a valid id", field=f"items.{i}.customerId") from None
        y, m = item.month.split("-")
        parsed.append({"customer_id": cid, "month": date(int(y), int(m), 1), "amount": Decimal(item.amount)})
    repo = RecognitionRepository.from_session(session)
    known = await repo.visible_owned([p["customer_id"] for p in parsed], settings.node, principal, settings.topology)
    for i, p in enumerate(parsed):
        if p["customer_id"] not in known:
            raise ValidationFailed(
                f"items.{i}.customerId: customer {p['customer_id']} not found among {settings.node}'s own customers",
                field=f"items.{i}.customerId",
            )
    merged = {(p["customer_id"], p["month"]): p for p in parsed}  # the last of duplicates wins
    await repo.upsert_spend(list(merged.values()))
    return len(merged)


async def get_schedule(session: AsyncSession, *, settings: Settings) -> RecognitionSchedule:
    found = await session.get(RecognitionSchedule, settings.node)
    if found is None:
        raise NotFound(f"no recognition schedule is set at {settings.node}")
    return found


async def set_schedule(
    session: AsyncSession, *, settings: Settings, principal: Principal, data: ScheduleSet
) -> RecognitionSchedule:
    """Set this node's schedule; its runs are made as the caller."""
    now = datetime.now(UTC)
    sched = await session.get(RecognitionSchedule, settings.node, with_for_update=True)
    if sched is None:
        sched = RecognitionSchedule(node=settings.node)
        session.add(sched)
    sched.interval_days, sched.is_enabled, sched.run_as = data.interval_days, data.enabled, principal.username
    sched.next_run_at = data.next_run_at or now
    sched.updated_at = now
    await session.flush()
    return sched
