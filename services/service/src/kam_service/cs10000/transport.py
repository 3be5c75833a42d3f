"""The wire to the 10000 system: one HTTP POST per message (the envelope as JSON, `Idempotency-Key` =
msg_id) and the reconciliation query. 2xx is an ACK, 4xx a NACK (refused for good: retrying cannot
help), anything else — 5xx, 429, a timeout, no connection — is retried later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx

from kam_service.models.cs10000 import CsOutbound

MESSAGE_PATH = "/cs/v1/message"
RECONCILE_PATH = "/cs/v1/reconciliation"
SOURCE = "KAM"
TARGET = "CS10000"


@dataclass(frozen=True)
class Outcome:
    kind: Literal["ack", "nack", "retry"]
    code: str = ""
    detail: str = ""


def envelope(row: CsOutbound, *, node: str, now: datetime) -> dict[str, Any]:
    return {
        "msg_id": row.idempotency_key,
        "msg_type": row.msg_type,
        "version": "1.0",
        "source": f"{SOURCE}:{node}",
        "target": TARGET,
        "sent_at": now.isoformat(),
        "correlation_id": row.correlation_id,
        "payload": row.payload,
    }


class Transport:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, body: dict[str, Any]) -> Outcome:
        try:
            r = await self.client.post(MESSAGE_PATH, json=body, headers={"Idempotency-Key": body["msg_id"]})
        except httpx.HTTPError as exc:
            return Outcome("retry", type(exc).__name__, str(exc)[:500])
        if 200 <= r.status_code < 300:
            return Outcome("ack", str(_field(r, "code") or "OK"))
        if 400 <= r.status_code < 500 and r.status_code not in (408, 429):
            return Outcome("nack", str(_field(r, "code") or r.status_code), r.text[:500])
        return Outcome("retry", f"HTTP {r.status_code}", r.text[:500])

    async def received(self, keys: list[str]) -> set[str]:
        """Which of `keys` the 10000 system holds (raises httpx.HTTPError when it cannot say)."""
        r = await self.client.post(RECONCILE_PATH, json={"msg_ids": keys})
        r.raise_for_status()
        return set(r.json()["received"])


def _field(r: httpx.Response, name: str) -> Any:
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None
