"""JSON logs with request ids, Prometheus metrics, health and readiness endpoints."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

REQUESTS = Counter("kam_http_requests_total", "HTTP requests", ["service", "method", "status"])
LATENCY = Histogram("kam_http_request_seconds", "HTTP request latency", ["service", "method"])


class JsonFormatter(logging.Formatter):
    def __init__(self, node: str, service: str) -> None:
        super().__init__()
        self.node, self.service = node, service

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "node": self.node,
            "service": self.service,
        }
        rid = request_id_var.get()
        if rid:
            out["request_id"] = rid
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(node: str, service: str, level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_kam", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(node, service))
    handler._kam = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # one INFO line per outgoing HTTP request (JWKS fetches, in-process test and bench clients) is noise
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))


class RequestContextMiddleware:
    """Assigns a request id (or honours X-Request-Id) and times the request. Body limits are the input
    guard's (`kam_platform.inputguard`), chosen there by exact media type and route."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rid = headers.get(b"x-request-id", b"").decode() or uuid.uuid4().hex
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            method = scope.get("method", "")
            REQUESTS.labels(self.service, method, str(status)).inc()
            LATENCY.labels(self.service, method).observe(time.perf_counter() - start)
            request_id_var.reset(token)


def ops_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/health")
    async def health(request: Request) -> dict[str, str]:
        s = request.app.state.settings
        return {"status": "ok", "node": s.node, "service": s.service}

    @router.get("/ready")
    async def ready(request: Request) -> Response:
        s = request.app.state.settings
        try:
            async with request.app.state.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready", "node": s.node, "service": s.service})

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
