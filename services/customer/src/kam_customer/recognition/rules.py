"""The recognition rule applied to one customer: pure, no I/O (the parameters are the `recognition`
kind's, as the rules service answers them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

GRADE_ORDER = ("A", "B", "C")  # best first
NATURE_ZH = {"PARTY_GOV_MIL": "党政军"}


def months_before(on: date, n: int) -> list[date]:
    """The first days of the `n` complete months before `on`'s month, oldest first."""
    out = []
    y, m = on.year, on.month
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(date(y, m, 1))
    return list(reversed(out))


@dataclass(frozen=True)
class Verdict:
    grade: str
    reason: str
    evidence: dict[str, Any]


def evaluate(params: dict[str, Any], *, nature: str | None, spend: dict[date, Decimal], on: date) -> Verdict | None:
    """The grade the rule gives the customer, with the reason, or None when it does not qualify."""
    months = months_before(on, int(params["months"]))
    amounts = [spend.get(m, Decimal("0")) for m in months]
    lowest = min(amounts)
    threshold = Decimal(str(params["minMonthlySpend"]))
    evidence: dict[str, Any] = {
        "months": [m.isoformat()[:7] for m in months],
        "spend": [str(a) for a in amounts],
        "lowestMonthlySpend": str(lowest),
        "minMonthlySpend": str(threshold),
    }
    by_spend: str | None = None
    if lowest >= threshold:
        for g in GRADE_ORDER:
            bar = params["grades"].get(g)
            if bar is not None and lowest >= Decimal(str(bar["minMonthlySpend"])):
                by_spend = g
                evidence["gradeThreshold"] = str(bar["minMonthlySpend"])
                break
        by_spend = by_spend or GRADE_ORDER[-1]
    priority = nature is not None and nature in params.get("priorityNatures", [])
    if by_spend is None and not priority:
        return None
    n = len(months)
    if priority:
        floor = params.get("priorityGrade", "B")
        grade = min(by_spend or floor, floor, key=GRADE_ORDER.index)
        evidence["priorityNature"] = nature
        reason = f"客户性质 {NATURE_ZH.get(nature or '', nature)} ({nature}): 按规则至少认定为 {floor} 档"
        if by_spend is not None:
            reason += f"; 近{n}个月月消费最低 ¥{lowest} 达到 {by_spend} 档"
        return Verdict(grade, reason, evidence)
    assert by_spend is not None
    reason = (
        f"近{n}个月月消费最低 ¥{lowest} ≥ 认定门槛 ¥{threshold}; "
        f"达到 {by_spend} 档门槛 ¥{evidence.get('gradeThreshold', threshold)}"
    )
    return Verdict(by_spend, reason, evidence)
