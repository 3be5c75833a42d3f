"""The notification inbox (消息中心) in the platform: a node-local record addressed to a user or to a role at
the node, written by a service's job in the job's own transaction, and each service's
``/api/v1/<service>/notifications`` (list, mark read, mark all read) scoped to the calling user.

A service plugs in with one table and one router::

    class Notification(NotificationMixin, Base): __tablename__ = "notification"

    NOTIFICATIONS = Notifier(Notification, service="sales")
    await NOTIFICATIONS.notify(session, [Note(...)], node=settings.node, at=now)   # in the job's transaction
    create_service_app(..., routers=[..., NOTIFICATIONS.router(now=get_now)])  # the service's clock

Exactly once: every note carries a dedupe key (the job's own once-only key, e.g. ``agreement:<id>:60``),
unique in the table, inserted with ON CONFLICT DO NOTHING in the transaction that writes the job's
record — a job run twice, by two processes or after a restart, delivers once. Notifications do not
replicate: they are addressed to the people of the node where the job runs (docs/notifications.md).
"""

# no `from __future__ import annotations`: the routes are closures whose annotations (the `now`
# dependency) FastAPI must evaluate at definition
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import DateTime, Index, String, Text, and_, false, or_, select, true, update
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, ApiModel, Resource, one, page
from kam_platform.auth import CurrentPrincipal, Principal
from kam_platform.db.engine import Session
from kam_platform.errors import NotFound
from kam_platform.ids import uuid7
from kam_platform.settings import AppSettings
from kam_platform.tmf import Filterable, ListQuery, apply_filters, fetch_page, href, id_or_404, parse_list_query


class NotificationMixin:
    """One notification (消息): to `recipient_user`, or to every holder of `recipient_role` at `owner_node`;
    about one record (`subject_type` + `subject_id`). A role's notification is one shared item: the first
    holder who marks it read marks it read for the role (`read_by` says who)."""

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(32))
    recipient_user: Mapped[str | None] = mapped_column(String(128), nullable=True)
    recipient_role: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    read_by: Mapped[str | None] = mapped_column(String(128), nullable=True)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        table = cls.__tablename__  # type: ignore[attr-defined]
        return (
            Index(f"ix_{table}_user", "owner_node", "recipient_user", "created_at"),
            Index(f"ix_{table}_role", "owner_node", "recipient_role", "created_at"),
        )


@dataclass(frozen=True)
class Note:
    """What a job delivers: to a user (`user`) or to a role at the node (`role`); `key` dedupes."""

    key: str
    kind: str
    title: str
    text: str
    subject_type: str
    subject_id: uuid.UUID | None = None
    user: str | None = None
    role: str | None = None

    def __post_init__(self) -> None:
        if (self.user is None) == (self.role is None):
            raise ValueError("a note goes to exactly one of a user or a role")


# --- API models ------------------------------------------------------------------------------------


class SubjectRef(ApiModel):
    """The record a notification is about."""

    id: str | None = None
    referred_type: Annotated[str, Field(alias="@referredType")]


class NotificationRead(Resource):
    id: str
    href: str
    type_: Annotated[str, Field(alias="@type")] = "Notification"
    kind: str
    title: str
    text: str
    subject: SubjectRef
    recipient_user: Annotated[str | None, Field(alias="recipientUser")] = None
    recipient_role: Annotated[str | None, Field(alias="recipientRole")] = None
    read: bool
    read_at: Annotated[datetime | None, Field(alias="readAt")] = None
    read_by: Annotated[str | None, Field(alias="readBy")] = None
    created_at: Annotated[datetime, Field(alias="createdAt")]


class NotificationUpdate(ApiModel):
    """Mark a notification read (`true`) or unread again (`false`)."""

    read: bool


class MarkedRead(ApiModel):
    marked: int


# --- the kit piece ---------------------------------------------------------------------------------


