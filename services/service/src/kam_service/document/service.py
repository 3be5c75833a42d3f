"""Document rules (F4): metadata written only at the owner node (one ChangeLog call per change), file
versions streamed in chunk by chunk (never a whole file in memory; over the limit: 413 and the
transaction — chunks, events, version — rolled back), content served only where every chunk is present
and intact, within scope, role and expiry."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kam_contracts.gen.kam.v1 import service_pb2
from kam_platform.audit import diff
from kam_platform.auth import Principal
from kam_platform.errors import KamError, NotFound, NotOwner, PayloadTooLarge, ServiceUnavailable, ValidationFailed
from kam_platform.outbox import add_event
from kam_platform.settings import Settings
from kam_platform.tmf import ListQuery
from kam_service.lookups import Lookups
from kam_service.models import SCHEMA
from kam_service.models.documents import Document
from kam_service.ticket.events import CHANGES, SERVICE
from kam_service.ticket.repository import TicketRepository

from .events import CHUNK, DOCUMENT, chunk_id, document_message
from .repository import DocumentRepository
from .schemas import DocumentCreate, DocumentUpdate
from .states import CHUNK_BYTES, RelatedType

TRACKED = ("title", "category", "description", "access_roles", "expires_on", "current_version")


class DocumentExpired(KamError):
    status, code, reason = 410, "DOCUMENT_EXPIRED", "Document expired"


class ContentDamaged(KamError):
    """Stored content no longer matches its digest: a fault of the node's storage, not of the request."""

    status, code, reason = 500, "CONTENT_INTEGRITY", "Stored content failed its integrity check"


@dataclass(frozen=True)
class Content:
    document: Document
    number: int
    file_name: str
    content_type: str
    size: int
    sha256: str
    chunks: int


def _snapshot(d: Document) -> dict[str, Any]:
    return {k: getattr(d, k) for k in TRACKED}


def is_expired(d: Document, today: date) -> bool:
    return d.expires_on is not None and d.expires_on < today


async def list_documents(
    session: AsyncSession, *, settings: Settings, principal: Principal, lq: ListQuery
) -> tuple[Sequence[Document], int]:
    return await DocumentRepository.from_session(session).page(principal, settings.topology, lq)


async def get_document(
    session: AsyncSession, *, settings: Settings, principal: Principal, document_id: uuid.UUID
) -> Document:
    d = await DocumentRepository.from_session(session).get_visible(document_id, principal, settings.topology)
    if d is None:
        raise NotFound(f"document {document_id} not found")
    return d


async def _owned(session: AsyncSession, settings: Settings, principal: Principal, document_id: uuid.UUID) -> Document:
    await get_document(session, settings=settings, principal=principal, document_id=document_id)
    d = await DocumentRepository.from_session(session).get_for_update(document_id)
    if d is None:
        raise NotFound(f"document {document_id} not found")
    if d.owner_node != settings.node:
        raise NotOwner("document", str(d.id), d.owner_node)
    return d


async def create_document(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    data: DocumentCreate,
    lookups: Lookups,
    token: str,
    now: datetime,
) -> Document:
    try:
        customer_id = uuid.UUID(data.related_party[0].id)
    except ValueError:
        raise ValidationFailed("relatedParty: id is not a valid id", field="relatedParty") from None
    customer = await lookups.customer(customer_id, token)
    if data.related_entity is not None and data.related_entity.type is RelatedType.TROUBLE_TICKET:
        await _check_ticket(session, settings, principal, data.related_entity.id, customer_id)
    d = Document(
        id=uuid.uuid4(),
        owner_node=settings.node,
        version=1,
        title=data.title,
        category=data.category.value,
        description=data.description,
        customer_id=customer.id,
        customer_name=customer.name,
        account_manager=customer.account_manager,
        related_type=data.related_entity.type.value if data.related_entity else None,
        related_id=data.related_entity.id if data.related_entity else None,
        access_roles=sorted(set(data.access_roles)),
        expires_on=data.expires_on,
        current_version=0,
        versions=[],
        created_by=principal.username,
        created_at=now,
        updated_at=now,
    )
    await DocumentRepository.from_session(session).add(d)
    await CHANGES.record_change(
        session,
        d,
        aggregate_type=DOCUMENT,
        event=document_message,
        actor=principal.username,
        action="create",
        changes=diff({}, _snapshot(d)),
        created=True,
        at=now,
    )
    return d


