"""Where the sales service's changes go: its schema's outbox and audit table (`kam_platform.changes`),
each audit row with the event that replicates it up (`kam_sales.audit`)."""

from __future__ import annotations

from kam_platform.changes import ChangeLog
from kam_sales.audit import audit_recorded
from kam_sales.models import SCHEMA, Audit

CHANGES = ChangeLog(schema=SCHEMA, service="sales", audit_model=Audit, audit_event=audit_recorded)
