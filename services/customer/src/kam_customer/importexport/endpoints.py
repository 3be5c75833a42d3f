"""Bulk import (CSV/XLSX upload) and export (CSV/XLSX download) of key accounts."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from kam_customer.customer.repository import FILTERABLE
from kam_customer.customer.views import FIELDS
from kam_platform.auth import Principal, require
from kam_platform.db.engine import ReadSession, Session
from kam_platform.errors import BadRequest, InvalidQuery, UnsupportedMediaType
from kam_platform.inputguard import upload_body
from kam_platform.settings import AppSettings
from kam_platform.tmf import INT64_MAX, id_or_404, parse_list_query

from . import service
from .schemas import CSV_TYPE, MULTIPART_TYPE, XLSX_TYPE, ImportResultRead, ImportRowRead

router = APIRouter(tags=["customer import/export"])

IMPORTS = "/api/v1/customer/imports"
EXPORTS = "/api/v1/customer/exports"
_KINDS: dict[str, service.FileKind] = {CSV_TYPE: "csv", "application/csv": "csv", XLSX_TYPE: "xlsx"}


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


async def _spool_upload(request: Request, path: Path) -> service.FileKind:
    """Write the uploaded file to `path` without holding it in memory; returns its kind."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in _KINDS:
        with open(path, "wb") as fh:
            async for block in request.stream():
                fh.write(block)
        return _KINDS[ctype]
    if ctype == MULTIPART_TYPE:
        form = await request.form()  # parts are spooled to disk by the parser
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise BadRequest("multipart body needs a 'file' part with the CSV or XLSX file")
        name = (part.filename or "").lower()
        kind = _KINDS.get((part.content_type or "").split(";")[0].strip().lower()) or (
            "xlsx" if name.endswith(".xlsx") else "csv" if name.endswith(".csv") else None
        )
        if kind is None:
            raise UnsupportedMediaType(f"file part must be {CSV_TYPE} or {XLSX_TYPE} (or named *.csv / *.xlsx)")
        with open(path, "wb") as fh:
            shutil.copyfileobj(part.file, fh, 1 << 20)
        await form.close()
        return kind
    raise UnsupportedMediaType(
        f"Content-Type {ctype or '(none)'!r} is not supported here; send the file as {CSV_TYPE} or {XLSX_TYPE}, "
        f"or as the 'file' part of {MULTIPART_TYPE}"
    )


@router.post(
    IMPORTS,
    summary="Import customers from CSV or XLSX (批量导入)",
    openapi_extra=upload_body(CSV_TYPE, "application/csv", XLSX_TYPE, MULTIPART_TYPE),
    response_model_exclude_unset=True,  # a row error names its sheet only where the file has sheets
)
async def import_customers(
    request: Request,
    session: Session,
    settings: AppSettings,
    principal: Principal = require("customer:import"),
) -> ImportResultRead:
    """The body is the file itself (`text/csv` in UTF-8 or GB18030, or XLSX), or a multipart form with a
    `file` part. Header row by column name (`customerCode`, `name`, `industry`, … or 客户编码, 客户名称, 行业…).
    `customerCode` is the idempotency key: a known code owned by this node is updated (version + 1), a new
    one created. Every row is validated; bad rows are reported (row = line of the file, header = 1) and
    skipped, good rows are loaded in the same transaction."""
    fd, name = tempfile.mkstemp(prefix="kam-import-", suffix=".upload")
    os.close(fd)
    path = Path(name)
    try:
        kind = await _spool_upload(request, path)
        result = await service.import_file(session, settings=settings, principal=principal, path=path, kind=kind)
    finally:
        _remove(path)
    return ImportResultRead.model_validate(result.to_api())


@router.get(IMPORTS + "/{job}/rows", summary="What an import job did with each row")
async def import_job_rows(
    job: str,
    response: Response,
    session: ReadSession,
    settings: AppSettings,
    offset: int = Query(0, ge=0, le=INT64_MAX),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = require("customer.history:read"),
) -> list[ImportRowRead]:
    """Row by row, in file order: the customer each good row created or updated (with the changed
    attributes of an update). Read from the job's per-chunk audit records (one per CustomersImported
    event), so an ancestor node answers for imports in its subtree too. Rejected rows are in the
    import's answer, not here."""
    job_id = id_or_404(job, "import job")
    total, rows = await service.job_rows(
        session, settings=settings, principal=principal, job=job_id, offset=offset, limit=limit
    )
    response.headers.update({"X-Total-Count": str(total), "X-Result-Count": str(len(rows))})
    return [ImportRowRead.model_validate(r) for r in rows]


async def _started(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`chunks` with its first one already produced: once the status line is sent an error can only cut
    the body short, so whatever fails on the first page fails here, as an error answer."""
    first = await anext(chunks)

    async def rest() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return rest()


def _disposition(settings: Any, ext: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f'attachment; filename="customers-{settings.node}-{stamp}.{ext}"'


@router.get(
    EXPORTS,
    summary="Export customers as CSV or XLSX (批量导出)",
    response_model=None,
    response_class=Response,  # the answer is a file: no JSON media type documented for it
    responses={
        200: {
            "description": "The file, as an attachment (Content-Disposition)",
            "content": {
                CSV_TYPE: {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def export_customers(
    request: Request,
    session: ReadSession,
    settings: AppSettings,
    principal: Principal = require("customer:export"),
) -> StreamingResponse | FileResponse:
    """Every customer of the caller's data scope matching the TMF list filters (and `q=`), in the import's
    columns, so an export re-imports cleanly. `format=csv` (default, UTF-8 with BOM) or `format=xlsx`."""
    fmt = request.query_params.get("format", "csv").lower()
    if fmt not in ("csv", "xlsx"):
        raise InvalidQuery(f"format must be csv or xlsx, got {fmt!r}")
    lq = parse_list_query(request, FILTERABLE, FIELDS)
    if fmt == "csv":
        return StreamingResponse(
            await _started(service.export_csv(session, settings=settings, principal=principal, lq=lq)),
            media_type=f"{CSV_TYPE}; charset=utf-8",
            headers={"Content-Disposition": _disposition(settings, "csv")},
        )
    workdir = Path(tempfile.mkdtemp(prefix="kam-export-"))
    path = workdir / "customers.xlsx"
    try:
        await service.export_xlsx(session, settings=settings, principal=principal, lq=lq, path=path)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": _disposition(settings, "xlsx")},
        background=BackgroundTask(shutil.rmtree, workdir, ignore_errors=True),
    )
