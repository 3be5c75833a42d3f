"""One API document and one Swagger UI per node (issue 10), and one `date`/`server` header per answer.

Two made-up services (their own FastAPI apps, so the test depends on no installed service) define a
component alike (`Shared`), one differently (`Thing`), one that names the clashing one (`Holder`), and
the same operationId; the node's document keeps every routed path, renames what clashes and validates as
OpenAPI 3.1. The gateway is tested under uvicorn in front of the services under uvicorn (each server adds
its own `date` and `server`), the node app in process.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, create_model
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR
from starlette.types import ASGIApp

from kam_cli.apidocs import merge
from kam_cli.gateway import create_app as create_gateway
from kam_cli.nodeapp import NodeApp

ROUTES = {"/api/v1/alpha": "alpha", "/api/v1/beta": "beta"}


class Shared(BaseModel):
    code: str


# each service's own `Thing` and `Holder` (the component names are the model names)
AlphaThing = create_model("Thing", name=(str, ...))
AlphaHolder = create_model("Holder", thing=(AlphaThing, ...))
BetaThing = create_model("Thing", weight=(int, ...))
BetaHolder = create_model("Holder", thing=(BetaThing, ...))  # the same text as alpha's, another Thing


def alpha_app() -> FastAPI:
    app = FastAPI(title="alpha service", version="1.0.0")
    router = APIRouter(tags=["alpha things"])

    @router.get("/api/v1/alpha/thing", operation_id="get_thing", response_model=AlphaThing)
    async def get_thing() -> Any:
        return {"name": "a"}

    @router.get("/api/v1/alpha/holder", response_model=AlphaHolder)
    async def get_holder() -> Any:
        return {"thing": {"name": "a"}}

    @router.get("/api/v1/alpha/shared")
    async def shared() -> Shared:
        return Shared(code="a")

    @app.get("/api/v1/unrouted")  # in the service's document, but the node routes it to no service
    async def unrouted() -> dict[str, str]:
        return {}

    app.include_router(router)
    return app


def beta_app() -> FastAPI:
    app = FastAPI(title="beta service", version="1.0.0")

    @app.get("/api/v1/beta/thing", operation_id="get_thing", tags=["beta things"], response_model=BetaThing)
    async def get_thing() -> Any:
        return {"weight": 1}

    @app.get("/api/v1/beta/holder", response_model=BetaHolder)
    async def get_holder() -> Any:
        return {"thing": {"weight": 1}}

    @app.get("/api/v1/beta/shared")
    async def shared() -> Shared:
        return Shared(code="b")

    original = app.openapi

    def openapi() -> dict[str, Any]:  # a document-wide security requirement, as some services declare
        doc = original()
        doc.setdefault("components", {})["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        doc["security"] = [{"bearer": []}]
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def check_node_document(doc: dict[str, Any]) -> None:
    OPENAPI_31_VALIDATOR.validate(doc)
    assert set(doc["paths"]) == {
        "/api/v1/alpha/thing",
        "/api/v1/alpha/holder",
        "/api/v1/alpha/shared",
        "/api/v1/beta/thing",
        "/api/v1/beta/holder",
        "/api/v1/beta/shared",
    }
    schemas = doc["components"]["schemas"]
    assert "Shared" in schemas and "alpha.Shared" not in schemas  # defined alike: kept once
    assert {"alpha.Thing", "beta.Thing", "alpha.Holder", "beta.Holder"} <= set(schemas)
    assert "Thing" not in schemas and "Holder" not in schemas
    assert schemas["alpha.Holder"]["properties"]["thing"]["$ref"] == "#/components/schemas/alpha.Thing"
    assert schemas["beta.Holder"]["properties"]["thing"]["$ref"] == "#/components/schemas/beta.Thing"

    def response_ref(path: str) -> str:
        ref: str = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return ref

    assert response_ref("/api/v1/alpha/thing") == "#/components/schemas/alpha.Thing"
    assert response_ref("/api/v1/beta/holder") == "#/components/schemas/beta.Holder"
    assert response_ref("/api/v1/beta/shared") == "#/components/schemas/Shared"
    for ref in _refs(doc):  # every reference resolves
        kind, name = ref.removeprefix("#/components/").split("/", 1)
        assert name in doc["components"][kind], ref
    ops = [op for item in doc["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in ops]
    assert len(ids) == len(set(ids)) and {"get_thing", "beta.get_thing"} <= set(ids)
    assert doc["paths"]["/api/v1/alpha/thing"]["get"]["tags"] == ["alpha things"]
    assert doc["paths"]["/api/v1/beta/thing"]["get"]["tags"] == ["beta things"]
    assert doc["paths"]["/api/v1/beta/shared"]["get"]["security"] == [{"bearer": []}]  # from the document
    assert "security" not in doc["paths"]["/api/v1/alpha/shared"]["get"]
    assert doc["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert set(doc["x-kam-services"]) == {"alpha", "beta"}
    assert "x-kam-unavailable" not in doc


def test_merge_keeps_every_routed_path_and_renames_what_clashes() -> None:
    doc = merge({"alpha": alpha_app().openapi(), "beta": beta_app().openapi()}, ROUTES, title="KAM node t")
    check_node_document(doc)
    assert doc["info"]["title"] == "KAM node t"


def test_the_validator_refuses_a_broken_document() -> None:
    """The check above can fail: a document without `info` is not OpenAPI."""
    doc = merge({"alpha": alpha_app().openapi()}, ROUTES)
    del doc["info"]
    with pytest.raises(jsonschema_rs.ValidationError, match="info"):
        OPENAPI_31_VALIDATOR.validate(doc)


@contextlib.asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(30):
            while not server.started:
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


async def test_the_gateway_serves_the_node_document_and_swagger_ui() -> None:
    async with (
        serve(alpha_app()) as alpha,
        serve(beta_app()) as beta,
        serve(create_gateway({"alpha": alpha, "beta": beta}, ROUTES, node="t")) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        r = await client.get("/openapi.json")
        assert r.status_code == 200, r.text
        check_node_document(r.json())
        assert r.json()["info"]["title"] == "KAM node t"
        page = await client.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "swagger-ui" in page.text and "/openapi.json" in page.text
        assert (await client.get("/redoc")).status_code == 200


async def test_a_missing_service_document_is_named_and_not_cached() -> None:
    async with (
        serve(alpha_app()) as alpha,
        serve(create_gateway({"alpha": alpha, "beta": "http://127.0.0.1:9"}, ROUTES)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        doc = (await client.get("/openapi.json")).json()
        assert doc["x-kam-unavailable"] == ["beta"]
        assert "/api/v1/alpha/thing" in doc["paths"] and "/api/v1/beta/thing" not in doc["paths"]
        OPENAPI_31_VALIDATOR.validate(doc)


async def test_the_gateway_sends_one_date_and_one_server_header() -> None:
    """uvicorn adds `date` and `server` to what the gateway sends; the upstream's (its own uvicorn's)
    are not passed on as well."""
    async with (
        serve(alpha_app()) as alpha,
        serve(create_gateway({"alpha": alpha}, ROUTES)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        direct = await client.get(alpha + "/api/v1/alpha/thing")
        assert len(direct.headers.get_list("date")) == 1 and len(direct.headers.get_list("server")) == 1
        for path in ("/api/v1/alpha/thing", "/api/v1/alpha/nothing", "/health", "/api/v1/none", "/openapi.json"):
            r = await client.get(path)
            assert len(r.headers.get_list("date")) == 1, (path, r.headers.raw)
            assert len(r.headers.get_list("server")) == 1, (path, r.headers.raw)
        proxied = await client.get("/api/v1/alpha/thing")
        assert proxied.status_code == 200 and proxied.json() == {"name": "a"}
        assert proxied.headers["content-type"] == "application/json"  # the upstream's other headers pass


async def test_the_node_app_serves_the_node_document_and_swagger_ui() -> None:
    node = NodeApp({"alpha": alpha_app(), "beta": beta_app()}, ROUTES, node="t")
    transport = httpx.ASGITransport(app=node)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as client:
        r = await client.get("/openapi.json")
        assert r.status_code == 200, r.text
        check_node_document(r.json())
        assert r.json()["info"]["title"] == "KAM node t"
        page = await client.get("/docs")
        assert page.status_code == 200 and "swagger-ui" in page.text
        refused = await client.post("/openapi.json")
        assert refused.status_code == 405 and refused.json()["code"] == "METHOD_NOT_ALLOWED"
        assert refused.headers["allow"] == "GET, HEAD"
