"""The sales audit trail replicates up: every audited write puts a kam.v1.AuditRecorded event on the
owner's upward subject, an ancestor inserts each row once (a redelivery changes nothing), and an audit
event arriving from above is refused."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kam_contracts import envelope_pb2
from kam_platform.outbox import build_event
from kam_platform.replication import Event, Refused
from kam_sales.audit import AUDIT_TRAIL
from kam_sales.models import Audit, Outbox

Auth = Callable[..., dict[str, str]]


def _event(row: Audit, *, scope: str | None) -> Event:
    _, subject, _, payload = build_event(
        node=row.owner_node,
        service="sales",
        aggregate_type="audit",
        aggregate_id=str(row.id),
        version=1,
        message=AUDIT_TRAIL.to_message(row),
        actor=row.actor,
        down_scope=scope,
    )
    return Event(envelope_pb2.Envelope.FromString(payload), subject, "UP_gd-gz" if scope is None else "DOWN_gd")


async def test_audited_writes_travel_up_and_apply_once(
    clients: dict[str, httpx.AsyncClient], auth: Auth, rollback_conn: AsyncConnection
) -> None:
    body = {"customer": {"id": str(uuid.UUID(int=5))}, "subject": "走访", "plannedAt": "2026-12-30T10:00:00+08:00"}
    r = await clients["gd-gz"].post("/api/v1/sales/visits", json=body, headers=auth("gd-gz"))
    assert r.status_code == 201, r.text
    async with AsyncSession(bind=rollback_conn, join_transaction_mode="create_savepoint") as s:
        audit = (await s.scalars(select(Audit).where(Audit.entity_id == uuid.UUID(r.json()["id"])))).one()
        subjects = (
            await s.scalars(
                select(Outbox.subject).where(
                    Outbox.event_type == "kam.v1.AuditRecorded", Outbox.aggregate_id == str(audit.id)
                )
            )
        ).all()
        assert subjects == [f"up.gd-gz.sales.audit.{audit.id}"]

        # at the province: a row from below is inserted once, however often it is delivered
        row = Audit(
            id=uuid.uuid4(),
            owner_node="gd-gz",
            entity_type="visit",
            entity_id=uuid.uuid4(),
            action="create",
            actor="am1",
            at=datetime(2027, 1, 1, tzinfo=UTC),
            changes={"subject": [None, "走访"]},
        )
        ev = _event(row, scope=None)
        assert [(c.table, c.owner) for c in AUDIT_TRAIL.claims(ev)] == [("audit", "gd-gz")]
        for _ in range(2):
            await AUDIT_TRAIL.apply(s, [ev])
        count = await s.scalar(select(func.count()).select_from(Audit).where(Audit.id == row.id))
        assert count == 1
        with pytest.raises(Refused):
            AUDIT_TRAIL.claims(_event(row, scope="gd-gz"))
        await s.rollback()