async def _check_ticket(
    session: AsyncSession, settings: Settings, principal: Principal, ticket_id: str, customer_id: uuid.UUID
) -> None:
    try:
        tid = uuid.UUID(ticket_id)
    except ValueError:
        raise ValidationFailed("relatedEntity.id: not a valid ticket id", field="relatedEntity.id") from None
    t = await TicketRepository.from_session(session).get_visible(tid, principal, settings.topology)
    if t is None:
        raise ValidationFailed(f"relatedEntity.id: troubleTicket {ticket_id} not found", field="relatedEntity.id")
    if t.customer_id != customer_id:
        raise ValidationFailed("relatedEntity.id: the ticket belongs to another customer", field="relatedEntity.id")


async def update_document(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    document_id: uuid.UUID,
    patch: DocumentUpdate,
    present: set[str],
    now: datetime,
) -> Document:
    d = await _owned(session, settings, principal, document_id)
    for name in ("title", "category", "accessRoles"):
        if name in present and getattr(patch, {"accessRoles": "access_roles"}.get(name, name)) is None:
            raise ValidationFailed(f"{name}: may not be null", field=name)
    before = _snapshot(d)
    if patch.title is not None:
        d.title = patch.title
    if patch.category is not None:
        d.category = patch.category.value
    if "description" in present:
        d.description = patch.description or ""
    if patch.access_roles is not None:
        d.access_roles = sorted(set(patch.access_roles))
    if "expiresOn" in present:
        d.expires_on = patch.expires_on
    changes = diff(before, _snapshot(d))
    if changes:
        await CHANGES.record_change(
            session,
            d,
            aggregate_type=DOCUMENT,
            event=document_message,
            actor=principal.username,
            action="update",
            changes=changes,
            at=now,
        )
    return d


async def delete_document(
    session: AsyncSession, *, settings: Settings, principal: Principal, document_id: uuid.UUID, now: datetime
) -> None:
    d = await _owned(session, settings, principal, document_id)
    d.deleted_at = now
    await CHANGES.record_change(
        session,
        d,
        aggregate_type=DOCUMENT,
        event=document_message,
        actor=principal.username,
        action="delete",
        changes={"deleted": [False, True]},
        at=now,
    )


