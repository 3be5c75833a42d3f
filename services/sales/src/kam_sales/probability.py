"""What the sales service asks of the rules: stage probabilities (商机阶段概率, ``opportunity_probability``)
and contract expiry offsets (``reminder``) in force at a node, asked of
the node's rules service through its published client (`kam_rules.client`) with the caller's token;
and quote discount approval thresholds (``quote_discount_approval``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fastapi import Request

from kam_platform.settings import Settings
from kam_platform.tmf import base_url
from kam_rules.client import RulesClient

KIND = "opportunity_probability"
STAGES = ("LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST")
# only when no rule of the kind is published at or above the node (the rules seed publishes one at the
# group); the opportunity records "default" as its probability rule then
DEFAULT_PROBABILITIES = {"LEAD": 10, "QUALIFIED": 25, "PROPOSAL": 50, "NEGOTIATION": 75, "WON": 100, "LOST": 0}


@dataclass(frozen=True)
class Asker:
    """How to ask the rules service on the caller's behalf."""

    client: RulesClient
    token: str


def asker(request: Request, settings: Settings) -> Asker:
    """`app.state.rules_client` when the app was given one (tests, a sidecar), else the node's public URL,
    else the node address the caller used (every node routes `/api/v1/rules`)."""
    given = getattr(request.app.state, "rules_client", None)
    client = given if isinstance(given, RulesClient) else RulesClient(settings.public_url or base_url(request))
    auth = request.headers.get("authorization", "")
    return Asker(client, auth.removeprefix("Bearer ").removeprefix("bearer ").strip())


async def stage_probabilities(ask: Asker, *, node: str, on: date) -> tuple[dict[str, int], str]:
    """(percent by stage, "<rule set id>@<version>" or "default")."""
    rule = await ask.client.effective(KIND, node=node, on=on, token=ask.token)
    if rule is None:
        return dict(DEFAULT_PROBABILITIES), "default"
    stages = {k: int(v) for k, v in rule.parameters.get("stages", {}).items()}
    return {s: stages.get(s, DEFAULT_PROBABILITIES[s]) for s in STAGES}, f"{rule.id}@{rule.version}"


REMINDER_KIND = "reminder"
# only when no reminder rule is in force (the rules seed publishes 90/60/30 at the group), and for the
# in-process schedule, which has no identity to ask the rules service with yet
DEFAULT_EXPIRY_OFFSETS = (90, 60, 30)


async def expiry_offsets(ask: Asker | None, *, node: str, on: date) -> tuple[tuple[int, ...], str]:
    """(contract expiry reminder offsets in days, largest first; the rule that gave them)."""
    if ask is None:
        return DEFAULT_EXPIRY_OFFSETS, "default"
    rule = await ask.client.effective(REMINDER_KIND, node=node, on=on, token=ask.token)
    if rule is None:
        return DEFAULT_EXPIRY_OFFSETS, "default"
    days = tuple(sorted({int(d) for d in rule.parameters.get("contractExpiryDays", [])}, reverse=True))
    return (days or DEFAULT_EXPIRY_OFFSETS), f"{rule.id}@{rule.version}"


DISCOUNT_KIND = "quote_discount_approval"
# only when no rule of the kind is published at or above the node (the rules seed publishes 10/30 at
# the group): a discount above 10% needs the manager's approval, none above 30%
DEFAULT_DISCOUNT = (Decimal(10), Decimal(30))


async def discount_thresholds(ask: Asker, *, node: str, on: date) -> tuple[Decimal, Decimal, str]:
    """(approval threshold percent, maximum percent, the rule that gave them)."""
    rule = await ask.client.effective(DISCOUNT_KIND, node=node, on=on, token=ask.token)
    if rule is None:
        return (*DEFAULT_DISCOUNT, "default")
    p = rule.parameters
    threshold = Decimal(str(p.get("thresholdPercent", DEFAULT_DISCOUNT[0])))
    return threshold, Decimal(str(p.get("maxPercent", DEFAULT_DISCOUNT[1]))), f"{rule.id}@{rule.version}"
