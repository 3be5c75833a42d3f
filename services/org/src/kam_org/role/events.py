"""Outbox events of roles. Roles are the federation's shared catalogue, keyed by code: the event's
aggregate is the code and its origin the writing node (a role row has no owner node), so they are not
written by `ChangeLog.record_change`; their audit goes through the org `ChangeLog`
(`kam_org.audit.service.CHANGES.audit`). Written at once, not deferred: the permission registry reads
them back in its transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts import org_pb2
from kam_org.api import Caller
from kam_org.models import SCHEMA, Role
from kam_platform.outbox import add_event, ts


async def role_changed(session: AsyncSession, *, caller: Caller, role: Role, permissions: list[str]) -> None:
    msg = org_pb2.RoleChanged(
        code=role.code,
        owner_node=caller.node,
        version=role.version,
        name_zh=role.name_zh,
        name_en=role.name_en,
        description=role.description,
        permissions=permissions,
        updated_at=ts(role.updated_at),
    )
    await add_event(
        session,
        schema=SCHEMA,
        node=caller.node,
        service="org",
        aggregate_type="role",
        aggregate_id=role.code,
        version=role.version,
        message=msg,
        actor=caller.actor,
    )


async def role_deleted(session: AsyncSession, *, caller: Caller, role: Role) -> None:
    msg = org_pb2.RoleDeleted(code=role.code, owner_node=caller.node, version=role.version + 1)
    await add_event(
        session,
        schema=SCHEMA,
        node=caller.node,
        service="org",
        aggregate_type="role",
        aggregate_id=role.code,
        version=role.version + 1,
        message=msg,
        actor=caller.actor,
    )
