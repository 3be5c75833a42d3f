"""The customers a campaign targets, asked of the node's customer service over HTTP (TMF629 list) with
the launcher's token — so the snapshot holds exactly the customers the launcher may see. The sales
service keeps no copy of customers; no customer code is imported (httpx only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request

from kam_platform.errors import Forbidden, ServiceUnavailable, ValidationFailed
from kam_platform.settings import Settings
from kam_platform.tmf import base_url

CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
PAGE = 1000  # the TMF630 list maximum
MAX_TARGETS = 200_000


@dataclass(frozen=True)
class Target:
    customer_id: str
    name: str
    node: str  # the customer's owner node: where it is worked
    account_manager: str | None


class CustomerDirectory:
    """`transport` lets a caller (or a test) route the requests to an in-process app."""

    def __init__(
        self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.timeout = timeout

    async def segment(self, filters: dict[str, str], *, token: str) -> list[Target]:
        """Every customer the token sees that matches the saved filter (TMF630 attribute filters)."""
        out: list[Target] = []
        offset = 0
        async with httpx.AsyncClient(base_url=self.base_url, transport=self.transport, timeout=self.timeout) as http:
            while True:
                params = {**filters, "fields": "name,ownerNode,relatedParty", "offset": str(offset), "limit": str(PAGE)}
                try:
                    r = await http.get(CUSTOMERS, params=params, headers={"Authorization": f"Bearer {token}"})
                except httpx.HTTPError as exc:
                    raise ServiceUnavailable(f"the customer service at {self.base_url} is unreachable: {exc}") from None
                if r.status_code != 200:
                    self._refused(r)
                rows: list[dict[str, Any]] = r.json()
                out.extend(_target(c) for c in rows)
                if len(rows) < PAGE or len(out) >= MAX_TARGETS:
                    return out
                offset += PAGE

    @staticmethod
    def _refused(r: httpx.Response) -> None:
        try:
            body = r.json()
        except ValueError:
            body = {}
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        if r.status_code in (400, 422):
            raise ValidationFailed(
                f"segment.filter: the customer service refused the filter: {message}", field="segment"
            )
        if r.status_code in (401, 403):
            raise Forbidden(f"the customer service refused the launcher's token: {message}")
        raise ServiceUnavailable(f"the customer service answered {r.status_code}: {message}")


def _target(c: dict[str, Any]) -> Target:
    manager = next(
        (str(p.get("id")) for p in c.get("relatedParty", []) or [] if p.get("role") == "accountManager"), None
    )
    return Target(str(c["id"]), str(c.get("name", "")), str(c.get("ownerNode", "")), manager)


def directory(request: Request, settings: Settings) -> CustomerDirectory:
    """`app.state.customer_directory` when given (tests, a sidecar), else the node's public URL, else the
    node address the caller used (every node routes the TMF629 paths)."""
    given = getattr(request.app.state, "customer_directory", None)
    return (
        given if isinstance(given, CustomerDirectory) else CustomerDirectory(settings.public_url or base_url(request))
    )
