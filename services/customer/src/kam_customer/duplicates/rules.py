"""How a pair of customers is scored as a possible duplicate: each matching signal has a weight (its
precision on real data, roughly), and independent signals combine as 1 − Π(1 − w)."""

from __future__ import annotations

from collections.abc import Iterable

WEIGHTS = {
    "creditCode": 90,  # 统一社会信用代码: the same legal entity
    "name": 70,  # the same normalised name (width, case, punctuation, legal form, branch words folded)
    "phone": 40,  # a contact phone number shared by both
    "address": 30,  # the same normalised address
}
REASONS = {
    "creditCode": "统一社会信用代码相同 (same credit code)",
    "name": "规范化名称相同 (same normalised name)",
    "phone": "联系人电话相同 (a shared contact phone)",
    "address": "地址相同 (same address)",
}


def score(signals: Iterable[str]) -> int:
    miss = 1.0
    for s in set(signals):
        miss *= 1 - WEIGHTS[s] / 100
    return round(100 * (1 - miss))


def reasons(signals: Iterable[str]) -> list[dict[str, object]]:
    return [
        {"signal": s, "weight": WEIGHTS[s], "reason": REASONS[s]}
        for s in sorted(set(signals), key=lambda s: WEIGHTS[s], reverse=True)
    ]
