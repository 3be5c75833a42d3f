"""Withdrawing a dispatch (撤回派单) over real PostgreSQL: the reporter (hq) takes its ticket back while
the handler (gd-gz) has not started on it, the withdrawn directive cancels the handler's ticket where it
is applied, and once the handler has started the withdrawal is a 409 naming its status. The directive
and the handler's ticket cross the tree as replication would carry them: in their wire form, applied by
the dispatch service's own functions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kam_platform.settings import Settings
from kam_service.dispatch import service as dispatch_service
from kam_service.dispatch.events import dispatch_message, dispatch_row
from kam_service.models import TicketDispatch, TroubleTicket
from kam_service.ticket.events import ticket_message, ticket_row

from .conftest import settings_for

BASE = "/tmf-api/troubleTicket/v4/troubleTicket"
ACTIONS = "/api/v1/service/troubleTicket"
Auth = Callable[..., dict[str, str]]
Clients = dict[str, httpx.AsyncClient]
Sessions = async_sessionmaker[AsyncSession]


async def _dispatched(clients: Clients, auth: Auth, cid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fault reported at hq and dispatched to gd-gz: (hq's ticket, the dispatch part of its answer)."""
    body = {
        "name": "全国专线 广州节点中断",
        "ticketType": "FAULT",
        "channel": "HOTLINE",
        "priority": "CRITICAL",
        "relatedParty": [{"id": cid, "role": "customer"}],
    }
    r = await clients["hq"].post(BASE, json=body, headers=auth("hq"))
    assert r.status_code == 201, r.text
    reported = r.json()
    r = await clients["hq"].post(
        f"{ACTIONS}/{reported['id']}/dispatch", json={"toNode": "gd-gz", "reason": "属地处理"}, headers=auth("hq")
    )
    assert r.status_code == 200, r.text
    return reported, r.json()["dispatch"]


def _node(settings: Settings, node: str) -> Settings:
    return settings.model_copy(update={"node": node})


async def _directive(sessions: Sessions, ticket_id: str) -> dict[str, Any]:
    """hq's directive of the ticket as it travels (TicketDispatchChanged → row)."""
    async with sessions() as s:
        d = (await s.scalars(select(TicketDispatch).where(TicketDispatch.ticket_id == uuid.UUID(ticket_id)))).one()
        return dispatch_row(dispatch_message(d))


async def _apply_at_target(sessions: Sessions, settings: Settings, row: dict[str, Any]) -> None:
    async with sessions() as s:
        await dispatch_service.accept(s, settings, [row])
        await dispatch_service.withdrawn(s, settings, [row])
        await s.commit()


async def _mirror_at_reporter(sessions: Sessions, settings: Settings, handler_id: str) -> None:
    async with sessions() as s:
        h = await s.get(TroubleTicket, uuid.UUID(handler_id), populate_existing=True)
        assert h is not None
        await dispatch_service.mirror(s, settings, [ticket_row(ticket_message(h))])
        await s.commit()


async def test_a_dispatch_withdrawn_before_handling_cancels_the_handlers_ticket(
    clients: Clients,
    auth: Auth,
    insert_customer: Callable[..., Any],
    sessions: Sessions,
    database_url: str,
    jwks: dict[str, Any],
) -> None:
    settings = settings_for(database_url, jwks, "gd-gz", "service")
    cid = await insert_customer("gd-gz", name="广州港集团有限公司")
    reported, dispatch = await _dispatched(clients, auth, cid)
    hid = dispatch["handlerTicketId"]
    await _apply_at_target(sessions, settings, await _directive(sessions, reported["id"]))
    r = await clients["gd-gz"].get(f"{BASE}/{hid}", headers=auth("gd-gz"))
    assert r.status_code == 200 and r.json()["status"] == "acknowledged", r.text
    # the handler's acknowledged ticket flows up: not started, so hq may still take it back
    await _mirror_at_reporter(sessions, _node(settings, "hq"), hid)

    r = await clients["hq"].post(
        f"{ACTIONS}/{reported['id']}/dispatch/withdraw", json={"reason": "总部直接处理"}, headers=auth("hq")
    )
    assert r.status_code == 200, r.text
    back = r.json()
    assert back["dispatch"] is None or back["dispatch"]["dispatchedTo"] is None, back
    assert back["statusChange"][-1]["changeReason"] == "dispatch to gd-gz withdrawn: 总部直接处理", back
    directive = await _directive(sessions, reported["id"])
    assert directive["status"] == "WITHDRAWN" and directive["version"] == 2

    # the withdrawal flows down: the target's copy is cancelled, its step says why
    await _apply_at_target(sessions, settings, directive)
    handler = (await clients["gd-gz"].get(f"{BASE}/{hid}", headers=auth("gd-gz"))).json()
    assert handler["status"] == "cancelled", handler
    assert handler["statusChange"][-1]["changeReason"] == "dispatch withdrawn by hq", handler
    # and hq handles its ticket itself again
    r = await clients["hq"].patch(
        f"{BASE}/{reported['id']}",
        json={"status": "inProgress"},
        headers={**auth("hq"), "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.json()["status"] == "inProgress", r.text


async def test_a_dispatch_is_not_withdrawn_once_the_handler_has_started(
    clients: Clients,
    auth: Auth,
    insert_customer: Callable[..., Any],
    sessions: Sessions,
    database_url: str,
    jwks: dict[str, Any],
) -> None:
    settings = settings_for(database_url, jwks, "gd-gz", "service")
    cid = await insert_customer("gd-gz", name="广州地铁集团有限公司")
    reported, dispatch = await _dispatched(clients, auth, cid)
    hid = dispatch["handlerTicketId"]
    await _apply_at_target(sessions, settings, await _directive(sessions, reported["id"]))
    r = await clients["gd-gz"].patch(
        f"{BASE}/{hid}",
        json={"status": "inProgress", "statusChangeReason": "已出发抢修"},
        headers={**auth("gd-gz"), "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    await _mirror_at_reporter(sessions, _node(settings, "hq"), hid)

    r = await clients["hq"].post(f"{ACTIONS}/{reported['id']}/dispatch/withdraw", json={}, headers=auth("hq"))
    assert r.status_code == 409, r.text
    err = r.json()
    assert "has started" in err["message"] and "inProgress" in err["message"], err
    assert err["details"]["handlerStatus"] == "inProgress" and err["details"]["dispatchedTo"] == "gd-gz", err
    assert (await _directive(sessions, reported["id"]))["status"] == "DISPATCHED"
    handler = (await clients["gd-gz"].get(f"{BASE}/{hid}", headers=auth("gd-gz"))).json()
    assert handler["status"] == "inProgress"


async def test_withdrawing_a_ticket_that_is_not_dispatched_is_409(
    clients: Clients, auth: Auth, insert_customer: Callable[..., Any]
) -> None:
    cid = await insert_customer("gd-gz")
    body = {"name": "咨询", "ticketType": "CONSULTATION", "channel": "WEB", "priority": "LOW"}
    r = await clients["hq"].post(
        BASE, json={**body, "relatedParty": [{"id": cid, "role": "customer"}]}, headers=auth("hq")
    )
    assert r.status_code == 201, r.text
    r = await clients["hq"].post(f"{ACTIONS}/{r.json()['id']}/dispatch/withdraw", json={}, headers=auth("hq"))
    assert r.status_code == 409 and "not dispatched" in r.json()["message"], r.text
