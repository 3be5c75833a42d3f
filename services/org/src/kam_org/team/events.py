"""Outbox events of teams: full state and version (replicated up the tree), written through the org
`ChangeLog` (`kam_org.audit.service.CHANGES`)."""

from __future__ import annotations

import uuid

from kam_contracts import org_pb2
from kam_org.models import Team
from kam_platform.outbox import ts


def team_state(team: Team, members: list[uuid.UUID]) -> org_pb2.TeamChanged:
    return org_pb2.TeamChanged(
        id=str(team.id),
        owner_node=team.owner_node,
        version=team.version,
        code=team.code,
        name=team.name,
        kind=team.kind,
        description=team.description,
        org_unit_id=str(team.org_unit_id or ""),
        leader_id=str(team.leader_id or ""),
        member_ids=[str(m) for m in members],
        updated_at=ts(team.updated_at),
        created_at=ts(team.created_at),
    )


def team_deleted(team: Team) -> org_pb2.TeamDeleted:
    """The deletion, one version past the last state (the row is gone after it)."""
    return org_pb2.TeamDeleted(id=str(team.id), owner_node=team.owner_node, version=team.version + 1, code=team.code)