async def upload(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    document_id: uuid.UUID,
    body: AsyncIterator[bytes],
    content_type: str,
    file_name: str | None,
    note: str | None,
    declared_length: int | None,
    limit: int,
    now: datetime,
) -> Document:
    """A new file version from the request body as it streams in: each 128 KiB piece is stored and its
    event written at once (no piece is held longer than it takes to write it)."""
    if declared_length is not None and declared_length > limit:
        raise _too_large(limit)
    d = await _owned(session, settings, principal, document_id)
    repo = DocumentRepository.from_session(session)
    number = max((v["number"] for v in d.versions or []), default=0) + 1
    digest = hashlib.sha256()
    size = 0
    seq = 0
    pending = bytearray()

    async def put(piece: bytes) -> None:
        nonlocal seq
        cid = chunk_id(d.id, number, seq)
        sha = hashlib.sha256(piece).hexdigest()
        await repo.add_chunk(
            {
                "id": cid,
                "owner_node": settings.node,
                "version": 1,
                "document_id": d.id,
                "version_number": number,
                "seq": seq,
                "size": len(piece),
                "sha256": sha,
                "data": piece,
            }
        )
        await add_event(
            session,
            schema=SCHEMA,
            node=settings.node,
            service=SERVICE,
            aggregate_type=CHUNK,
            aggregate_id=str(cid),
            version=1,
            message=service_pb2.DocumentChunkAdded(
                id=str(cid),
                owner_node=settings.node,
                document_id=str(d.id),
                version_number=number,
                seq=seq,
                data=piece,
                sha256=sha,
            ),
            actor=principal.username,
            defer=False,  # written now: a deferred event would keep every piece until the commit
        )
        seq += 1

    async for part in body:
        size += len(part)
        if size > limit:
            raise _too_large(limit)  # the transaction rolls back: nothing of this upload is stored
        digest.update(part)
        pending += part
        while len(pending) >= CHUNK_BYTES:
            await put(bytes(pending[:CHUNK_BYTES]))
            del pending[:CHUNK_BYTES]
    if size == 0:
        raise ValidationFailed("body: the file is empty", field="body")
    if pending:
        await put(bytes(pending))
    before = _snapshot(d)
    version = {
        "number": number,
        "fileName": file_name or f"{d.title}-v{number}",
        "contentType": content_type,
        "size": size,
        "sha256": digest.hexdigest(),
        "chunks": seq,
        "uploadedBy": principal.username,
        "uploadedAt": now.isoformat(),
        "note": note,
    }
    d.versions = [*(d.versions or []), version]
    d.current_version = number
    await CHANGES.record_change(
        session,
        d,
        aggregate_type=DOCUMENT,
        event=document_message,
        actor=principal.username,
        action="upload",
        changes={**diff(before, _snapshot(d)), "sha256": [None, version["sha256"]], "size": [None, size]},
        note=note,
        at=now,
    )
    return d


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"a document may be at most {limit} bytes ({limit // (1024 * 1024)} MB); nothing was stored")


async def content_of(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    document_id: uuid.UUID,
    number: int | None,
    today: date,
) -> Content:
    """What a download serves, once it is known to be servable here: visible, not expired, the version
    there, every chunk of it at this node and each matching its digest."""
    d = await get_document(session, settings=settings, principal=principal, document_id=document_id)
    if is_expired(d, today):
        raise DocumentExpired(f"document {d.id} expired on {d.expires_on}; its content is no longer served")
    wanted = number if number is not None else d.current_version
    v = next((v for v in d.versions or [] if v["number"] == wanted), None)
    if v is None:
        what = f"version {wanted}" if number is not None else "any file yet"
        raise NotFound(f"document {d.id} has no {what}")
    state = await DocumentRepository.from_session(session).content_state(d.id, wanted)
    if state.chunks < v["chunks"]:
        raise ServiceUnavailable(
            f"the content of document {d.id} version {wanted} is not yet at {settings.node}: "
            f"{state.chunks} of {v['chunks']} pieces have arrived from {d.owner_node}; try again shortly",
            details={"ownerNode": d.owner_node, "chunksHere": state.chunks, "chunks": v["chunks"]},
        )
    if not state.intact or state.size != v["size"]:
        raise ContentDamaged(
            f"the stored content of document {d.id} version {wanted} at {settings.node} does not match its "
            "digest; it is not served (resync it from its owner)"
        )
    return Content(
        document=d,
        number=wanted,
        file_name=v["fileName"],
        content_type=v["contentType"],
        size=v["size"],
        sha256=v["sha256"],
        chunks=v["chunks"],
    )


async def stream(session: AsyncSession, content: Content) -> AsyncIterator[bytes]:
    """The content piece by piece, its whole digest checked as it goes (a mismatch at the end aborts the
    response, so a client never receives a complete body that is wrong)."""
    repo = DocumentRepository.from_session(session)
    digest = hashlib.sha256()
    for seq in range(content.chunks):
        piece = await repo.chunk(content.document.id, content.number, seq)
        if piece is None:
            raise ContentDamaged(f"document {content.document.id} version {content.number}: piece {seq} vanished")
        digest.update(piece)
        yield piece
    if digest.hexdigest() != content.sha256:
        raise ContentDamaged(f"document {content.document.id} version {content.number}: sha256 mismatch")
