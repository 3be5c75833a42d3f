"""The gateway after an upstream failure: a connection the service broke is discarded, and the next,
unrelated request is answered by the service (not 502)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import uvicorn
from starlette.types import ASGIApp

from kam_cli.gateway import create_app as create_gateway

# a made-up service with its own route, so the test depends on no installed service
ROUTES = {"/api/v1/example": "example"}
BOOM = "/api/v1/example/boom"
OK = "/api/v1/example/ok"


@dataclass
class CrashingService:
    """A raw HTTP/1.1 upstream that behaves as a service process does after an unhandled error: it
    answers the failing request with a 500 and keep-alive, then drops that connection — here at the
    moment the next request arrives on it, so the gateway's pooled connection is sure to be stale."""

    connections: int = 0
    answered: list[str] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                length = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
                if length:
                    await reader.readexactly(length)
                if path == BOOM:
                    self._answer(writer, 500, {"code": "INTERNAL_ERROR", "@type": "Error"})
                    await writer.drain()
                    await reader.read(1)  # the next request on this connection: drop it unanswered
                    return
                self._answer(writer, 200, {"method": method, "path": path})
                self.answered.append(f"{method} {path}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    @staticmethod
    def _answer(writer: asyncio.StreamWriter, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n\r\n".encode()
            + data
        )


@contextlib.asynccontextmanager
async def crashing_service() -> AsyncIterator[tuple[CrashingService, str]]:
    service = CrashingService()
    server = await asyncio.start_server(service.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield service, f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


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


async def test_after_a_500_and_a_dropped_connection_the_next_request_is_answered() -> None:
    async with (
        crashing_service() as (service, upstream),
        serve(create_gateway({"example": upstream}, ROUTES)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        for _ in range(3):
            failed = await client.get(BOOM)
            assert failed.status_code == 500  # the service's own answer, passed through
            after = await client.get(OK)
            assert after.status_code == 200, after.text
            assert after.json() == {"method": "GET", "path": OK}
        assert (await client.get(BOOM)).status_code == 500
        put = await client.put(OK, json={"accountManager": "am02"})
        assert put.status_code == 200, put.text  # an idempotent body is buffered and resent
    assert service.answered == [f"GET {OK}"] * 3 + [f"PUT {OK}"]
    assert service.connections >= 5  # every dropped connection was replaced by a fresh one


async def test_a_post_is_not_resent_after_a_dropped_connection() -> None:
    async with (
        crashing_service() as (service, upstream),
        serve(create_gateway({"example": upstream}, ROUTES)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        assert (await client.get(BOOM)).status_code == 500
        post = await client.post(OK, json={"name": "x"})
        # it may have been applied before the connection broke: the caller decides, told so in the envelope
        assert post.status_code == 502 and post.json()["@type"] == "Error"
        again = await client.post(OK, json={"name": "x"})
        assert again.status_code == 200, again.text  # the broken connection did not stay in the pool
    assert service.answered == [f"POST {OK}"]
