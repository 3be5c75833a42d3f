"""Apply replicated org events at the ancestors (read-only copies of the subtree's org records, kept by
version).

Org records flow up only (``up.<node>.org.{org_unit,staff,team,audit}…``): an ancestor holds its own
records plus replicas of its subtree's, so the group sees national staff. Every upsert replaces only an
older version; a replica of another node's staff holds no password hash (hashes never leave the node),
so it cannot log in here. Roles are the federation's shared catalogue (not node-owned): a replica's
roles are linked by code to this node's roles of the same code. `OrgApplier.claims` tells the
platform's integrity check what each event writes and whom it says owns it; an event type not listed
there is refused.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import customer_pb2, org_pb2
from kam_org.models import Audit, OrgUnit, Role, Staff, StaffRole, Team, TeamMember
from kam_org.replication import snapshot
from kam_platform.outbox import from_ts
from kam_platform.replication import (
    RESYNC_REQUESTED,
    Claim,
    Event,
    Refused,
    newest_per_aggregate,
    replaces_equal,
    resync_claims,
    upsert_newest,
)
from kam_platform.settings import Settings
from kam_platform.snapshot import answer_resync

log = logging.getLogger("kam.org.replication")

# event type → (payload class, the aggregate type (= table) it writes)
_EVENTS: dict[str, tuple[type[Message], str]] = {
    "kam.v1.OrgUnitChanged": (org_pb2.OrgUnitChanged, "org_unit"),
    "kam.v1.OrgUnitDeleted": (org_pb2.OrgUnitDeleted, "org_unit"),
    "kam.v1.StaffChanged": (org_pb2.StaffChanged, "staff"),
    "kam.v1.TeamChanged": (org_pb2.TeamChanged, "team"),
    "kam.v1.TeamDeleted": (org_pb2.TeamDeleted, "team"),
    "kam.v1.AuditRecorded": (customer_pb2.AuditRecorded, "audit"),
}


def _uuid(value: str) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def org_unit_row(u: org_pb2.OrgUnitChanged) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(u.id),
        "owner_node": u.owner_node,
        "version": u.version,
        "code": u.code,
        "name": u.name,
        "kind": u.kind,
        "parent_id": _uuid(u.parent_id),
        "created_at": from_ts(u.created_at) or now,
        "updated_at": from_ts(u.updated_at) or now,
    }


def staff_row(s: org_pb2.StaffChanged) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {  # no password_hash: NULL on a replica, and never overwritten
        "id": uuid.UUID(s.id),
        "owner_node": s.owner_node,
        "version": s.version,
        "username": s.username,
        "display_name": s.display_name,
        "phone": s.phone or None,
        "email": s.email or None,
        "org_unit_id": _uuid(s.org_unit_id),
        "is_active": s.is_active,
        "created_at": from_ts(s.created_at) or now,
        "updated_at": from_ts(s.updated_at) or now,
    }


def team_row(t: org_pb2.TeamChanged) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": uuid.UUID(t.id),
        "owner_node": t.owner_node,
        "version": t.version,
        "code": t.code,
        "name": t.name,
        "kind": t.kind,
        "description": t.description,
        "org_unit_id": _uuid(t.org_unit_id),
        "leader_id": _uuid(t.leader_id),
        "created_at": from_ts(t.created_at) or now,
        "updated_at": from_ts(t.updated_at) or now,
    }


def audit_row(a: customer_pb2.AuditRecorded) -> dict[str, Any]:
    return {
        "id": uuid.UUID(a.id),
        "owner_node": a.owner_node,
        "entity_type": a.entity_type,
        "entity_id": uuid.UUID(a.entity_id),
        "action": a.action,
        "actor": a.actor,
        "at": from_ts(a.at) or datetime.now(UTC),
        "changes": json.loads(a.changes_json or "{}"),
        "request_id": a.request_id or None,
        "note": a.note or None,
    }


async def _apply_deletes(session: AsyncSession, model: Any, items: list[tuple[Event, uuid.UUID, int]]) -> None:
    """Delete where the stored version is older (or, for the owner's snapshot, older or equal)."""
    table: Table = model.__table__
    for ev, row_id, version in items:
        newer = (table.c.version <= version) if replaces_equal(ev) else (table.c.version < version)
        await session.execute(table.delete().where(table.c.id == row_id, newer))


class OrgApplier:
    """The apply callback of the org service's replication consumers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topology = settings.topology
        self.node = settings.node

    def claims(self, ev: Event) -> list[Claim] | None:
        """The records `ev` writes and the owners its payload claims (checked by the platform's `Screen`
        before `__call__` sees the event); None for a type this applier does not know."""
        etype = ev.event_type
        if etype == RESYNC_REQUESTED:
            return resync_claims(ev)
        known = _EVENTS.get(etype)
        if known is None:
            return None
        cls, table = known
        if not ev.subject.startswith("up.") and not ev.envelope.restore:
            # (a restore copy comes down from the parent of a node restored from a backup; the `Screen`
            # applies it only within the receiving node's subtree)
            raise Refused(f"{etype} on {ev.subject}: org records flow up the tree only")
        if ev.envelope.aggregate_type != table:
            raise Refused(f"{etype} writes {table}, but the envelope names a {ev.envelope.aggregate_type}")
        msg: Any = ev.payload_as(cls)
        version = None if table == "audit" else int(msg.version)
        return [Claim(table, uuid.UUID(msg.id), msg.owner_node, version)]

    async def __call__(self, session: AsyncSession, events: Sequence[Event]) -> None:
        # rows with the event that carried them: an owner's snapshot replaces an equal version too
        units: list[tuple[Event, dict[str, Any]]] = []
        unit_deletes: list[tuple[Event, uuid.UUID, int]] = []
        staff: list[tuple[Event, dict[str, Any]]] = []
        staff_roles: dict[uuid.UUID, list[str]] = {}
        teams: list[tuple[Event, dict[str, Any]]] = []
        team_members: dict[uuid.UUID, list[uuid.UUID]] = {}
        team_deletes: list[tuple[Event, uuid.UUID, int]] = []
        audits: list[dict[str, Any]] = []
        resyncs: list[Event] = []
        for ev in newest_per_aggregate(events):
            etype = ev.event_type
            if etype == "kam.v1.OrgUnitChanged":
                units.append((ev, org_unit_row(ev.payload_as(org_pb2.OrgUnitChanged))))
            elif etype == "kam.v1.OrgUnitDeleted":
                d = ev.payload_as(org_pb2.OrgUnitDeleted)
                unit_deletes.append((ev, uuid.UUID(d.id), d.version))
            elif etype == "kam.v1.StaffChanged":
                s = ev.payload_as(org_pb2.StaffChanged)
                staff.append((ev, staff_row(s)))
                staff_roles[uuid.UUID(s.id)] = list(s.roles)
            elif etype == "kam.v1.TeamChanged":
                t = ev.payload_as(org_pb2.TeamChanged)
                teams.append((ev, team_row(t)))
                team_members[uuid.UUID(t.id)] = [uuid.UUID(m) for m in t.member_ids]
            elif etype == "kam.v1.TeamDeleted":
                d2 = ev.payload_as(org_pb2.TeamDeleted)
                team_deletes.append((ev, uuid.UUID(d2.id), d2.version))
            elif etype == "kam.v1.AuditRecorded":
                audits.append(audit_row(ev.payload_as(customer_pb2.AuditRecorded)))
            elif etype == RESYNC_REQUESTED:
                resyncs.append(ev)
        await upsert_newest(session, OrgUnit, units)
        await _apply_deletes(session, OrgUnit, unit_deletes)
        written = await upsert_newest(session, Staff, staff)
        await self._set_roles(session, {k: v for k, v in staff_roles.items() if k in written})
        written = await upsert_newest(session, Team, teams)
        await self._set_members(session, {k: v for k, v in team_members.items() if k in written})
        await _apply_deletes(session, Team, team_deletes)
        if audits:
            await session.execute(insert(Audit).on_conflict_do_nothing(), audits)
        for ev in resyncs:
            await self._resync(session, ev)

    async def _set_roles(self, session: AsyncSession, roles: dict[uuid.UUID, list[str]]) -> None:
        if not roles:
            return
        codes = sorted({c for cs in roles.values() for c in cs})
        rows_found = await session.execute(select(Role.code, Role.id).where(Role.code.in_(codes)))
        ids = {code: role_id for code, role_id in rows_found}
        unknown = sorted(set(codes) - set(ids))
        if unknown:  # a role defined at the owner only: the replica lists the roles this node knows
            log.warning("replicated staff hold roles unknown at %s: %s", self.node, ", ".join(unknown))
        await session.execute(delete(StaffRole).where(StaffRole.staff_id.in_(list(roles))))
        rows = [{"staff_id": s, "role_id": ids[c]} for s, cs in roles.items() for c in set(cs) if c in ids]
        if rows:
            await session.execute(insert(StaffRole), rows)

    async def _set_members(self, session: AsyncSession, members: dict[uuid.UUID, list[uuid.UUID]]) -> None:
        if not members:
            return
        await session.execute(delete(TeamMember).where(TeamMember.team_id.in_(list(members))))
        rows = [{"team_id": t, "staff_id": s} for t, ss in members.items() for s in set(ss)]
        if rows:
            await session.execute(insert(TeamMember), rows)

    async def _resync(self, session: AsyncSession, ev: Event) -> None:
        """The resync's origin and every node below it republish their own records up (an ancestor that
        was away, or joined late, catches up by snapshot); the parent of a node restored from a backup
        sends it its replicas of the node's subtree's records. Org publishes no reference data down."""
        await answer_resync(
            session,
            self.settings,
            ev,
            own=lambda s, owners, restore: snapshot.republish_own(s, self.settings, owners, restore),
        )
