"""Serving the built web console (console/dist) at a node's base URL.

Every node serves the console: its static assets, and for a browser's navigation (GET with Accept:
text/html) to any other page path the SPA's index.html (client-side routes such as /customers/123 load
the app, which routes itself). Paths that belong to the API and the operations endpoints are never
shadowed: they always reach the node's services, file or no file (RESERVED).

`ConsoleMiddleware` wraps any ASGI app (the gateway adds it as Starlette middleware); `serve()` is the
same logic as a function for an ASGI app that routes itself (the node process). The dist directory is
`$KAM_CONSOLE_DIST`, else `console/dist` of the checkout; when it has no index.html (the console was not
built) nothing is served and every request passes through.

index.html gets this node's code, tier, parent and names (from the node's settings and topology) as
`window.__KAM_NODE__`, so the login screen can say which node it is before anyone holds a token.
"""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DIST_ENV = "KAM_CONSOLE_DIST"
# path prefixes (whole segments) the console never answers
RESERVED = ("/api", "/tmf-api", "/docs", "/redoc", "/openapi.json", "/metrics", "/health", "/ready", "/.well-known")
IMMUTABLE = "public, max-age=31536000, immutable"  # Vite's /assets/ files carry a content hash
NO_CACHE = "no-cache"


def default_dist() -> Path:
    """`$KAM_CONSOLE_DIST`, else console/dist of the checkout this module lives in."""
    env = os.environ.get(DIST_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[4] / "console" / "dist"


def is_reserved(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in RESERVED)


def node_info() -> dict[str, Any] | None:
    """This node's code, tier, parent and names, from its settings (KAM_NODE, KAM_TOPOLOGY_FILE)."""
    try:
        from kam_platform.settings import Settings

        return Settings().this_node.to_dict()
    except Exception:  # a node without a readable topology still serves the console, unnamed
        return None


@dataclass
class Console:
    dist: Path
    _index: tuple[float, bytes] | None = None

    @property
    def available(self) -> bool:
        return (self.dist / "index.html").is_file()

    def index_html(self) -> bytes:
        """index.html with this node's identity injected (re-read when the file changes: a rebuild)."""
        path = self.dist / "index.html"
        mtime = path.stat().st_mtime
        if self._index is None or self._index[0] != mtime:
            html = path.read_text(encoding="utf-8")
            info = json.dumps(node_info(), ensure_ascii=False).replace("<", "\\u003c")
            html = html.replace("</head>", f"<script>window.__KAM_NODE__={info};</script></head>", 1)
            self._index = (mtime, html.encode("utf-8"))
        return self._index[1]

    def file_for(self, path: str) -> Path | None:
        """The file under dist for a URL path, or None (never outside dist)."""
        rel = path.lstrip("/")
        if not rel or "\x00" in rel:
            return None
        root = self.dist.resolve()
        candidate = (root / rel).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        return candidate

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request when it is the console's; False to let the app answer it."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return False
        path: str = scope["path"]
        if is_reserved(path) or not self.available:
            return False
        file = self.file_for(path)
        if file is not None and file.name != "index.html":
            body = file.read_bytes()
            ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
                ctype += "; charset=utf-8"
            cache = IMMUTABLE if path.startswith("/assets/") else NO_CACHE
        elif file is None and (path.startswith("/assets/") or not _wants_html(scope)):
            return False  # a missing asset, or an API client's GET of an unknown path: the app's 404
        else:
            body = self.index_html()
            ctype = "text/html; charset=utf-8"
            cache = NO_CACHE
        await _drain(receive)
        headers = [
            (b"content-type", ctype.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", cache.encode()),
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        return True


def _wants_html(scope: Scope) -> bool:
    """A browser navigating to a page (Accept names text/html), not an API client."""
    for key, value in scope.get("headers", []):
        if key == b"accept":
            return b"text/html" in value
    return False


async def _drain(receive: Receive) -> None:
    while True:
        msg = await receive()
        if msg["type"] != "http.request" or not msg.get("more_body", False):
            return


_default: Console | None = None


def default_console() -> Console:
    global _default
    if _default is None:
        _default = Console(default_dist())
    return _default


async def serve(scope: Scope, receive: Receive, send: Send) -> bool:
    """The console's answer with the default dist; False when the request is not the console's."""
    return await default_console().serve(scope, receive, send)


class ConsoleMiddleware:
    """ASGI middleware: the console's files and SPA fallback in front of `app`."""

    def __init__(self, app: ASGIApp, dist: Path | None = None) -> None:
        self.app = app
        self.console = Console(dist) if dist is not None else default_console()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await self.console.serve(scope, receive, send):
            return
        await self.app(scope, receive, send)
