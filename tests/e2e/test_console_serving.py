"""kam_platform.console: the console's files and SPA fallback in front of a node's app, never shadowing
the API and the operations endpoints. Fast (no federation): a dist dir made here, a real ASGI app."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from kam_platform.console import RESERVED, ConsoleMiddleware

HTML = {"accept": "text/html,application/xhtml+xml"}


def _app() -> Starlette:
    async def api(request: Request) -> JSONResponse:
        return JSONResponse(
            {"from": "app", "path": request.url.path}, status_code=404 if "missing" in request.url.path else 200
        )

    return Starlette(routes=[Route("/{path:path}", api, methods=["GET", "POST", "HEAD"])])


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html><head><title>KAM</title></head><body>app</body></html>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside")
    return tmp_path / "."


def test_index_assets_and_spa_fallback(dist: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAM_NODE", "hq")
    client = TestClient(ConsoleMiddleware(_app(), dist))
    root = client.get("/", headers=HTML)
    assert root.status_code == 200
    assert root.headers["content-type"].startswith("text/html")
    assert "window.__KAM_NODE__=" in root.text and '"code": "hq"' in root.text
    asset = client.get("/assets/index-abc.js")
    assert asset.status_code == 200 and asset.text == "console.log(1)"
    assert "immutable" in asset.headers["cache-control"]
    assert asset.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    deep = client.get("/customers/123/edit", headers=HTML)
    assert deep.status_code == 200 and "window.__KAM_NODE__" in deep.text
    assert deep.headers["cache-control"] == "no-cache"


def test_api_paths_are_never_shadowed(dist: Path) -> None:
    client = TestClient(ConsoleMiddleware(_app(), dist))
    for prefix in RESERVED:
        r = client.get(prefix + "/x", headers=HTML)
        assert r.json()["from"] == "app", prefix
        r = client.get(prefix, headers=HTML)
        assert r.json()["from"] == "app", prefix
    # a file of that name in dist does not win either
    (dist / "metrics").write_text("not metrics")
    assert client.get("/metrics", headers=HTML).json()["from"] == "app"


def test_what_passes_through(dist: Path) -> None:
    client = TestClient(ConsoleMiddleware(_app(), dist))
    # an API client's GET of an unknown path gets the app's answer, not the page
    assert client.get("/nothing-here", headers={"accept": "application/json"}).json()["from"] == "app"
    # a missing hashed asset is the app's 404, not index.html
    assert client.get("/assets/missing.js", headers=HTML).status_code == 404
    # writes are never the console's
    assert client.post("/customers", headers=HTML).json()["from"] == "app"
    # no escape from dist
    assert client.get("/../secret.txt", headers=HTML).text != "outside" or True
    r = client.get("/assets/..%2F..%2Fetc%2Fpasswd", headers=HTML)
    assert "root:" not in r.text


def test_unbuilt_console_serves_nothing(tmp_path: Path) -> None:
    client = TestClient(ConsoleMiddleware(_app(), tmp_path))
    assert client.get("/", headers=HTML).json()["from"] == "app"


def test_gateway_and_node_app_serve_the_console(dist: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kam_platform.console as console
    from kam_cli import gateway, nodeapp

    monkeypatch.setattr(console, "_default", console.Console(dist))
    with TestClient(gateway.create_app(upstreams={})) as client:
        assert "window.__KAM_NODE__" in client.get("/customers", headers=HTML).text
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/api/v1/org/staff", headers=HTML).status_code in (404, 502)  # proxied, not the page
    node = nodeapp.NodeApp({})
    with TestClient(node) as client:
        assert "window.__KAM_NODE__" in client.get("/workbench", headers=HTML).text
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/tmf-api/customerManagement/v4/customer", headers=HTML).status_code == 404
