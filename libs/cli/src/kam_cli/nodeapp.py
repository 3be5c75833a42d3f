"""One process hosting every service of a node (`--process-per node`).

`create_app()` (uvicorn `--factory kam_cli.nodeapp:create_app`) builds each service's app with its
own `create_app()` and dispatches requests by path prefix (the specs' routes) with the scope
unchanged: services declare their routes with full paths, so no prefix is stripped (a Starlette
`Mount` would strip it, and would not run the sub-apps' lifespans either). `/openapi.json` is the
services' documents merged into the node's (kam_cli.apidocs), with Swagger UI at `/docs` and ReDoc at
`/redoc`, as the gateway serves them in one-process-per-service mode.

Each service app's lifespan is run explicitly through the ASGI lifespan protocol, in start order on
start-up and in reverse on shutdown, with its own lifespan `state` (what a Starlette/FastAPI lifespan
yields is visible as `request.state` in that service only).

While a service's app is created and while its lifespan starts, the environment holds that service's
`KAM_SERVICE` (and no `KAM_JWKS_URL` for the token issuer), as in one-process-per-service mode.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

from kam_cli import apidocs
from kam_cli.services import METRICS_SERVICE, ROUTES, identity_service, route, specs_for
from kam_platform import console
from kam_platform.errors import error_body
from kam_platform.service import ServiceSpec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NODE_SERVICES_ENV = "KAM_NODE_SERVICES"


@contextmanager
def service_environment(service: str) -> Iterator[None]:
    """The environment a service sees in its own process: KAM_SERVICE, and no JWKS URL for the token
    issuer (it verifies with its own keys)."""
    saved = {k: os.environ.get(k) for k in ("KAM_SERVICE", "KAM_JWKS_URL")}
    os.environ["KAM_SERVICE"] = service
    issuer = identity_service()
    if issuer is not None and service == issuer.name:
        os.environ.pop("KAM_JWKS_URL", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class LifespanRunner:
    """Drives one ASGI app's lifespan (startup now, shutdown later) like a server would."""

    def __init__(self, name: str, app: ASGIApp) -> None:
        self.name = name
        self.app = app
        self.state: dict[str, Any] = {}
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._events: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.supported = True

    async def _run(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self._inbox.get, self._events.put)
        except Exception as exc:
            await self._events.put({"type": "_exited", "error": exc})
        else:
            await self._events.put({"type": "_exited", "error": None})

    async def _wait(self, expected: str) -> None:
        msg = await self._events.get()
        if msg["type"] == f"{expected}.complete":
            return
        if msg["type"] == f"{expected}.failed":
            raise RuntimeError(f"{self.name}: {expected} failed: {msg.get('message', '')}")
        if expected == "lifespan.startup":
            # the app returned or raised without answering: no lifespan support (as uvicorn's "auto")
            self.supported = False
            return
        if msg.get("error") is not None:
            raise RuntimeError(f"{self.name}: lifespan ended with {msg['error']!r}")

    async def startup(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"lifespan-{self.name}")
        await self._inbox.put({"type": "lifespan.startup"})
        await self._wait("lifespan.startup")

    async def shutdown(self) -> None:
        if self._task is None or not self.supported:
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        try:
            await self._wait("lifespan.shutdown")
        finally:
            await self._task


