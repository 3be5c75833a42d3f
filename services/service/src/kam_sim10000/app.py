"""The simulator's HTTP surface: the 10000 side of the interface (`/cs/v1/message`,
`/cs/v1/reconciliation`) and its control and inspection endpoints (`/sim/...`)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .config import ConfigPatch, SimConfig
from .driver import Driver
from .store import Store

OUTBOUND_TYPES = {"KA_LIST_SYNC", "TICKET_UPDATE"}  # what KAM sends to 10000


def _nack(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"status": "NACK", "code": code, "message": message}, status_code=status)


def create_app(config: SimConfig | None = None, data_dir: Path | None = None, seed: int | None = None) -> FastAPI:
    state_config = config or SimConfig()
    store = Store.open(data_dir)
    rng = random.Random(seed)
    driver = Driver(lambda: state_config, store, rng)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(driver.run())
        yield
        driver.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await driver.aclose()

    app = FastAPI(title="10000 simulator", lifespan=lifespan)
    app.state.store = store

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/cs/v1/message")
    async def message(request: Request) -> JSONResponse:
        cfg = state_config
        if cfg.down:
            return _nack(503, "DOWN", "the 10000 system is down")
        try:
            msg: Any = await request.json()  # read first: a caller that gave up still delivered it
        except ValueError:
            return _nack(400, "MALFORMED", "the body is not JSON")
        if cfg.latency_ms:
            await asyncio.sleep(cfg.latency_ms / 1000)
        if not isinstance(msg, dict) or not msg.get("msg_id") or not isinstance(msg.get("payload"), dict):
            return _nack(422, "MALFORMED", "an envelope needs msg_id and payload")
        if msg.get("msg_type") not in OUTBOUND_TYPES:
            return _nack(422, "UNKNOWN_MSG_TYPE", f"10000 does not take {msg.get('msg_type')!r} from KAM")
        if rng.random() < cfg.failure_rate:
            return _nack(503, "BUSY", "simulated failure: try again")
        first = store.receive(msg)
        if rng.random() < cfg.ack_loss_rate:
            return _nack(503, "ACK_LOST", "simulated lost acknowledgement (the message was taken)")
        return JSONResponse({"msg_id": msg["msg_id"], "status": "ACK", "code": "OK" if first else "DUPLICATE"})

    @app.post("/cs/v1/reconciliation")
    async def reconciliation(request: Request) -> JSONResponse:
        if state_config.down:
            return _nack(503, "DOWN", "the 10000 system is down")
        body = await request.json()
        keys = body.get("msg_ids", []) if isinstance(body, dict) else []
        return JSONResponse({"received": [k for k in keys if k in store.messages]})

    @app.get("/sim/config")
    async def get_config() -> dict[str, Any]:
        return state_config.model_dump(exclude={"token"})

    @app.put("/sim/config")
    async def put_config(patch: ConfigPatch) -> dict[str, Any]:
        nonlocal state_config
        state_config = state_config.model_copy(update=patch.model_dump(exclude_none=True))
        return state_config.model_dump(exclude={"token"})

    @app.get("/sim/received")
    async def received() -> dict[str, Any]:
        """Every message taken (first delivery), its deliveries, and the repeats counted."""
        return {
            "unique": len(store.messages),
            "repeats": store.repeats,
            "messages": list(store.messages.values()),
            "kaList": list(store.ka_list.values()),
        }

    @app.get("/sim/calls")
    async def calls() -> dict[str, Any]:
        """What the simulator's callers did at KAM: lookups, tickets opened, answers."""
        return driver.stats()

    return app
