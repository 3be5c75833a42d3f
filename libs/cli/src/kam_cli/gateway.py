"""A node's front door in one-process-per-service mode: a small path-routing reverse proxy.

Routes by path prefix (the discovered specs' routes, kam_cli.services.ROUTES) to the node's service
processes, streaming bodies both ways with httpx. The `Host` header is forwarded unchanged so services
build `href`s with the node's URL. `/health` is answered here; `/ready` reports every upstream's
`/ready`; `/openapi.json` is the services' documents merged into the node's (kam_cli.apidocs), with
Swagger UI at `/docs` (ReDoc at `/redoc`). A pooled connection that the service broke is discarded,
and an idempotent request that met one is sent again on another.

Every answer carries one `date` and one `server` header: uvicorn adds its own to everything the
gateway sends, so the upstream's are dropped (docs/architecture.md, "The gateway").

Configured from the environment when started by uvicorn (`--factory kam_cli.gateway:create_app`):
`KAM_GATEWAY_UPSTREAMS` = JSON object service → base URL, e.g. `{"<service>": "http://127.0.0.1:8101"}`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from http import HTTPStatus

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from kam_cli import apidocs
from kam_cli.services import ROUTES, route
from kam_platform.console import ConsoleMiddleware
from kam_platform.errors import error_body

UPSTREAMS_ENV = "KAM_GATEWAY_UPSTREAMS"
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# RFC 9110 §9.2.2: safe to send again when no answer came back
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
REPLAYABLE_BODY = 1 << 20  # an idempotent request's body up to this size is buffered so it can be resent
ATTEMPTS = 3
# set by the server (uvicorn) on every answer the gateway sends: the upstream's copies are dropped
SERVER_SET = frozenset({"date", "server"})
DROPPED_RESPONSE_HEADERS = HOP_BY_HOP | SERVER_SET
# a pooled keep-alive connection that the service closed meanwhile (it dropped the connection after an
# error, or restarted) fails like this before any answer; httpx has discarded the connection by then
_STALE_CONNECTION = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.ConnectError)


def error_response(status: int, reason: str, message: str) -> JSONResponse:
    """The TMF630 error envelope (kam_platform.errors.error_body), for errors the gateway itself
    produces; the code is the status's symbolic name (`BAD_GATEWAY`)."""
    return JSONResponse(error_body(status, HTTPStatus(status).name, reason, message), status_code=status)


def _request_headers(request: Request) -> list[tuple[bytes, bytes]]:
    headers = [(k, v) for k, v in request.headers.raw if k.decode("latin-1").lower() not in HOP_BY_HOP]
    client = request.client.host if request.client else None
    if client:
        prior = request.headers.get("x-forwarded-for")
        forwarded = f"{prior}, {client}" if prior else client
        headers = [(k, v) for k, v in headers if k.lower() != b"x-forwarded-for"]
        headers.append((b"x-forwarded-for", forwarded.encode("latin-1")))
    if "x-forwarded-proto" not in request.headers:
        headers.append((b"x-forwarded-proto", request.url.scheme.encode("latin-1")))
    return headers


def _response_headers(resp: httpx.Response) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in resp.headers.raw if k.decode("latin-1").lower() not in DROPPED_RESPONSE_HEADERS]


