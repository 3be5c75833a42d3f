"""Outbox events of org units: full state and version (replicated up the tree), written through the org
`ChangeLog` (`kam_org.audit.service.CHANGES`)."""

from __future__ import annotations

from kam_contracts import org_pb2
from kam_org.models import OrgUnit
from kam_platform.outbox import ts


def org_unit_state(unit: OrgUnit) -> org_pb2.OrgUnitChanged:
    return org_pb2.OrgUnitChanged(
        id=str(unit.id),
        owner_node=unit.owner_node,
        version=unit.version,
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        parent_id=str(unit.parent_id or ""),
        updated_at=ts(unit.updated_at),
        created_at=ts(unit.created_at),
    )


def org_unit_deleted(unit: OrgUnit) -> org_pb2.OrgUnitDeleted:
    """The deletion, one version past the last state (the row is gone after it)."""
    return org_pb2.OrgUnitDeleted(id=str(unit.id), owner_node=unit.owner_node, version=unit.version + 1, code=unit.code)
