"""SLA clocks: minutes counted on a business calendar (working hours by weekday, holidays, make-up
working days, in the node's time zone) or around the clock (7×24). Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ROUND_THE_CLOCK = "24x7"
BUSINESS = "business"
# a calendar with working time at all finds it within a year; more is a configuration error
MAX_DAYS = 3 * 366

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_HOURS: dict[str, list[list[str]]] = {str(d): [["09:00", "12:00"], ["13:30", "18:00"]] for d in range(1, 6)}


class Clock:
    """How SLA minutes pass: `add(start, minutes)` → the instant; `between(a, b)` → minutes counted."""

    def add(self, start: datetime, minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    def between(self, a: datetime, b: datetime) -> int:
        return max(0, int((b - a).total_seconds() // 60))


ALWAYS = Clock()


def _parse_time(value: str) -> time:
    hh, _, mm = value.partition(":")
    if value == "24:00":
        return time.max
    return time(int(hh), int(mm))


@dataclass(frozen=True)
class WorkCalendar(Clock):
    """Working hours by ISO weekday (1 = Monday), holidays (no working time) and make-up working days
    (调休: worked with Monday's hours although a weekend)."""

    tz: ZoneInfo
    hours: Mapping[int, Sequence[tuple[time, time]]]
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @classmethod
    def from_data(
        cls,
        *,
        timezone: str,
        hours: Mapping[str, Sequence[Sequence[str]]],
        holidays: Sequence[str],
        workdays: Sequence[str],
    ) -> WorkCalendar:
        """From the stored form (validated by the calendar's API schema)."""
        parsed = {
            int(day): [(_parse_time(a), _parse_time(b)) for a, b in intervals] for day, intervals in hours.items()
        }
        return cls(
            tz=ZoneInfo(timezone),
            hours=parsed,
            holidays=frozenset(date.fromisoformat(d) for d in holidays),
            workdays=frozenset(date.fromisoformat(d) for d in workdays),
        )

    def intervals(self, day: date) -> Sequence[tuple[time, time]]:
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.hours.get(1, ())
        return self.hours.get(day.isoweekday(), ())

    def _windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (UTC) from `start` on, in order, clipped to begin no earlier than `start`."""
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(MAX_DAYS):
            for a, b in self.intervals(day):
                lo = datetime.combine(day, a, self.tz).astimezone(UTC)
                hi = (
                    datetime.combine(day + timedelta(days=1), time.min, self.tz)
                    if b == time.max
                    else datetime.combine(day, b, self.tz)
                ).astimezone(UTC)
                if hi <= start:
                    continue
                yield max(lo, start), hi
            day += timedelta(days=1)
        raise ValueError(f"the business calendar has no working time within {MAX_DAYS} days")

    def add(self, start: datetime, minutes: int) -> datetime:
        left = timedelta(minutes=minutes)
        if left <= timedelta(0):
            return start
        for lo, hi in self._windows(start):
            if hi - lo >= left:
                return lo + left
            left -= hi - lo
        raise AssertionError("unreachable")  # _windows raises first

    def between(self, a: datetime, b: datetime) -> int:
        if b <= a:
            return 0
        total = timedelta(0)
        for lo, hi in self._windows(a):
            if lo >= b:
                break
            total += min(hi, b) - lo
        return int(total.total_seconds() // 60)


def clock_name_is_business(name: str | None) -> bool:
    return name == BUSINESS
