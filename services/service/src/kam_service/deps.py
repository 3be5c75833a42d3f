"""Request dependencies of the service app: the injectable clock (tests move time), the lookups of
other services, and the caller's bearer token (passed on to them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from kam_service.lookups import Lookups

ClockFn = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


async def get_now(request: Request) -> datetime:
    clock: ClockFn = request.app.state.clock
    return clock()


async def get_lookups(request: Request) -> Lookups:
    lookups: Lookups = request.app.state.lookups
    return lookups


async def get_token(request: Request) -> str:
    # the principal dependency has already refused a request without a valid bearer token
    return request.headers.get("authorization", "").partition(" ")[2].strip()


Now = Annotated[datetime, Depends(get_now)]
LookupsDep = Annotated[Lookups, Depends(get_lookups)]
Token = Annotated[str, Depends(get_token)]
