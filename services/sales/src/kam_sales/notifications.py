"""The sales service's notification inbox (消息中心, `kam_platform.notify`): what its jobs deliver —
contract expiry reminders and due opportunity follow-ups — at `/api/v1/sales/notifications`."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request

from kam_platform.notify import Notifier
from kam_sales.clock import Clock
from kam_sales.models import Notification

NOTIFICATIONS = Notifier(Notification, service="sales")


async def now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


router = NOTIFICATIONS.router(now=now)
