"""The forecast (销售预测): pipeline, weighted pipeline (stage probability) and committed (won) amounts of
the opportunities in scope closing in a period, by node — each line one child of the node asked for
(its whole subtree rolled up: local network → province → group) — or by account manager."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.auth import Principal
from kam_platform.errors import Forbidden, ValidationFailed
from kam_platform.settings import Settings
from kam_sales.probability import STAGES

from .repository import ForecastRepository

CENT = Decimal("0.01")


def _rollup_key(settings: Settings, node: str, owner: str) -> str | None:
    """The line an owner's figures go to: `node` itself, or the child of `node` whose subtree holds it."""
    topo = settings.topology
    if owner == node:
        return node
    for child in topo.children(node):
        if topo.is_in_subtree(owner, child):
            return child
    return None


async def forecast(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    node: str | None,
    start: date,
    end: date,
    by: str,
) -> tuple[str, list[dict[str, Any]]]:
    topo = settings.topology
    target = node or principal.scope_node
    if target not in topo:
        raise ValidationFailed(f"node: unknown node {target!r}", field="node")
    if not topo.is_in_subtree(target, principal.scope_node):
        raise Forbidden(f"node {target} is outside your scope {principal.scope_node}")
    if end <= start:
        raise ValidationFailed("end: the period ends after it starts", field="end")
    if (end - start).days > 3 * 366:
        raise ValidationFailed("end: a forecast period is at most three years", field="end")
    rows = await ForecastRepository.from_session(session).totals(
        principal, topo, start, end, by_manager=by == "accountManager"
    )
    lines: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if by == "accountManager":
            key: str | None = r["key"]
        else:
            key = _rollup_key(settings, target, r["key"])
        if key is None:
            continue
        line = lines.setdefault(
            (key, r["currency"]),
            {
                "key": key,
                "currency": r["currency"],
                "open_count": 0,
                "won_count": 0,
                "pipeline": Decimal(0),
                "weighted": Decimal(0),
                "committed": Decimal(0),
            },
        )
        for k in ("open_count", "won_count", "pipeline", "weighted", "committed"):
            line[k] += r[k]
    if by == "node":
        # every child of the node gets a line, empty or not (a funnel per province / local network)
        for child in [target, *topo.children(target)]:
            if not any(k == child for k, _ in lines):
                lines[(child, "CNY")] = {
                    "key": child,
                    "currency": "CNY",
                    "open_count": 0,
                    "won_count": 0,
                    "pipeline": Decimal(0),
                    "weighted": Decimal(0),
                    "committed": Decimal(0),
                }
    out = sorted(lines.values(), key=lambda x: (x["key"], x["currency"]))
    for line in out:
        for k in ("pipeline", "weighted", "committed"):
            line[k] = line[k].quantize(CENT)
    return target, out


async def funnel(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    start: date | None,
    end: date | None,
) -> list[dict[str, Any]]:
    """The pipeline by stage (销售漏斗) in the caller's scope: every stage in order, its deals and their
    expected amount per currency — one aggregate query, the kanban's column counts and the funnel chart."""
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("end: the period ends after it starts", field="end")
    rows = await ForecastRepository.from_session(session).funnel(principal, settings.topology, start, end)
    by_stage: dict[str, dict[str, Any]] = {s: {"stage": s, "count": 0, "amounts": {}} for s in STAGES}
    for r in rows:
        line = by_stage.setdefault(r["stage"], {"stage": r["stage"], "count": 0, "amounts": {}})
        line["count"] += r["count"]
        line["amounts"][r["currency"]] = Decimal(r["amount"]).quantize(CENT)
    return list(by_stage.values())
