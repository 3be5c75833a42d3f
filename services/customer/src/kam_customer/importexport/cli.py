"""Client side of `kam import FILE --node CODE` and `kam export --node CODE [--format] [--out]`: streaming
upload and download over HTTP (the `kam` CLI resolves the node's base URL and token and calls these)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from .endpoints import EXPORTS, IMPORTS
from .schemas import CSV_TYPE, XLSX_TYPE

BLOCK = 1 << 20


class TransferError(RuntimeError):
    """The node answered with an error envelope."""

    def __init__(self, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else str(body)
        super().__init__(f"HTTP {status}: {message}")
        self.status, self.body = status, body


def _error(resp: httpx.Response) -> TransferError:
    try:
        body: Any = resp.json()
    except ValueError:
        body = resp.text
    return TransferError(resp.status_code, body)


def _blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            yield block


def import_file(base_url: str, token: str, path: str | Path, *, timeout: float = 3600.0) -> dict[str, Any]:
    """Upload a CSV or XLSX file (streamed, never read whole into memory); returns the ImportResult."""
    p = Path(path)
    ctype = XLSX_TYPE if p.suffix.lower() in (".xlsx", ".xlsm") else CSV_TYPE
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        resp = client.post(
            IMPORTS,
            content=_blocks(p),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": ctype,
                "Content-Length": str(p.stat().st_size),
            },
        )
    if resp.status_code >= 400:
        raise _error(resp)
    result: dict[str, Any] = resp.json()
    return result


def export_file(
    base_url: str,
    token: str,
    *,
    fmt: str = "csv",
    out: str | Path | None = None,
    filters: Mapping[str, str] | None = None,
    timeout: float = 3600.0,
) -> Path:
    """Download the caller's scoped export (optionally filtered like the TMF list) to `out` (default: the
    server's file name in the current directory); returns the path written."""
    params = {**(filters or {}), "format": fmt}
    with (
        httpx.Client(base_url=base_url, timeout=timeout) as client,
        client.stream("GET", EXPORTS, params=params, headers={"Authorization": f"Bearer {token}"}) as resp,
    ):
        if resp.status_code >= 400:
            resp.read()
            raise _error(resp)
        target = Path(out) if out is not None else Path(_filename(resp) or f"customers.{fmt}")
        partial = target.with_name(target.name + ".part")
        with open(partial, "wb") as fh:
            for block in resp.iter_bytes(BLOCK):
                fh.write(block)
        partial.replace(target)
    return target


def _filename(resp: httpx.Response) -> str | None:
    disposition = resp.headers.get("content-disposition", "")
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "filename" and value:
            return Path(value.strip('"')).name
    return None
