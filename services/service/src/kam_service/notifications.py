"""The service service's notification inbox (消息中心, `kam_platform.notify`): what its jobs deliver — SLA
escalation steps and due care proposals — at `/api/v1/service/notifications`."""

from __future__ import annotations

from kam_platform.notify import Notifier
from kam_service.deps import get_now
from kam_service.models import Notification

NOTIFICATIONS = Notifier(Notification, service="service")
router = NOTIFICATIONS.router(now=get_now)
