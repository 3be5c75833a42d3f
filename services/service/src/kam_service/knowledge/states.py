"""The knowledge base's vocabulary: item kinds and the review lifecycle draft → reviewed → published →
retired (a published item is revised back to a draft of its next revision)."""

from __future__ import annotations

from enum import StrEnum


class ItemKind(StrEnum):
    PRODUCT_SPEC = "PRODUCT_SPEC"  # 产品规格
    SOLUTION_CASE = "SOLUTION_CASE"  # 方案案例
    POLICY = "POLICY"  # 政策
    COMPETITOR = "COMPETITOR"  # 竞争情报
    FAQ = "FAQ"  # 常见问题


class ItemStatus(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"
    PUBLISHED = "published"
    RETIRED = "retired"


class ContributionStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    WITHDRAWN = "WITHDRAWN"


# action → (statuses it starts from, status it enters)
ACTIONS: dict[str, tuple[frozenset[ItemStatus], ItemStatus]] = {
    "review": (frozenset({ItemStatus.DRAFT}), ItemStatus.REVIEWED),
    "publish": (frozenset({ItemStatus.REVIEWED}), ItemStatus.PUBLISHED),
    "retire": (frozenset({ItemStatus.DRAFT, ItemStatus.REVIEWED, ItemStatus.PUBLISHED}), ItemStatus.RETIRED),
    "revise": (frozenset({ItemStatus.PUBLISHED}), ItemStatus.DRAFT),
}
