"""Outbox events of staff: the full state after the change and its version (state transfer, applied by
version at the ancestors); never the password hash. Written through the org `ChangeLog`
(`kam_org.audit.service.CHANGES.record_change`) with the stored row."""

from __future__ import annotations

from kam_contracts import org_pb2
from kam_org.models import Staff
from kam_platform.outbox import ts


def staff_state(staff: Staff, roles: list[str]) -> org_pb2.StaffChanged:
    return org_pb2.StaffChanged(
        id=str(staff.id),
        owner_node=staff.owner_node,
        version=staff.version,
        username=staff.username,
        display_name=staff.display_name,
        org_unit_id=str(staff.org_unit_id or ""),
        roles=roles,
        is_active=staff.is_active,
        updated_at=ts(staff.updated_at),
        phone=staff.phone or "",
        email=staff.email or "",
        created_at=ts(staff.created_at),
    )
