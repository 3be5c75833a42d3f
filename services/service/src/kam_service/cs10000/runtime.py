"""The adapter's part of the app's lifespan: the configuration from the environment, the transport,
and the sender task (only where a 10000 endpoint is configured; without one, messages queue)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from .config import Cs10000Settings
from .sender import Sender
from .transport import Transport


async def start(app: FastAPI) -> None:
    config = Cs10000Settings()
    transport = Transport(config.url, timeout=config.timeout_seconds) if config.url else None
    sender = Sender(
        app.state.db.sessionmaker,
        node=app.state.settings.node,
        config=config,
        transport=transport,
        clock=app.state.clock,
    )
    app.state.cs_sender = sender
    app.state.cs_sender_task = asyncio.create_task(sender.run(), name="service-cs10000-sender") if transport else None


async def stop(app: FastAPI) -> None:
    sender: Sender | None = getattr(app.state, "cs_sender", None)
    if sender is None:
        return
    sender.stop()
    task: asyncio.Task[None] | None = app.state.cs_sender_task
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if sender.transport is not None:
        await sender.transport.aclose()
