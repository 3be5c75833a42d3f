"""The national default rules, published at the root node (`kam seed`; idempotent). Other nodes get them
by replication; they seed nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from kam_platform.db import create_database
from kam_platform.settings import Settings
from kam_platform.topology import Topology
from kam_rules.models import RuleSet
from kam_rules.ruleset import service
from kam_rules.ruleset.kinds import Kind

START = date(2026, 1, 1)


def _timers(resp: dict[str, int]) -> dict[str, dict[str, dict[str, int]]]:
    # response minutes by grade; resolution 8x the response
    return {
        g: {t: {"responseMinutes": m, "resolveMinutes": m * 8} for t in ("COMPLAINT", "FAULT", "REQUEST")}
        for g, m in resp.items()
    }


# kind → (name, parameters, bounds a province may refine within)
NATIONAL_DEFAULTS: dict[Kind, tuple[str, dict[str, Any], list[dict[str, Any]]]] = {
    Kind.RECOGNITION: (
        "大客户认定与分级 (national)",
        {
            "minMonthlySpend": "50000.00",
            "months": 3,
            "priorityNatures": ["PARTY_GOV_MIL"],
            "priorityGrade": "B",
            "grades": {
                "A": {"minMonthlySpend": "500000.00"},
                "B": {"minMonthlySpend": "150000.00"},
                "C": {"minMonthlySpend": "50000.00"},
            },
        },
        [
            {"path": "minMonthlySpend", "allow": "increase"},
            {"path": "grades.*.minMonthlySpend", "allow": "increase"},
            {"path": "months", "allow": "increase", "max": 12},
        ],
    ),
    Kind.SLA: (
        "服务时限 (national)",
        {
            "timers": _timers({"A": 30, "B": 60, "C": 120}),
            "escalation": [{"afterMinutes": 60, "to": "ka_dept_manager"}, {"afterMinutes": 240, "to": "province"}],
        },
        [
            {"path": "timers.*.*.responseMinutes", "allow": "decrease", "min": 5},
            {"path": "timers.*.*.resolveMinutes", "allow": "decrease", "min": 30},
        ],
    ),
    Kind.VALUE_SCORING: (
        "客户价值评分 (national)",
        {"weights": {"spend": 40, "growth": 20, "products": 15, "loyalty": 15, "strategic": 10}},
        [{"path": "weights.*", "allow": "any", "min": 0, "max": 60}],
    ),
    Kind.CHURN_WARNING: (
        "流失预警 (national)",
        {"spendDropPercent": 30, "months": 3, "complaints": 3},
        [{"path": "spendDropPercent", "allow": "decrease", "min": 10}, {"path": "complaints", "allow": "decrease"}],
    ),
    Kind.REMINDER: (
        "合同与回访提醒 (national)",
        {"contractExpiryDays": [90, 60, 30], "followUpDays": {"A": 30, "B": 60, "C": 90}},
        [{"path": "followUpDays.*", "allow": "decrease"}],
    ),
    Kind.OPPORTUNITY_PROBABILITY: (
        "商机阶段概率 (national)",
        {"stages": {"LEAD": 10, "QUALIFIED": 25, "PROPOSAL": 50, "NEGOTIATION": 75, "WON": 100, "LOST": 0}},
        [
            {"path": "stages.QUALIFIED", "allow": "any"},
            {"path": "stages.PROPOSAL", "allow": "any"},
            {"path": "stages.NEGOTIATION", "allow": "any"},
        ],
    ),
    Kind.ASSIGNMENT: (
        "客户经理分配 (national)",
        {"strategy": "LEAST_LOADED", "maxCustomersPerManager": 40},
        [{"path": "strategy", "allow": "any"}, {"path": "maxCustomersPerManager", "allow": "decrease"}],
    ),
    Kind.SETTLEMENT_SPLIT: (
        "一点收费结算分摊 (national)",
        {"basis": "USAGE", "collectorSharePercent": 5},
        [],
    ),
    Kind.QUOTE_DISCOUNT_APPROVAL: (
        "报价折扣审批 (national)",
        {"thresholdPercent": 10, "maxPercent": 30},
        [{"path": "thresholdPercent", "allow": "decrease"}, {"path": "maxPercent", "allow": "decrease"}],
    ),
}


async def seed(database_url: str, node: str, topology: Topology, **_: Any) -> int:
    """Publish the national defaults at the root (those missing); returns how many were written."""
    if topology.node(node).parent is not None:
        return 0
    settings = Settings(node=node, service="rules", database_url=database_url)
    settings.__dict__["topology"] = topology  # the cached property, without a topology file
    db = create_database(database_url, pool_size=1, application_name=f"kam-seed-rules-{node}")
    written = 0
    try:
        async with db.sessionmaker() as session, session.begin():
            for kind, (name, params, bounds) in NATIONAL_DEFAULTS.items():
                rid = service.default_id(node, kind)
                if await session.get(RuleSet, rid) is not None:
                    continue
                await service.seed_rule(
                    session, settings=settings, kind=kind, name=name, start=START, parameters=params, bounds=bounds
                )
                written += 1
    finally:
        await db.dispose()
    return written
