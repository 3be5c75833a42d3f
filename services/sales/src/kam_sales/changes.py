"""Where the sales service's changes go: its schema's outbox and audit table (`kam_platform.changes`)."""

from __future__ import annotations

from kam_platform.changes import ChangeLog
from kam_sales.models import SCHEMA, Audit

CHANGES = ChangeLog(schema=SCHEMA, service="sales", audit_model=Audit)