async def _respond_json(
    send: Send, status: int, body: Mapping[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": data})


async def _drain(receive: Receive) -> None:
    """Consume the request body of a request answered without reading it."""
    while True:
        msg = await receive()
        if msg["type"] != "http.request" or not msg.get("more_body", False):
            return


class NodeApp:
    """ASGI app dispatching a node's paths to its services' apps."""

    def __init__(
        self,
        apps: Mapping[str, ASGIApp],
        routes: Mapping[str, str] | None = None,
        metrics_service: str | None = METRICS_SERVICE,
        node: str | None = None,
    ) -> None:
        self.apps = dict(apps)
        self.title = apidocs.node_title(node if node is not None else os.environ.get("KAM_NODE"))
        self._openapi_doc: dict[str, Any] | None = None
        self.routes = dict(ROUTES if routes is None else routes)
        self.metrics_service = metrics_service if metrics_service in self.apps else next(iter(self.apps), None)
        self.runners = {name: LifespanRunner(name, app) for name, app in self.apps.items()}

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        started: list[LifespanRunner] = []
        msg = await receive()
        assert msg["type"] == "lifespan.startup"
        try:
            for name, runner in self.runners.items():
                with service_environment(name):
                    await runner.startup()
                started.append(runner)
        except BaseException as exc:
            for runner in reversed(started):
                await runner.shutdown()
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        msg = await receive()
        assert msg["type"] == "lifespan.shutdown"
        errors: list[str] = []
        for runner in reversed(started):
            try:
                await runner.shutdown()
            except Exception as exc:
                errors.append(str(exc))
        if errors:
            await send({"type": "lifespan.shutdown.failed", "message": "; ".join(errors)})
        else:
            await send({"type": "lifespan.shutdown.complete"})

    def _scope_for(self, service: str, scope: Scope) -> Scope:
        child = dict(scope)
        child["state"] = dict(self.runners[service].state)
        return child

    async def _get(self, service: str, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        """The HTTP status and body a GET of `path` gets from one service app, in process."""
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(k, v) for k, v in headers if k.lower() in (b"host",)],
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
        }
        status = 500
        body: list[bytes] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
            elif msg["type"] == "http.response.body":
                body.append(bytes(msg.get("body", b"")))

        try:
            await asyncio.wait_for(self.apps[service](self._scope_for(service, scope), receive, send), 10.0)
        except Exception:
            return 500, b""
        return status, b"".join(body)

    async def _status_of(self, service: str, path: str, headers: list[tuple[bytes, bytes]]) -> int:
        return (await self._get(service, path, headers))[0]

    async def _openapi(self, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        """The node's document: its services' merged (kam_cli.apidocs), cached once all answered."""
        if self._openapi_doc is not None:
            return self._openapi_doc
        names = list(self.apps)
        answers = await asyncio.gather(*(self._get(n, apidocs.OPENAPI_PATH, headers) for n in names))
        docs: dict[str, dict[str, Any]] = {}
        for name, (status, body) in zip(names, answers, strict=True):
            try:
                doc = json.loads(body) if status == 200 else None
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                docs[name] = doc
        missing = [n for n in names if n not in docs]
        merged = apidocs.merge(docs, self.routes, title=self.title, unavailable=missing)
        if not missing:
            self._openapi_doc = merged
        return merged

    async def _api_docs(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer /openapi.json, /docs and /redoc (True), or leave the request alone (False)."""
        path = scope["path"]
        if scope["type"] != "http" or path not in (apidocs.OPENAPI_PATH, apidocs.DOCS_PATH, apidocs.REDOC_PATH):
            return False
        await _drain(receive)
        if scope["method"] not in ("GET", "HEAD"):
            body = error_body(405, "METHOD_NOT_ALLOWED", "Method Not Allowed", f"{path} answers GET and HEAD")
            await _respond_json(send, 405, body, [(b"allow", b"GET, HEAD")])
            return True
        if path == apidocs.OPENAPI_PATH:
            await _respond_json(send, 200, await self._openapi(scope["headers"]))
            return True
        url = scope.get("root_path", "") + apidocs.OPENAPI_PATH
        page = apidocs.swagger_ui(url, self.title) if path == apidocs.DOCS_PATH else apidocs.redoc(url, self.title)
        await page(scope, receive, send)
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind not in ("http", "websocket"):
            return
        if await console.serve(scope, receive, send):  # the web console's files (kam_platform.console)
            return
        if await self._api_docs(scope, receive, send):  # the node's one API document and its Swagger UI
            return
        path: str = scope["path"]
        if kind == "http" and path == "/health":
            await _drain(receive)
            await _respond_json(send, 200, {"status": "ok"})
            return
        if kind == "http" and path == "/ready":
            await _drain(receive)
            names = list(self.apps)
            codes = await asyncio.gather(*(self._status_of(n, "/ready", scope["headers"]) for n in names))
            services = {n: c == 200 for n, c in zip(names, codes, strict=True)}
            ok = all(services.values())
            await _respond_json(
                send, 200 if ok else 503, {"status": "ok" if ok else "unavailable", "services": services}
            )
            return
        service = route(path, self.routes)
        if service is None and path == "/metrics":
            service = self.metrics_service
        if service is None or service not in self.apps:
            if kind == "http":
                await _drain(receive)
                body = error_body(404, "NOT_FOUND", "Not Found", f"no service serves {path}")
                await _respond_json(send, 404, body)
            return
        await self.apps[service](self._scope_for(service, scope), receive, send)


def build_service_app(spec: ServiceSpec) -> ASGIApp:
    with service_environment(spec.name):
        app: ASGIApp = spec.create_app()
    return app


def create_app(services: Iterable[str] | None = None) -> NodeApp:
    """The node app. `services` (names; a mapping's keys) defaults to `$KAM_NODE_SERVICES` (a JSON
    object whose keys are the names, or comma-separated names), else every installed service."""
    if services is None:
        raw = os.environ.get(NODE_SERVICES_ENV, "").strip()
        if raw.startswith("{"):
            services = [str(k) for k in json.loads(raw)]
        elif raw:
            services = [name.strip() for name in raw.split(",") if name.strip()]
    specs = specs_for(None if services is None else list(services))
    apps = {name: build_service_app(spec) for name, spec in specs.items()}
    return NodeApp(apps)