class Notifier:
    """The notification inbox of one service: `notify` for its jobs, `router()` for its API."""

    def __init__(self, model: type[Any], *, service: str) -> None:
        self.model = model
        self.service = service
        self.path = f"/api/v1/{service}/notifications"
        m = model

        def read_predicate(op: str, values: list[Any]) -> ColumnElement[bool]:
            wanted = set(values)
            if wanted == {True, False}:
                return true()
            is_read = m.read_at.is_not(None) if True in wanted else m.read_at.is_(None)
            return is_read if op == "eq" else ~is_read  # type: ignore[no-any-return]

        self.filterable: dict[str, Filterable] = {
            "read": Filterable(m.read_at, bool, sortable=False, predicate=read_predicate),
            "kind": Filterable(m.kind),
            "subject.@referredType": Filterable(m.subject_type),
            "createdAt": Filterable(m.created_at, datetime),
            "readAt": Filterable(m.read_at, datetime),
        }
        self.fields = [f.alias or n for n, f in NotificationRead.model_fields.items()]

    async def notify(self, session: AsyncSession, notes: Sequence[Note], *, node: str, at: datetime) -> int:
        """Deliver `notes` in the caller's transaction, each dedupe key once ever; how many were new."""
        if not notes:
            return 0
        rows = [
            {
                "id": uuid7(),
                "owner_node": node,
                "recipient_user": n.user,
                "recipient_role": n.role,
                "kind": n.kind,
                "title": n.title[:300],
                "text": n.text,
                "subject_type": n.subject_type,
                "subject_id": n.subject_id,
                "dedupe_key": n.key,
                "created_at": at,
            }
            for n in {n.key: n for n in notes}.values()
        ]
        stmt = insert(self.model).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
        return len((await session.execute(stmt.returning(self.model.id))).all())

    # --- reads and writes of the inbox, scoped to the caller ---------------------------------------

    def mine(self, principal: Principal, node: str) -> ColumnElement[bool]:
        """The caller's notifications at this node: addressed to them, or to a role they hold here. A
        token of another node (a replica's user) holds nothing here."""
        m = self.model
        if principal.home_node != node:
            return false()
        to_me = m.recipient_user == principal.username
        clause = or_(to_me, m.recipient_role.in_(sorted(principal.roles))) if principal.roles else to_me
        return and_(m.owner_node == node, clause)

    async def page(self, session: AsyncSession, principal: Principal, node: str, lq: ListQuery) -> tuple[Any, int]:
        if not lq.sort:
            lq.sort = [("createdAt", True)]
        stmt = apply_filters(select(self.model).where(self.mine(principal, node)), lq, self.filterable)
        return await fetch_page(session, stmt, lq, self.filterable, self.model.id.desc())

    async def mark(self, session: AsyncSession, principal: Principal, node: str, row_id: uuid.UUID, *, read: bool,
                   at: datetime) -> Any:  # fmt: skip
        stmt = select(self.model).where(self.mine(principal, node), self.model.id == row_id).with_for_update()
        row = (await session.scalars(stmt)).one_or_none()
        if row is None:
            raise NotFound(f"notification {row_id} not found")
        if read and row.read_at is None:
            row.read_at, row.read_by = at, principal.username
        elif not read:
            row.read_at, row.read_by = None, None
        await session.flush()
        return row

    async def mark_all(self, session: AsyncSession, principal: Principal, node: str, *, at: datetime) -> int:
        stmt = (
            update(self.model)
            .where(self.mine(principal, node), self.model.read_at.is_(None))
            .values(read_at=at, read_by=principal.username)
            .returning(self.model.id)
        )
        return len((await session.execute(stmt)).all())

    def read(self, request: Request, r: Any) -> NotificationRead:
        return NotificationRead(
            id=str(r.id),
            href=href(request, f"{self.path}/{r.id}"),
            kind=r.kind,
            title=r.title,
            text=r.text,
            subject=SubjectRef(id=str(r.subject_id) if r.subject_id else None, referred_type=r.subject_type),
            recipient_user=r.recipient_user,
            recipient_role=r.recipient_role,
            read=r.read_at is not None,
            read_at=r.read_at,
            read_by=r.read_by,
            created_at=r.created_at,
        )

    def router(self, now: Callable[..., Awaitable[datetime]]) -> APIRouter:
        """GET …/notifications, GET/PATCH …/notifications/{id}, POST …/notifications/markAllRead; `now`:
        the service's dependency giving the time of its (injectable) clock, when a mark-read happens."""
        router = APIRouter(tags=["notification"])
        at_now = Annotated[datetime, Depends(now)]
        svc, path = self.service, self.path
        title = svc[:1].upper() + svc[1:]

        async def list_notifications(
            request: Request, response: Response, session: Session, settings: AppSettings, who: CurrentPrincipal
        ) -> list[NotificationRead] | JSONResponse:
            lq = parse_list_query(request, self.filterable, self.fields)
            rows, total = await self.page(session, who, settings.node, lq)
            return page(response, [self.read(request, r) for r in rows], total, lq)

        async def get_notification(
            notification_id: str, request: Request, session: Session, settings: AppSettings, who: CurrentPrincipal
        ) -> NotificationRead | JSONResponse:
            lq = parse_list_query(request, {}, self.fields)
            rid = id_or_404(notification_id, "notification")
            row = (
                await session.scalars(select(self.model).where(self.mine(who, settings.node), self.model.id == rid))
            ).one_or_none()
            if row is None:
                raise NotFound(f"notification {rid} not found")
            return one(self.read(request, row), lq.fields)

        async def update_notification(
            notification_id: str,
            request: Request,
            session: Session,
            settings: AppSettings,
            who: CurrentPrincipal,
            at: at_now,
            patch: Annotated[NotificationUpdate, Body(media_type=MERGE_PATCH_TYPE)],
            _: None = MERGE_PATCH_BODY,
        ) -> NotificationRead:
            rid = id_or_404(notification_id, "notification")
            row = await self.mark(session, who, settings.node, rid, read=patch.read, at=at)
            return self.read(request, row)

        async def mark_all_read(
            session: Session, settings: AppSettings, who: CurrentPrincipal, at: at_now, _: None = JSON_BODY
        ) -> MarkedRead:
            return MarkedRead(marked=await self.mark_all(session, who, settings.node, at=at))

        router.add_api_route(
            path,
            list_notifications,
            methods=["GET"],
            response_model=list[NotificationRead],
            operation_id=f"list{title}Notifications",
            summary=f"The caller's notifications of the {svc} service (消息中心)",
            description="Newest first by default. Filters: read (`read=false`: the unread), kind, "
            "subject.@referredType, createdAt, readAt; sort, fields, offset/limit, X-Total-Count.",
        )
        router.add_api_route(
            f"{path}/markAllRead",
            mark_all_read,
            methods=["POST"],
            response_model=MarkedRead,
            operation_id=f"markAll{title}NotificationsRead",
            summary="Mark every unread notification of the caller read; answers how many were marked",
        )
        router.add_api_route(
            f"{path}/{{notification_id}}",
            get_notification,
            methods=["GET"],
            response_model=NotificationRead,
            operation_id=f"get{title}Notification",
            summary="One of the caller's notifications (404 for anyone else's)",
        )
        router.add_api_route(
            f"{path}/{{notification_id}}",
            update_notification,
            methods=["PATCH"],
            response_model=NotificationRead,
            operation_id=f"update{title}Notification",
            summary='Mark one of the caller\'s notifications read (`{"read": true}`) or unread (merge patch)',
        )
        return router
