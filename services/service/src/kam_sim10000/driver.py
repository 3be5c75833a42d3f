"""The simulator's callers: KA_LOOKUP calls for numbers of the key-account list KAM sent, and
TICKET_CREATE messages (some sent twice with one msg_id), at the configured rates."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from .config import SimConfig
from .store import Store

LOOKUP = "/api/v1/service/cs10000/lookup"
MESSAGE = "/api/v1/service/cs10000/message"
TICK = 0.05


class Driver:
    def __init__(self, config: Callable[[], SimConfig], store: Store, rng: random.Random) -> None:
        self.config = config
        self.store = store
        self.rng = rng
        self.client = httpx.AsyncClient(timeout=10.0)
        self.counts: dict[str, int] = {"lookups": 0, "found": 0, "tickets": 0, "duplicatesSent": 0, "errors": 0}
        self.last_error: str | None = None
        self.tickets: list[dict[str, Any]] = []
        self._stop = asyncio.Event()
        self._seq = 0

    def stats(self) -> dict[str, Any]:
        return {**self.counts, "lastError": self.last_error, "ticketsOpened": self.tickets[-100:]}

    def stop(self) -> None:
        self._stop.set()

    async def aclose(self) -> None:
        await self.client.aclose()

    def _ready(self, cfg: SimConfig) -> bool:
        return bool(cfg.kam_url and cfg.token and cfg.node)

    async def run(self) -> None:
        credit = {"call": 0.0, "ticket": 0.0}
        while not self._stop.is_set():
            cfg = self.config()
            if self._ready(cfg) and self.store.ka_list:
                credit["call"] += cfg.call_rate * TICK
                credit["ticket"] += cfg.ticket_rate * TICK
                while credit["call"] >= 1:
                    credit["call"] -= 1
                    await self._guard(self.call(cfg))
                while credit["ticket"] >= 1:
                    credit["ticket"] -= 1
                    await self._guard(self.open_ticket(cfg))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=TICK)

    async def _guard(self, work: Any) -> None:
        try:
            await work
        except httpx.HTTPError as exc:
            self.counts["errors"] += 1
            self.last_error = f"{type(exc).__name__}: {exc}"

    def _headers(self, cfg: SimConfig) -> dict[str, str]:
        return {"Authorization": f"Bearer {cfg.token}"}

    def _pick(self) -> dict[str, Any]:
        entries = list(self.store.ka_list.values())
        return entries[self.rng.randrange(len(entries))]

    async def call(self, cfg: SimConfig) -> dict[str, Any]:
        """A customer calls 10000 from one of its numbers: who is it?"""
        entry = self._pick()
        number = self.rng.choice(entry["service_numbers"])
        r = await self.client.get(
            f"{cfg.kam_url}{LOOKUP}", params={"callingNumber": number}, headers=self._headers(cfg)
        )
        self.counts["lookups"] += 1
        if r.status_code != 200:
            self.counts["errors"] += 1
            self.last_error = f"lookup {r.status_code}: {r.text[:200]}"
            return {}
        body: dict[str, Any] = r.json()
        self.counts["found"] += bool(body.get("found"))
        return body

    async def open_ticket(self, cfg: SimConfig) -> None:
        """An agent opens a ticket for a caller (TICKET_CREATE), sometimes delivered twice."""
        entry = self._pick()
        self._seq += 1
        cs_no = f"SIM{datetime.now(UTC):%Y%m%d}{self._seq:06d}-{uuid.uuid4().hex[:6]}"
        msg = {
            "msg_id": f"TICKET_CREATE:{cs_no}",
            "msg_type": "TICKET_CREATE",
            "version": "1.0",
            "source": "CS10000",
            "target": cfg.node,
            "sent_at": datetime.now(UTC).isoformat(),
            "payload": {
                "cs_ticket_no": cs_no,
                "calling_number": self.rng.choice(entry["service_numbers"]),
                "type": self.rng.choice(["COMPLAINT", "FAULT", "CONSULTATION"]),
                "description": "10000 模拟来电 simulated call",
            },
        }
        times = 2 if self.rng.random() < cfg.duplicate_rate else 1
        for _ in range(times):
            r = await self.client.post(f"{cfg.kam_url}{MESSAGE}", json=msg, headers=self._headers(cfg))
            if r.status_code != 200:
                self.counts["errors"] += 1
                self.last_error = f"TICKET_CREATE {r.status_code}: {r.text[:200]}"
                return
        self.counts["tickets"] += 1
        self.counts["duplicatesSent"] += times - 1
        self.tickets.append({"csTicketNo": cs_no, "ticketNo": r.json().get("result", {}).get("ticket_no")})
