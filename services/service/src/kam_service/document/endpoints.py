"""Documents (/api/v1/service/document): metadata (list, get, POST, merge-PATCH, DELETE), file versions
streamed in (POST …/content, the raw file as the body) and out (GET …/content)."""

from __future__ import annotations

import base64
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from kam_platform.api import JSON_BODY, MERGE_PATCH_BODY, MERGE_PATCH_TYPE, one, page, present_keys
from kam_platform.auth import Principal, require
from kam_platform.db.engine import ReadSession, Session
from kam_platform.errors import UnsupportedMediaType
from kam_platform.inputguard import media_type, upload_body
from kam_platform.settings import AppSettings
from kam_platform.tmf import id_or_404, parse_list_query
from kam_service.deps import LookupsDep, Now, Token

from . import service
from .repository import FILTERABLE
from .schemas import FIELDS, DocumentCreate, DocumentRead, DocumentUpdate
from .states import MAX_DOCUMENT_BYTES, UPLOAD_TYPES
from .views import BASE, read

router = APIRouter(prefix=BASE, tags=["document"])

Reader = Annotated[Principal, require("service.document:read")]
Writer = Annotated[Principal, require("service.document:write")]
INLINE = ("application/pdf", "image/", "text/plain")  # previewed in the browser


@router.get("", response_model=list[DocumentRead])
async def list_documents(
    request: Request, response: Response, session: Session, settings: AppSettings, who: Reader, now: Now
) -> list[DocumentRead] | JSONResponse:
    """Documents in the caller's scope whose access roles (if any) include one of the caller's. Filters:
    category, relatedParty.id (the customer), relatedEntity.type, relatedEntity.id, ownerNode,
    expiresOn, title; `q=` searches title and customer."""
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    rows, total = await service.list_documents(session, settings=settings, principal=who, lq=lq)
    return page(response, [read(request, d, now.date()) for d in rows], total, lq)


@router.get("/{document_id}", response_model=DocumentRead)
async def get_document(
    document_id: str, request: Request, session: Session, settings: AppSettings, who: Reader, now: Now
) -> DocumentRead | JSONResponse:
    lq = parse_list_query(request, {}, FIELDS)
    d = await service.get_document(
        session, settings=settings, principal=who, document_id=id_or_404(document_id, "document")
    )
    return one(read(request, d, now.date()), lq.fields)


@router.post("", status_code=201, response_model=DocumentRead)
async def create_document(
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    data: DocumentCreate,
    lookups: LookupsDep,
    token: Token,
    now: Now,
    _: None = JSON_BODY,
) -> DocumentRead:
    """A document's metadata, owned by this node, linked to a customer (and optionally an opportunity,
    contract or ticket); its files follow as versions (POST …/content)."""
    d = await service.create_document(
        session, settings=settings, principal=who, data=data, lookups=lookups, token=token, now=now
    )
    body = read(request, d, now.date())
    response.headers["Location"] = body.href
    return body


@router.patch("/{document_id}", response_model=DocumentRead)
async def update_document(
    document_id: str,
    request: Request,
    session: Session,
    settings: AppSettings,
    who: Writer,
    patch: Annotated[DocumentUpdate, Body(media_type=MERGE_PATCH_TYPE)],
    now: Now,
    _: None = MERGE_PATCH_BODY,
) -> DocumentRead:
    d = await service.update_document(
        session,
        settings=settings,
        principal=who,
        document_id=id_or_404(document_id, "document"),
        patch=patch,
        present=present_keys(patch),
        now=now,
    )
    return read(request, d, now.date())


@router.delete("/{document_id}", status_code=204)
async def delete_document(document_id: str, session: Session, settings: AppSettings, who: Writer, now: Now) -> Response:
    """Soft delete at the owner (the replicas hide it too); the content is no longer served."""
    await service.delete_document(
        session, settings=settings, principal=who, document_id=id_or_404(document_id, "document"), now=now
    )
    return Response(status_code=204)


@router.post(
    "/{document_id}/content",
    status_code=201,
    response_model=DocumentRead,
    openapi_extra=upload_body(*UPLOAD_TYPES),
    responses={
        413: {"description": "over the document limit (100 MB): nothing stored"},
        415: {"description": "a media type documents do not take"},
    },
)
async def upload_content(
    document_id: str,
    request: Request,
    response: Response,
    session: Session,
    settings: AppSettings,
    who: Writer,
    now: Now,
    file_name: Annotated[str | None, Query(alias="fileName", min_length=1, max_length=255)] = None,
    note: Annotated[str | None, Query(max_length=1000)] = None,
) -> DocumentRead:
    """A new version of the file: the raw file is the body, its media type the Content-Type. Streamed
    into the database in 128 KiB pieces (and up the tree as they are written); the sha256 is computed on
    the way and kept with the version."""
    ctype = media_type(request.headers.get("content-type", ""))
    if ctype not in UPLOAD_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type {ctype or '(none)'} is not a document type; one of: {', '.join(UPLOAD_TYPES)}"
        )
    declared = request.headers.get("content-length", "")
    limit: int = getattr(request.app.state, "max_document_bytes", MAX_DOCUMENT_BYTES)
    d = await service.upload(
        session,
        settings=settings,
        principal=who,
        document_id=id_or_404(document_id, "document"),
        body=request.stream(),
        content_type=ctype,
        file_name=file_name,
        note=note,
        declared_length=int(declared) if declared.isdigit() else None,
        limit=limit,
        now=now,
    )
    body = read(request, d, now.date())
    response.headers["Location"] = body.versions[-1].content_href
    return body


@router.get(
    "/{document_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the file"},
        410: {"description": "the document has expired"},
        503: {"description": "the content has not fully arrived at this node yet"},
    },
)
async def download_content(
    document_id: str,
    session: ReadSession,
    settings: AppSettings,
    who: Reader,
    now: Now,
    version: Annotated[int | None, Query(ge=1, le=100000)] = None,
    download: bool = False,
) -> StreamingResponse:
    """The file of a version (default: the current one), streamed. `X-Content-SHA256` and `Digest` carry
    the stored digest (checked here piece by piece and as a whole while sending); PDF and images are
    served inline for preview unless `download=true`."""
    c = await service.content_of(
        session,
        settings=settings,
        principal=who,
        document_id=id_or_404(document_id, "document"),
        number=version,
        today=now.date(),
    )
    inline = not download and c.content_type.startswith(INLINE)
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Length": str(c.size),
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(c.file_name)}",
        "ETag": f'"{c.sha256}"',
        "X-Content-SHA256": c.sha256,
        "Digest": "sha-256=" + base64.b64encode(bytes.fromhex(c.sha256)).decode(),
        "X-Document-Version": str(c.number),
    }
    return StreamingResponse(service.stream(session, c), media_type=c.content_type, headers=headers)
