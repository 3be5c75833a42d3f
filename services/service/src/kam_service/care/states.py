"""Kinds of care and the life of a care activity."""

from __future__ import annotations

from enum import StrEnum


class CareKind(StrEnum):
    BIRTHDAY_GREETING = "BIRTHDAY_GREETING"  # 生日祝福 (a contact's birthday)
    HOLIDAY_GREETING = "HOLIDAY_GREETING"  # 节日问候
    EXECUTIVE_VISIT = "EXECUTIVE_VISIT"  # 高层拜访
    VIP_EVENT = "VIP_EVENT"  # VIP 活动


class CareStatus(StrEnum):
    PROPOSED = "PROPOSED"  # by the daily job, waiting for the account manager
    PLANNED = "PLANNED"
    DONE = "DONE"  # with cost and feedback
    CANCELLED = "CANCELLED"


TRANSITIONS: dict[CareStatus, frozenset[CareStatus]] = {
    CareStatus.PROPOSED: frozenset({CareStatus.PLANNED, CareStatus.DONE, CareStatus.CANCELLED}),
    CareStatus.PLANNED: frozenset({CareStatus.DONE, CareStatus.CANCELLED}),
    CareStatus.DONE: frozenset(),
    CareStatus.CANCELLED: frozenset(),
}
