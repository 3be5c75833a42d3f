"""One call for a change to a replicated aggregate: bump its version, append its event to the outbox and
its audit record (with the event that replicates the audit row), in the caller's transaction.

A service makes one `ChangeLog` (its schema, service name, audit table and how an audit row travels)
and writes every change through it::

    CHANGES = ChangeLog(schema=SCHEMA, service="customer", audit_model=Audit, audit_event=audit_recorded)

    row = await lock(session, Customer, customer_id)        # lock first, then judge the committed row
    ...                                                       # rules; mutate the row
    await CHANGES.record_change(session, row, aggregate_type="customer", actor=..., action="update",
                                changes=diff(before, after), event=lambda c: CustomerUpdated(...))

`record_change` bumps ``version`` and ``updated_at`` (unless ``created=True``: a new row starts at its
version), flushes, then builds the event from the row as stored, so the event carries the version the
replicas compare. Events are deferred (`outbox.add_event(defer=True)`): a request's events go out in one
INSERT at commit. Bulk writers (import, seed) build the same events with `outbox.build_event` and the
service's shared event builders, and COPY them (`outbox.copy_rows`); docs/service-kit.md.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_platform.audit import AuditMixin, jsonable
from kam_platform.ids import uuid7
from kam_platform.observability import request_id_var
from kam_platform.outbox import add_event


class Versioned(Protocol):
    """What a replicated aggregate row offers (`kam_platform.db.ReplicatedMixin`)."""

    id: Any
    owner_node: Any
    version: Any
    updated_at: Any


T = TypeVar("T")

# builds the message that replicates one stored audit row (None: audit rows stay on the node)
AuditEvent = Callable[[Any], Message]


async def lock(session: AsyncSession, model: type[T], aggregate_id: uuid.UUID, *, live_only: bool = True) -> T | None:
    """The aggregate row as committed, under its row lock (``SELECT … FOR UPDATE``).

    populate_existing, because a copy already in the identity map would otherwise be handed back
    unchanged: the write would start from stale values and reuse a version that a concurrent writer has
    already committed. ``live_only`` skips soft-deleted rows (a ``deleted_at`` column)."""
    stmt = select(model).where(model.id == aggregate_id)  # type: ignore[attr-defined]
    deleted_at = getattr(model, "deleted_at", None)
    if live_only and deleted_at is not None:
        stmt = stmt.where(deleted_at.is_(None))
    stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


@dataclass(frozen=True)
class ChangeLog:
    """Where one service's changes go: its schema's outbox and audit table."""

    schema: str
    service: str
    audit_model: type[Any]  # the service's table of `AuditMixin`
    audit_event: AuditEvent | None = None

    async def emit(
        self,
        session: AsyncSession,
        *,
        node: str,
        aggregate_type: str,
        aggregate_id: uuid.UUID | str,
        version: int,
        message: Message,
        actor: str,
        down_scope: str | None = None,
    ) -> uuid.UUID:
        """Append one event (deferred: written with the transaction's other events at commit)."""
        return await add_event(
            session,
            schema=self.schema,
            node=node,
            service=self.service,
            aggregate_type=aggregate_type,
            aggregate_id=str(aggregate_id),
            version=version,
            message=message,
            actor=actor,
            down_scope=down_scope,
            defer=True,
        )

    def audit_row(
        self,
        *,
        node: str,
        entity_type: str,
        entity_id: uuid.UUID,
        action: str,
        actor: str,
        changes: dict[str, Any],
        note: str | None = None,
        at: datetime | None = None,
    ) -> AuditMixin:
        # the time is set here, not by the column default, so that the event carries the stored value
        # and every replica holds the same `at` as the owner
        row: AuditMixin = self.audit_model(
            # the id too: the audit row's event can be built before the row is flushed (record_created)
            id=uuid7(),
            at=at or datetime.now(UTC),
            owner_node=node,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            actor=actor,
            changes=jsonable(changes),
            request_id=request_id_var.get(),
            note=note,
        )
        return row

    async def audit(
        self,
        session: AsyncSession,
        *,
        node: str,
        entity_type: str,
        entity_id: uuid.UUID,
        action: str,
        actor: str,
        changes: dict[str, Any],
        note: str | None = None,
    ) -> AuditMixin:
        """Append an audit record (and, when audit rows replicate, its event)."""
        row = await self._append_audit(
            session,
            node=node,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            actor=actor,
            changes=changes,
            note=note,
        )
        await session.flush()
        return row

    async def _append_audit(
        self,
        session: AsyncSession,
        *,
        node: str,
        entity_type: str,
        entity_id: uuid.UUID,
        action: str,
        actor: str,
        changes: dict[str, Any],
        note: str | None,
    ) -> AuditMixin:
        """The audit row added to the session (not flushed) and its event appended."""
        row = self.audit_row(
            node=node,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            actor=actor,
            changes=changes,
            note=note,
        )
        session.add(row)
        if self.audit_event is not None:
            await self.emit(
                session,
                node=node,
                aggregate_type="audit",
                aggregate_id=row.id,
                version=1,
                actor=actor,
                message=self.audit_event(row),
            )
        return row

    async def record_change(
        self,
        session: AsyncSession,
        row: Versioned,
        *,
        aggregate_type: str,
        event: Message | Callable[[Any], Message],
        actor: str,
        action: str,
        changes: dict[str, Any],
        note: str | None = None,
        created: bool = False,
        at: datetime | None = None,
        entity_type: str | None = None,
        node: str | None = None,
        down_scope: str | None = None,
    ) -> AuditMixin:
        """Bump the aggregate's version (not for a row just ``created``), flush, append its event (built
        from the stored row when `event` is a callable) and the audit record. `row` must be held under
        its lock (`lock`) or be new in this transaction: the lock serialises versions. ``node`` is the
        node the event comes from (default: the row's owner; a transfer's is the previous owner)."""
        if not created:
            row.version += 1
            row.updated_at = at or datetime.now(UTC)
        await session.flush()
        audit = await self.record_created(
            session,
            row,
            aggregate_type=aggregate_type,
            event=event,
            actor=actor,
            action=action,
            changes=changes,
            note=note,
            entity_type=entity_type,
            node=node,
            down_scope=down_scope,
        )
        await session.flush()
        return audit

    async def record_created(
        self,
        session: AsyncSession,
        row: Versioned,
        *,
        aggregate_type: str,
        event: Message | Callable[[Any], Message],
        actor: str,
        action: str,
        changes: dict[str, Any],
        note: str | None = None,
        entity_type: str | None = None,
        node: str | None = None,
        down_scope: str | None = None,
    ) -> AuditMixin:
        """`record_change` for a row new in this transaction whose every column the caller has set (id,
        version, timestamps), without flushing: its event (built from the row as it will be stored)
        and its audit record are appended, and the caller's one flush writes the row, the audit
        record and whatever else it added together (the create hot path: one flush, not three)."""
        origin = node or row.owner_node
        await self.emit(
            session,
            node=origin,
            aggregate_type=aggregate_type,
            aggregate_id=row.id,
            version=row.version,
            message=event(row) if callable(event) else event,
            actor=actor,
            down_scope=down_scope,
        )
        return await self._append_audit(
            session,
            node=origin,
            entity_type=entity_type or aggregate_type,
            entity_id=row.id,
            action=action,
            actor=actor,
            changes=changes,
            note=note,
        )

    async def record_changes(
        self,
        session: AsyncSession,
        changes: Sequence[Change],
        *,
        aggregate_type: str,
        event: Callable[[Any], Message],
        actor: str,
        at: datetime | None = None,
    ) -> list[AuditMixin]:
        """`record_change` for many rows of one aggregate type (a scheduled job's batch, each row held
        under its lock) in two flushes instead of two per row: every version bumped and written, then
        every row's event built from the stored row and every audit record written together (and
        their events). Same rows, versions, events and audit records as one call per row."""
        if not changes:
            return []
        for c in changes:
            c.row.version += 1
            c.row.updated_at = at or datetime.now(UTC)
        await session.flush()
        for c in changes:
            await self.emit(
                session,
                node=c.row.owner_node,
                aggregate_type=aggregate_type,
                aggregate_id=c.row.id,
                version=c.row.version,
                message=event(c.row),
                actor=actor,
            )
        audits = [
            self.audit_row(
                node=c.row.owner_node,
                entity_type=aggregate_type,
                entity_id=c.row.id,
                action=c.action,
                actor=actor,
                changes=c.changes,
                note=c.note,
            )
            for c in changes
        ]
        session.add_all(audits)
        await session.flush()
        if self.audit_event is not None:
            for row in audits:
                await self.emit(
                    session,
                    node=row.owner_node,
                    aggregate_type="audit",
                    aggregate_id=row.id,
                    version=1,
                    actor=actor,
                    message=self.audit_event(row),
                )
        return audits


@dataclass(frozen=True)
class Change:
    """One row's change for `ChangeLog.record_changes`: the row (mutated, under its lock), the audit
    action, the changed fields (`kam_platform.audit.diff`) and a note."""

    row: Versioned
    action: str
    changes: dict[str, Any]
    note: str | None = None


def audit_changes_json(row: AuditMixin) -> str:
    """An audit row's changes as the JSON text the AuditRecorded events carry."""
    return json.dumps(row.changes, ensure_ascii=False)
