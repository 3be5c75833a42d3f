"""The service-quality board: within the caller's data scope, the open tickets by grade (and how many of
them breached), and over a period the accepted tickets' breaches, MTTR of those resolved (REQUIREMENTS
§7.2: resolutionDate - creationDate), RESOLVE_IN_SLA of those closed, satisfaction of the surveys — in
total and per owner node."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.auth import Principal
from kam_platform.errors import ValidationFailed
from kam_platform.settings import Settings

from .repository import QualityRepository, ratio, rounded
from .schemas import GradeCount, NodeQuality, QualityFigures, ServiceQualityRead


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "accepted": int(row["accepted"]),
        "response_breached": int(row["response_breached"]),
        "resolve_breached": int(row["resolve_breached"]),
        "resolved": int(row["resolved"]),
        "mttr_minutes": rounded(row["mttr_minutes"]),
        "closed": int(row["closed"]),
        "resolve_in_sla": ratio(int(row["closed_in_sla"]), int(row["closed"])),
        "surveyed": int(row["surveyed"]),
        "satisfaction": None if row["satisfaction"] is None else round(float(row["satisfaction"]), 2),
        "satisfied_share": ratio(int(row["satisfied"]), int(row["surveyed"])),
        "reopened": int(row["reopened"]),
    }


async def quality(
    session: AsyncSession, *, settings: Settings, principal: Principal, start: datetime, end: datetime
) -> ServiceQualityRead:
    if end <= start:
        raise ValidationFailed("periodEnd: must be after periodStart", field="periodEnd")
    repo = QualityRepository(session)
    grades = await repo.open_by_grade(principal, settings.topology)
    total = (await repo.figures(principal, settings.topology, start, end, by_node=False))[0]
    nodes = await repo.figures(principal, settings.topology, start, end, by_node=True)
    return ServiceQualityRead(
        scope_node=principal.scope_node,
        period_start=start,
        period_end=end,
        open_by_grade=[GradeCount(grade=g, open=n, breached=b) for g, n, b in grades],
        total=QualityFigures(**_figures(total)),
        by_node=[NodeQuality(node=r["node"], **_figures(r)) for r in nodes],
    )