def create_app(
    upstreams: Mapping[str, str] | None = None, routes: Mapping[str, str] | None = None, node: str | None = None
) -> Starlette:
    """The gateway app; `upstreams` maps service → base URL (default: `$KAM_GATEWAY_UPSTREAMS`), `node`
    names the node in its API document (default: `$KAM_NODE`)."""
    if upstreams is None:
        upstreams = json.loads(os.environ.get(UPSTREAMS_ENV, "{}"))
    targets = {name: url.rstrip("/") for name, url in upstreams.items()}
    table = dict(ROUTES if routes is None else routes)
    title = apidocs.node_title(node if node is not None else os.environ.get("KAM_NODE"))
    clients: dict[str, httpx.AsyncClient] = {}
    merged: dict[str, dict[str, object]] = {}  # the node's document, once every service gave its own

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(connect=5.0, read=None, write=None, pool=30.0)
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False) as client:
            clients["http"] = client
            yield
            clients.clear()

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        client = clients["http"]

        async def check(url: str) -> bool:
            try:
                resp = await client.get(url + "/ready", timeout=5.0)
            except httpx.HTTPError:
                return False
            return resp.status_code == 200

        names = list(targets)
        results = await asyncio.gather(*(check(targets[n]) for n in names))
        services = dict(zip(names, results, strict=True))
        ok = all(results)
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "services": services}, status_code=200 if ok else 503
        )

    async def openapi(request: Request) -> Response:
        if "doc" in merged:
            return JSONResponse(merged["doc"])
        client = clients["http"]

        async def fetch(url: str) -> dict[str, object] | None:
            try:
                resp = await client.get(url + apidocs.OPENAPI_PATH, timeout=10.0)
                doc = resp.json() if resp.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                return None
            return doc if isinstance(doc, dict) else None

        names = list(targets)
        found = dict(zip(names, await asyncio.gather(*(fetch(targets[n]) for n in names)), strict=True))
        docs = {name: doc for name, doc in found.items() if doc is not None}
        missing = [name for name, doc in found.items() if doc is None]
        doc = apidocs.merge(docs, table, title=title, unavailable=missing)
        if not missing:
            merged["doc"] = doc
        return JSONResponse(doc)

    async def docs(request: Request) -> Response:
        response: Response = apidocs.swagger_ui(request.scope.get("root_path", "") + apidocs.OPENAPI_PATH, title)
        return response

    async def redoc(request: Request) -> Response:
        response: Response = apidocs.redoc(request.scope.get("root_path", "") + apidocs.OPENAPI_PATH, title)
        return response

    async def proxy(request: Request) -> Response:
        path = request.url.path
        service = route(path, table)
        if service is None or service not in targets:
            return error_response(404, "Not Found", f"no service serves {path}")
        raw_path: bytes = request.scope.get("raw_path") or path.encode()
        query: bytes = request.scope.get("query_string", b"")
        url = httpx.URL(targets[service]).copy_with(raw_path=raw_path + (b"?" + query if query else b""))
        has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
        length = request.headers.get("content-length", "")
        replayable = request.method in IDEMPOTENT and (
            not has_body or (length.isdigit() and int(length) <= REPLAYABLE_BODY)
        )
        content: bytes | AsyncIterator[bytes] | None = None
        if has_body:
            content = await request.body() if replayable else request.stream()
        headers = _request_headers(request)
        attempt = 0
        while True:
            attempt += 1
            upstream_req = clients["http"].build_request(request.method, url, headers=headers, content=content)
            try:
                upstream = await clients["http"].send(upstream_req, stream=True)
                break
            except httpx.TimeoutException:
                return error_response(504, "Gateway Timeout", f"service {service} did not answer in time")
            except _STALE_CONNECTION as exc:
                # the next try takes another pooled connection or opens a fresh one; only a request that
                # may be sent twice is retried (a POST may have been applied before the connection broke)
                if replayable and attempt < ATTEMPTS:
                    continue
                return error_response(502, "Bad Gateway", f"service {service} is unavailable: {type(exc).__name__}")
            except httpx.HTTPError as exc:
                return error_response(502, "Bad Gateway", f"service {service} is unavailable: {type(exc).__name__}")
        response = StreamingResponse(
            upstream.aiter_raw(), status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
        )
        response.raw_headers = _response_headers(upstream)
        return response

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET", "HEAD"]),
            Route("/ready", ready, methods=["GET", "HEAD"]),
            Route(apidocs.OPENAPI_PATH, openapi, methods=["GET", "HEAD"]),
            Route(apidocs.DOCS_PATH, docs, methods=["GET", "HEAD"]),
            Route(apidocs.REDOC_PATH, redoc, methods=["GET", "HEAD"]),
            Route("/{path:path}", proxy, methods=METHODS),
        ],
        lifespan=lifespan,
        middleware=[Middleware(ConsoleMiddleware)],  # the web console (kam_platform.console)
    )
