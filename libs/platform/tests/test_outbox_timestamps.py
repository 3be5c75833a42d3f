"""An event's timestamps (kam_platform.outbox.ts) are what protobuf's own `Timestamp.FromDatetime` makes,
for any aware or naive datetime, and read back (`from_ts`) as the same instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from kam_platform.outbox import from_ts, ts

BEIJING = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    "dt",
    [
        datetime(2026, 12, 7, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 12, 8, 7, 0, 0, 1, tzinfo=BEIJING),
        datetime(1965, 3, 1, 12, 30, 0, 500000, tzinfo=UTC),  # before the epoch: negative seconds
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 12, 7, 12, 0, 0, 250000),  # naive: local time, as astimezone reads it
    ],
)
def test_a_timestamp_is_what_protobuf_makes_of_the_datetime(dt: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(dt.astimezone(UTC))
    assert ts(dt) == expected
    # the epoch itself is the unset Timestamp, which reads back as no time at all
    assert from_ts(ts(dt)) == (None if ts(dt) == Timestamp() else dt.astimezone(UTC))


def test_without_a_datetime_it_is_now() -> None:
    before = datetime.now(UTC)
    at = from_ts(ts())
    assert at is not None and before <= at <= datetime.now(UTC)
