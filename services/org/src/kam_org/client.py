"""The Python client other services use to ask a node's org service about its people (staff and
teams), over HTTP with the caller's own token. Light on purpose: httpx only, no app code imported, so a
service may depend on it (services import only another service's `client` module)."""

from __future__ import annotations

from typing import Any

import httpx

from kam_platform.errors import Forbidden, KamError, ServiceUnavailable

STAFF_PATH = "/api/v1/org/staff"
TEAMS_PATH = "/api/v1/org/teams"
PAGE = 200


class OrgError(KamError):
    """The org service refused the question (its status, code and message are passed on)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body.get("message") or f"org service answered {status}"))
        self.status = status
        self.code = str(body.get("code") or "ORG_ERROR")
        self.reason = str(body.get("reason") or "Org service error")


class OrgClient:
    """`await OrgClient(base_url).managers_of("am1", node="gd-gz", token=...)`.

    `transport` lets a caller (or a test) route the requests to an in-process app."""

    def __init__(
        self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.timeout = timeout

    async def _get(self, http: httpx.AsyncClient, path: str, params: dict[str, str], token: str) -> list[Any]:
        try:
            r = await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"the org service at {self.base_url} is unreachable: {exc}") from None
        if r.status_code == 200:
            body = r.json()
            return body if isinstance(body, list) else []
        try:
            err = r.json()
        except ValueError:
            err = {}
        err = err if isinstance(err, dict) else {}
        if r.status_code >= 500:
            raise ServiceUnavailable(f"the org service answered {r.status_code}: {err.get('message', '')}")
        if r.status_code == 403:
            raise Forbidden(f"the org service refused: {err.get('message', '')}")
        raise OrgError(r.status_code, err)

    async def managers_of(self, username: str, *, node: str, token: str) -> set[str]:
        """The user names of the leaders of the teams at `node` that `username` is a member of: the
        person's managers (直属主管). Empty when they are in no led team (or the token sees none)."""
        async with httpx.AsyncClient(base_url=self.base_url, transport=self.transport, timeout=self.timeout) as http:
            people = await self._get(
                http, STAFF_PATH, {"username": username, "ownerNode": node, "fields": "username"}, token
            )
            if not people:
                return set()
            me = str(people[0]["id"])
            leaders: set[str] = set()
            offset = 0
            while True:
                teams = await self._get(
                    http,
                    TEAMS_PATH,
                    {"ownerNode": node, "fields": "leaderId,memberIds", "offset": str(offset), "limit": str(PAGE)},
                    token,
                )
                leaders |= {str(t["leaderId"]) for t in teams if t.get("leaderId") and me in t.get("memberIds", [])}
                if len(teams) < PAGE:
                    break
                offset += PAGE
            names: set[str] = set()
            for lid in sorted(leaders - {me}):
                rows = await self._get(http, STAFF_PATH, {"id": lid, "fields": "username"}, token)
                names |= {str(s["username"]) for s in rows if "username" in s}
        return names
