"""Hostile input stopped before any handler runs: the body limit chosen by exact media type and route,
NUL characters (PostgreSQL text cannot hold them) in the path, query string, JSON and form bodies, JSON
nested too deep for the parser, and paging integers beyond int64 — each answered 400/413 in the error
envelope, naming the parameter."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kam_platform.errors import BadRequest, InvalidQuery, KamError, PayloadTooLarge

INT64_MAX = 2**63 - 1
# TMF630 paging parameters: whatever endpoint reads them, their value ends up as a bigint bind parameter
PAGING_PARAMS = frozenset({"offset", "limit"})
# far beyond any body KAM accepts, far below the ~1000 levels at which the parsers hit the recursion limit
MAX_JSON_DEPTH = 64
UPLOAD_TYPES_KEY = "x-kam-upload-types"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
_INTEGER = re.compile(r"[+-]?\d+")
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_PATH_PARAM = re.compile(r"\\\{[^/]*?\\\}")  # an escaped {name} in re.escape(openapi path)
# a JSON \u0000 escape, not preceded by an escaping backslash (\\u0000 is the text "\u0000")
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def upload_body(*media_types: str) -> dict[str, Any]:
    """`openapi_extra` for a route that takes a file upload: documents the body, and lets the guard apply
    the upload limit to exactly these media types on exactly this route (every other body keeps the
    small JSON limit, whatever its Content-Type parameters say)."""
    content: dict[str, Any] = {}
    for t in media_types:
        if t == _MULTIPART:
            schema: dict[str, Any] = {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        else:
            schema = {"type": "string", "format": "binary"}
        content[t] = {"schema": schema}
    return {"requestBody": {"required": True, "content": content}, UPLOAD_TYPES_KEY: list(media_types)}


def media_type(content_type: str) -> str:
    """The bare media type of a Content-Type header value, lower-case, parameters dropped."""
    return content_type.split(";", 1)[0].strip().lower()


class InputGuardMiddleware:
    """Refuses hostile input with the error envelope before routing (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int, max_json_depth: int = MAX_JSON_DEPTH):
        self.app, self.max_body, self.max_upload, self.max_json_depth = app, max_body, max_upload, max_json_depth
        self._uploads: list[tuple[re.Pattern[str], str, frozenset[str]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_target(scope)
            headers = {k.lower(): v for k, v in scope["headers"]}
            mtype = media_type(headers.get(b"content-type", b"").decode("latin-1"))
            upload = self._is_upload(scope, mtype)
            limit = self.max_upload if upload else self.max_body
            declared = headers.get(b"content-length", b"").strip()
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            has_body = bool(declared and declared != b"0") or b"transfer-encoding" in headers
            if upload:
                receive = _counting(receive, limit)
            elif has_body or scope["method"] in _BODY_METHODS:
                body, tail = await _read_body(receive, limit)
                await self._check_body(scope, mtype, body)
                receive = _replay(body, tail, receive)
        except KamError as exc:
            await JSONResponse(exc.envelope(), status_code=exc.status)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _is_upload(self, scope: Scope, mtype: str) -> bool:
        if not mtype:
            return False
        if self._uploads is None:
            self._uploads = list(_upload_routes(scope.get("app")))
        method, path = scope["method"], scope.get("path", "")
        return any(m == method and mtype in types and p.fullmatch(path) for p, m, types in self._uploads)

    async def _check_body(self, scope: Scope, mtype: str, body: bytes) -> None:
        if not body:
            return
        if mtype == _FORM:
            check_form(body)
        elif mtype == _MULTIPART:
            if b"\x00" in body:  # rare: parse only then, to name the field
                await _check_multipart(scope, body)
        else:
            # any other body may be read as JSON (a missing Content-Type is taken as JSON)
            check_json(body, self.max_json_depth)


def check_target(scope: Scope) -> None:
    """NUL in the path or the query string, and paging integers beyond int64."""
    if "\x00" in scope.get("path", ""):
        raise BadRequest("path: NUL characters are not allowed")
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            raise InvalidQuery(f"query parameter {key!r}: NUL characters are not allowed")
        if key in PAGING_PARAMS:
            v = value.strip()
            if _INTEGER.fullmatch(v) and (len(v.lstrip("+-")) > 19 or abs(int(v)) > INT64_MAX):
                raise InvalidQuery(f"{key} must be an integer between 0 and {INT64_MAX}, got {v[:40]!r}")


def check_form(body: bytes) -> None:
    for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            raise BadRequest(f"form field {key!r}: NUL characters are not allowed")


def check_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Nesting deeper than `max_depth`, or a NUL (\\u0000) in a string or key: 400 naming where."""
    deep = body.count(b"[") + body.count(b"{") > max_depth
    nul = _JSON_NUL.search(body) is not None
    if not deep and not nul:  # the common case costs two scans at C speed
        return
    text = body.decode("utf-8", errors="replace")
    if deep and json_depth(text, max_depth) > max_depth:
        raise BadRequest(f"JSON body nested more than {max_depth} levels deep")
    if nul:
        try:
            data = json.loads(text)
        except ValueError:
            return  # malformed: the handler's own parser reports it
        where = _nul_path(data, "")
        if where is not None:
            raise BadRequest(f"{where or 'body'}: NUL characters are not allowed")


def json_depth(text: str, stop_above: int) -> int:
    """Bracket nesting depth of a JSON text (strings ignored); stops counting once above `stop_above`."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def _nul_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            if "\x00" in k:
                return here.replace("\x00", "\\u0000")
            found = _nul_path(v, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _nul_path(v, f"{path}[{i}]")
            if found is not None:
                return found
    return None


async def _check_multipart(scope: Scope, body: bytes) -> None:
    request = Request(scope, _replay(body, None, _no_more))
    try:
        form = await request.form()
    except Exception:
        return  # malformed: the handler's own parser reports it
    try:
        for key, value in form.multi_items():
            if isinstance(value, str) and ("\x00" in key or "\x00" in value):
                raise BadRequest(f"form field {key!r}: NUL characters are not allowed")
    finally:
        await form.close()


def _upload_routes(app: Any) -> Iterable[tuple[re.Pattern[str], str, frozenset[str]]]:
    """(path pattern, method, media types) of every operation whose OpenAPI marks it an upload — read
    from the published document, the one public description of the routes however they are nested."""
    openapi = getattr(app, "openapi", None)
    if openapi is None:
        return
    for path, item in openapi().get("paths", {}).items():
        for method, operation in item.items():
            types = operation.get(UPLOAD_TYPES_KEY) if isinstance(operation, dict) else None
            if types:
                pattern = re.compile(_PATH_PARAM.sub("[^/]+", re.escape(path)))
                yield pattern, method.upper(), frozenset(t.lower() for t in types)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body exceeds the limit of {limit} bytes for this route and media type")


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, Message | None]:
    """The whole body (at most `limit` bytes, else 413 before anything parses it), and a disconnect
    message if the client went away meanwhile."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, tail: Message | None, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if tail is not None:
            return tail
        return await receive()

    return replay


async def _no_more() -> Message:
    return {"type": "http.disconnect"}


def _counting(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                # a typed error: the handler's transaction rolls back and the error handler answers 413
                raise _too_large(limit)
        return message

    return counted
