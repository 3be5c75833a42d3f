"""The Python client other services use to ask a node's rules service which rule is in force
(`GET /api/v1/rules/effective`). Light on purpose: httpx only, no app code imported.

The rules service caches its answers and drops the cache when a rule set changes there (a local write or
an applied replicated change), so a caller asks every time and needs no cache of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from kam_platform.errors import KamError, ServiceUnavailable

EFFECTIVE_PATH = "/api/v1/rules/effective"


@dataclass(frozen=True)
class EffectiveRule:
    id: str
    kind: str
    version: int
    owner_node: str
    node: str
    on: date
    parameters: dict[str, Any]
    chain: tuple[str, ...]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> EffectiveRule:
        rs = body["ruleSet"]
        return cls(
            id=rs["id"],
            kind=body["kind"],
            version=int(rs["version"]),
            owner_node=rs["ownerNode"],
            node=body["node"],
            on=date.fromisoformat(body["date"]),
            parameters=rs["parameters"],
            chain=tuple(body.get("chain", ())),
        )


class RulesError(KamError):
    """The rules service refused the question (its status and message are passed on)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body.get("message") or f"rules service answered {status}"))
        self.status = status
        self.code = str(body.get("code") or "RULES_ERROR")
        self.reason = str(body.get("reason") or "Rules service error")


class RulesClient:
    """`await RulesClient(base_url).effective("recognition", node="gd-gz", on=date.today(), token=...)`.

    `transport` lets a caller (or a test) route the request to an in-process app."""

    def __init__(
        self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.timeout = timeout

    async def effective(self, kind: str, *, node: str, on: date, token: str) -> EffectiveRule | None:
        """The rule in force, or None when none is (404)."""
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, transport=self.transport, timeout=self.timeout
            ) as http:
                r = await http.get(
                    EFFECTIVE_PATH,
                    params={"kind": kind, "node": node, "date": on.isoformat()},
                    headers={"Authorization": f"Bearer {token}"},
                )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"the rules service at {self.base_url} is unreachable: {exc}") from None
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            try:
                body = r.json()
            except ValueError:
                body = {}
            if r.status_code >= 500:
                raise ServiceUnavailable(f"the rules service answered {r.status_code}: {body.get('message', '')}")
            raise RulesError(r.status_code, body if isinstance(body, dict) else {})
        return EffectiveRule.from_json(r.json())
