"""Tickets across the tree (TICKET_DISPATCH / TICKET_STATUS), one writer per record:

- the reporting node (hq or a province) dispatches its ticket: a directive it owns flows down its
  subtree, and its own ticket stops its clock (the handler holds the SLA from then on);
- the target node accepts the directive as its own ticket (same content, customer and SLA terms, so the
  customer gets one answer and one deadline), handled there like any other, flowing up as tickets do;
- the reporter mirrors each new version of the handler's ticket onto its own ticket (status, SLA facts,
  survey, and every step tagged with the handling node), so it sees every step where it works;
- the reporter may withdraw the directive (撤回) while the handler has not started on it (the handler's
  ticket, as last mirrored, is still acknowledged): the directive, WITHDRAWN, flows down, the target
  cancels its ticket (its step names the withdrawal) and the reporter handles its ticket again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.changes import lock
from kam_platform.errors import Conflict, ValidationFailed
from kam_platform.settings import Settings
from kam_service.assignment import service as assignment_service
from kam_service.lookups import Lookups
from kam_service.models import TicketDispatch, TroubleTicket
from kam_service.sla import terms
from kam_service.ticket import service as ticket_service
from kam_service.ticket.events import AGGREGATE, CHANGES, ticket_event, ticket_message, ticket_row
from kam_service.ticket.schemas import DispatchCreate, DispatchWithdraw
from kam_service.ticket.states import FINISHED, Status

from .events import DISPATCHES, handler_ticket_id

DISPATCHED = "DISPATCHED"
WITHDRAWN = "WITHDRAWN"
ACTOR = "system:dispatch"
# what the reporter takes over from the handler's ticket
MIRRORED = (
    "status",
    "handler",
    "responded_at",
    "resolved_at",
    "closed_at",
    "paused_since",
    "paused_minutes",
    "response_breached",
    "resolve_breached",
    "escalation_level",
    "reopen_count",
    "satisfaction_score",
    "satisfaction_comment",
)


async def dispatch(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    ticket_id: uuid.UUID,
    body: DispatchCreate,
    lookups: Lookups,
    token: str,
    now: datetime,
) -> TroubleTicket:
    """Dispatch the caller's ticket to a node below this one (default: the customer's owner node)."""
    t = await ticket_service.owned(session, settings, principal, ticket_id)
    if t.dispatched_to:
        raise Conflict(f"troubleTicket {t.id} is dispatched to {t.dispatched_to} already")
    if Status(t.status) in FINISHED or t.status == Status.RESOLVED.value:
        raise Conflict(f"troubleTicket {t.id} is {t.status}: nothing left to dispatch")
    target = body.to_node
    if target is None:
        target = (await lookups.customer(t.customer_id, token)).owner_node
    topology = settings.topology
    if target not in topology:
        raise ValidationFailed(f"toNode: no node {target!r} in the topology", field="toNode")
    if target == settings.node or not topology.is_in_subtree(target, settings.node):
        raise ValidationFailed(
            f"toNode: {target} is not below {settings.node}; a ticket is dispatched down the tree "
            "(handle it here when the customer is this node's own)",
            field="toNode",
        )
    d = TicketDispatch(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        ticket_id=t.id,
        target_node=target,
        status=DISPATCHED,
        reason=body.reason,
        ticket=ticket_message(t).ticket.SerializeToString(),
        actor=principal.username,
        valid_from=now.date(),
        valid_to=None,
        created_at=now,
        updated_at=now,
    )
    session.add(d)
    await session.flush()
    await DISPATCHES.publish(session, settings, d, actor=principal.username)
    before = {"dispatchedTo": None}
    t.dispatched_to = target
    t.handler_ticket_id = handler_ticket_id(d.id)
    t.next_due_at = None  # the handler's evaluator escalates from now on
    t.status_change = [
        *(t.status_change or []),
        {
            "status": t.status,
            "fromStatus": t.status,
            "at": now.isoformat(),
            "actor": principal.username,
            "reason": f"dispatched to {target}" + (f": {body.reason}" if body.reason else ""),
        },
    ]
    await CHANGES.record_change(
        session,
        t,
        aggregate_type=AGGREGATE,
        event=ticket_message,
        actor=principal.username,
        action="dispatch",
        changes=diff(before, {"dispatchedTo": target}),
        note=body.reason,
        at=now,
    )
    return t


async def withdraw(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    ticket_id: uuid.UUID,
    body: DispatchWithdraw,
    now: datetime,
) -> TroubleTicket:
    """Take back the caller's dispatched ticket while the handler has not started on it (409 once it
    has, naming the handler's status); the handler's ticket is cancelled there when the directive
    arrives, and this ticket is handled here again (its clock runs from the SLA terms it carries)."""
    t = await ticket_service.owned(session, settings, principal, ticket_id)
    if not t.dispatched_to:
        raise Conflict(f"troubleTicket {t.id} is not dispatched: there is nothing to withdraw")
    target = t.dispatched_to
    # what this node knows of the handler: nothing yet (handler_version 0), or its mirrored status
    if t.handler_version > 0 and t.status != Status.ACKNOWLEDGED.value:
        raise Conflict(
            f"troubleTicket {t.id} cannot be withdrawn from {target}: the handler has started on it "
            f"(its ticket {t.handler_ticket_id} is {t.status}); a dispatch is withdrawn only while the "
            f"handler's ticket is {Status.ACKNOWLEDGED.value}",
            details={"dispatchedTo": target, "handlerStatus": t.status, "withdrawableWhile": [Status.ACKNOWLEDGED]},
        )
    d = (
        await session.scalars(
            select(TicketDispatch)
            .where(TicketDispatch.ticket_id == t.id, TicketDispatch.status == DISPATCHED)
            .with_for_update()
        )
    ).one()
    d.status = WITHDRAWN
    d.version += 1
    d.updated_at = now
    await session.flush()
    await DISPATCHES.publish(session, settings, d, actor=principal.username)
    t.dispatched_to = None
    t.handler_ticket_id = None
    reason = f"dispatch to {target} withdrawn" + (f": {body.reason}" if body.reason else "")
    t.status_change = [
        *(t.status_change or []),
        {
            "status": t.status,
            "fromStatus": t.status,
            "at": now.isoformat(),
            "actor": principal.username,
            "reason": reason,
        },
    ]
    terms.refresh_next_due(t)  # this node's evaluator escalates it again
    await CHANGES.record_change(
        session,
        t,
        aggregate_type=AGGREGATE,
        event=ticket_message,
        actor=principal.username,
        action="withdraw",
        changes=diff({"dispatchedTo": target}, {"dispatchedTo": None}),
        note=body.reason,
        at=now,
    )
    return t


async def withdrawn(session: AsyncSession, settings: Settings, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
    """At the target node, in the apply transaction: each withdrawn directive cancels this node's ticket
    of it (unless it is finished). A withdrawal that crossed the handler's start cancels it too: the
    reporter has taken the ticket back, and the customer gets one answer. Returns the tickets cancelled."""
    cancelled: list[uuid.UUID] = []
    for row in rows:
        if row["target_node"] != settings.node or row["status"] != WITHDRAWN:
            continue
        t = await lock(session, TroubleTicket, handler_ticket_id(row["id"]))
        if t is None or Status(t.status) in FINISHED:
            continue  # never accepted here (the withdrawal came first), or already done
        now = datetime.now(UTC)
        before = t.status
        t.status = Status.CANCELLED.value
        t.next_due_at = None
        t.status_change = [
            *(t.status_change or []),
            {
                "status": t.status,
                "fromStatus": before,
                "at": now.isoformat(),
                "actor": row["actor"],
                "reason": f"dispatch withdrawn by {row['owner_node']}",
            },
        ]
        await CHANGES.record_change(
            session,
            t,
            aggregate_type=AGGREGATE,
            event=ticket_event("status"),
            actor=ACTOR,
            action="status",
            changes={"status": [before, t.status]},
            note=f"dispatch withdrawn by {row['owner_node']}",
            at=now,
        )
        cancelled.append(t.id)
    return cancelled


async def accept(session: AsyncSession, settings: Settings, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
    """At the target node, in the apply transaction: each new directive becomes this node's ticket
    (once: its id follows from the directive's). Returns the tickets opened."""
    opened: list[uuid.UUID] = []
    for row in rows:
        if row["target_node"] != settings.node or row["status"] != DISPATCHED:
            continue
        tid = handler_ticket_id(row["id"])
        if await session.get(TroubleTicket, tid) is not None:
            continue
        state = service_pb2.TroubleTicketState()
        state.ParseFromString(row["ticket"])
        reported = ticket_row(service_pb2.TroubleTicketChanged(ticket=state))
        now = datetime.now(UTC)
        t = TroubleTicket(
            **{
                **reported,
                "id": tid,
                "owner_node": settings.node,
                "version": 1,
                "status": Status.ACKNOWLEDGED.value,
                "handler": None,
                "external_id": None,
                "responded_at": None,
                "resolved_at": None,
                "closed_at": None,
                "paused_since": None,
                "reopen_count": 0,
                "satisfaction_score": None,
                "satisfaction_comment": None,
                "escalation": [{**s, "firedAt": None} for s in reported["escalation"] if s.get("firedAt") is None],
                "status_change": [
                    {
                        "status": Status.ACKNOWLEDGED.value,
                        "fromStatus": None,
                        "at": now.isoformat(),
                        "actor": row["actor"],
                        "reason": f"dispatched from {row['owner_node']}"
                        + (f": {row['reason']}" if row.get("reason") else ""),
                    }
                ],
                "dispatch_id": row["id"],
                "reported_at_node": row["owner_node"],
                "dispatched_to": None,
                "handler_ticket_id": None,
                "handler_version": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
        terms.refresh_next_due(t)
        # the handling node's own queues assign it, as any ticket accepted there
        pick = await assignment_service.pick_by_rule(
            session, node=settings.node, ticket_type=t.ticket_type, grade=t.customer_grade
        )
        if pick is not None:
            t.handler, t.queue_id, t.queue_name, t.assigned_by = pick.handler, pick.queue.id, pick.queue.name, pick.by
        session.add(t)
        await session.flush()
        await CHANGES.record_change(
            session,
            t,
            aggregate_type=AGGREGATE,
            event=ticket_message,
            actor=ACTOR,
            action="create",
            changes={"dispatchId": [None, str(row["id"])], "reportedAtNode": [None, row["owner_node"]]},
            note=f"dispatched from {row['owner_node']}",
            created=True,
            at=now,
        )
        opened.append(tid)
    return opened


async def mirror(session: AsyncSession, settings: Settings, rows: Sequence[dict[str, Any]]) -> int:
    """At the reporter, in the apply transaction: take each newer version of a handler's ticket onto
    the reporter's own ticket. Returns how many were mirrored."""
    by_id = {r["id"]: r for r in rows if r.get("dispatch_id") is not None}
    if not by_id:
        return 0
    stmt = (
        select(TroubleTicket)
        .where(TroubleTicket.owner_node == settings.node, TroubleTicket.handler_ticket_id.in_(list(by_id)))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    count = 0
    for t in (await session.scalars(stmt)).all():
        h = by_id[t.handler_ticket_id]
        if h["version"] <= t.handler_version:
            continue
        before = {k: getattr(t, k) for k in MIRRORED}
        mirrored_version = t.handler_version
        for k in MIRRORED:
            setattr(t, k, h[k])
        own = [s for s in t.status_change or [] if not s.get("node")]
        t.status_change = [*own, *({**s, "node": h["owner_node"]} for s in h["status_change"])]
        t.handler_version = h["version"]
        t.next_due_at = None
        changes = diff(before, {k: getattr(t, k) for k in MIRRORED})
        await CHANGES.record_change(
            session,
            t,
            aggregate_type=AGGREGATE,
            event=ticket_event("status" if "status" in changes else "updated"),
            actor=ACTOR,
            action="status" if "status" in changes else "update",
            changes={**changes, "handlerVersion": [mirrored_version, h["version"]]},
            note=f"from {h['owner_node']} (v{h['version']})",
        )
        count += 1
    return count
