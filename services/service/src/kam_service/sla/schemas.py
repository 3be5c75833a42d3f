"""The business calendar's API body (营业时间: working hours by ISO weekday, holidays, make-up days)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from kam_platform.api import ApiModel, ReadModel

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
Interval = Annotated[list[Annotated[str, Field(max_length=5)]], Field(min_length=2, max_length=2)]


class CalendarBody(ApiModel):
    timezone: Annotated[str, Field(max_length=64)] = "Asia/Shanghai"
    hours: Annotated[
        dict[str, Annotated[list[Interval], Field(max_length=6)]],
        Field(description='ISO weekday ("1" = Monday … "7") → working intervals [["09:00", "12:00"], …]'),
    ]
    holidays: Annotated[list[date], Field(default_factory=list, max_length=400)]
    workdays: Annotated[
        list[date],
        Field(default_factory=list, max_length=100, description="make-up working days (调休), Monday's hours"),
    ]

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _hours(self) -> CalendarBody:
        for day, intervals in self.hours.items():
            if day not in {str(d) for d in range(1, 8)}:
                raise ValueError(f"hours: {day!r} is not an ISO weekday 1..7")
            last = "00:00"
            for a, b in intervals:
                if not HHMM.match(a) or not HHMM.match(b):
                    raise ValueError(f"hours.{day}: times are HH:MM, got {a!r}–{b!r}")
                if not last <= a < b:
                    raise ValueError(f"hours.{day}: intervals ascend and do not overlap ({a}–{b})")
                last = b
        if not any(self.hours.values()):
            raise ValueError("hours: a business calendar needs working time on at least one weekday")
        return self


class CalendarRead(ReadModel):
    node: str
    version: int
    timezone: str
    hours: dict[str, list[list[str]]]
    holidays: list[date]
    workdays: list[date]
    updated_at: datetime | None
    updated_by: str | None
