"""Recognition (/api/v1/customer/recognition): runs, candidates, decisions, and the spend they read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from kam_platform.api import JSON_BODY, one, page
from kam_platform.auth import Principal, require
from kam_platform.db.engine import Session
from kam_platform.settings import AppSettings
from kam_platform.tmf import base_url, href, id_or_404, parse_list_query
from kam_rules.client import RulesClient

from . import scheduler, service
from .models import RecognitionCandidate, RecognitionSchedule
from .repository import FILTERABLE
from .schemas import (
    CandidateRead,
    Decision,
    RecognitionRunCreate,
    RecognitionRunRead,
    Rejection,
    RuleRef,
    ScheduleRead,
    ScheduleSet,
    SpendLoad,
    SpendLoaded,
)

BASE = "/api/v1/customer/recognition"
router = APIRouter(prefix=BASE, tags=["recognition"], lifespan=scheduler.lifespan)

Reader = Annotated[Principal, require("customer:read")]
Writer = Annotated[Principal, require("customer:update")]
FIELDS = list(CandidateRead.model_json_schema(by_alias=True)["properties"])


async def rules_client(request: Request) -> RulesClient:
    """The node's rules service: `app.state.rules_client` when the app was given one (tests, a sidecar),
    else the node's public URL (or the address the caller used: the node routes every path)."""
    given = getattr(request.app.state, "rules_client", None)
    if isinstance(given, RulesClient):
        return given
    settings = request.app.state.settings
    return RulesClient(settings.public_url or base_url(request))


Rules = Annotated[RulesClient, Depends(rules_client)]


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").partition(" ")[2].strip()


def _candidate(request: Request, c: RecognitionCandidate) -> CandidateRead:
    return CandidateRead(
        id=str(c.id),
        href=href(request, f"{BASE}/candidate/{c.id}"),
        run_id=str(c.run_id),
        customer_id=str(c.customer_id),
        customer_code=c.customer_code,
        customer_name=c.customer_name,
        current_grade=c.current_grade,
        current_status=c.current_status,
        proposed_grade=c.proposed_grade,
        reason=c.reason,
        evidence=c.evidence,
        rule=RuleRef(id=str(c.rule_set_id), version=c.rule_version, owner_node=c.rule_owner_node),
        status=c.status,
        proposed_by=c.proposed_by,
        proposed_at=c.proposed_at,
        decided_by=c.decided_by,
        decided_at=c.decided_at,
        decision_note=c.decision_note,
    )


@router.post("/run", response_model=RecognitionRunRead)
async def run_recognition(
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    client: Rules,
    data: RecognitionRunCreate | None = None,
    _: None = JSON_BODY,
) -> RecognitionRunRead:
    """Judge this node's customers in the caller's scope by the recognition rule in force here (the rules
    service's effective rule) and propose candidates (候选) with the reason. A customer with an open
    proposal is skipped; one already confirmed at the grade the rule gives is not proposed again."""
    on = (data.on if data else None) or datetime.now(UTC).date()
    run_id, rule, evaluated, made = await service.run(
        session, settings=settings, principal=who, client=client, token=_bearer(request), on=on
    )
    return RecognitionRunRead(
        id=str(run_id),
        node=settings.node,
        date=on,
        rule=RuleRef(id=rule.id, version=rule.version, owner_node=rule.owner_node),
        evaluated=evaluated,
        proposed=len(made),
        candidates=[_candidate(request, c) for c in made],
    )


@router.get("/candidate", response_model=list[CandidateRead])
async def list_candidates(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader
) -> list[CandidateRead] | JSONResponse:
    """Candidates in the caller's scope, newest first. Filters: status, customerId, customerCode,
    proposedGrade, currentGrade, runId, proposedAt."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_candidates(session, settings=settings, principal=who, lq=lq)
    return page(response, [_candidate(request, c) for c in rows], total, lq)


@router.get("/candidate/{candidate_id}", response_model=CandidateRead)
async def get_candidate(
    candidate_id: str, request: Request, session: Session, settings: AppSettings, who: Reader
) -> CandidateRead | JSONResponse:
    lq = parse_list_query(request, {}, FIELDS)
    c = await service.get_visible(
        session, settings=settings, principal=who, candidate_id=id_or_404(candidate_id, "recognition candidate")
    )
    return one(_candidate(request, c), lq.fields)


@router.post("/candidate/{candidate_id}/confirm", response_model=CandidateRead)
async def confirm_candidate(
    candidate_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: Decision | None = None,
    _: None = JSON_BODY,
) -> CandidateRead:
    """认定: the customer takes the proposed grade and is CONFIRMED. Not by the proposer (403
    SEPARATION_OF_DUTIES). The customer's history records the change."""
    c = await service.confirm(
        session,
        settings=settings,
        principal=who,
        candidate_id=id_or_404(candidate_id, "recognition candidate"),
        note=data.note if data else None,
    )
    return _candidate(request, c)


@router.post("/candidate/{candidate_id}/reject", response_model=CandidateRead)
async def reject_candidate(
    candidate_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: Rejection,
    _: None = JSON_BODY,
) -> CandidateRead:
    """Reject a proposal, with the reason (not by the proposer)."""
    c = await service.reject(
        session,
        settings=settings,
        principal=who,
        candidate_id=id_or_404(candidate_id, "recognition candidate"),
        reason=data.reason,
    )
    return _candidate(request, c)


@router.post("/spend", response_model=SpendLoaded)
async def load_spend(
    session: Session, settings: AppSettings, who: Writer, data: SpendLoad, _: None = JSON_BODY
) -> SpendLoaded:
    """Load monthly spend (CNY) of this node's customers — the billing summary recognition judges by,
    until the billing service feeds it."""
    n = await service.load_spend(session, settings=settings, principal=who, items=data.items)
    return SpendLoaded(loaded=n)


def _schedule(s: RecognitionSchedule) -> ScheduleRead:
    return ScheduleRead(
        node=s.node,
        interval_days=s.interval_days,
        enabled=s.is_enabled,
        run_as=s.run_as,
        next_run_at=s.next_run_at,
        last_run_at=s.last_run_at,
        last_run_id=str(s.last_run_id) if s.last_run_id else None,
        last_result=s.last_result,
    )


@router.get("/schedule", response_model=ScheduleRead)
async def get_schedule(session: Session, settings: AppSettings, who: Reader) -> ScheduleRead:
    """This node's recognition schedule (404 when none is set) and how its last run went."""
    return _schedule(await service.get_schedule(session, settings=settings))


@router.put("/schedule", response_model=ScheduleRead)
async def set_schedule(
    session: Session, settings: AppSettings, who: Writer, data: ScheduleSet, _: None = JSON_BODY
) -> ScheduleRead:
    """Run recognition every `intervalDays` from `nextRunAt`, as the caller (who then may not decide the
    candidates those runs propose)."""
    return _schedule(await service.set_schedule(session, settings=settings, principal=who, data=data))
