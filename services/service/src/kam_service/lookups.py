"""What a ticket needs from other services, asked over their APIs with the caller's own token (no
service reads another's tables): the customer (grade, account manager, owner) from the customer
service, and the effective SLA rule at this node from the rules service.

The base URL is the node's public URL (the gateway routes every path to its service); tests hand in an
`httpx.AsyncClient` on an ASGI transport instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from kam_platform.errors import Forbidden, ServiceUnavailable, ValidationFailed

CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
CONTACT_PATH = "/tmf-api/party/v4/individual"
EFFECTIVE_RULE_PATH = "/api/v1/rules/effective"


@dataclass(frozen=True)
class CustomerFacts:
    id: uuid.UUID
    code: str
    name: str
    grade: str
    owner_node: str
    account_manager: str | None


@dataclass(frozen=True)
class ContactFacts:
    id: uuid.UUID
    name: str
    customer_id: uuid.UUID | None
    birth_date: date | None


@dataclass(frozen=True)
class SlaRule:
    id: uuid.UUID
    version: int
    parameters: dict[str, Any]


ClientFactory = Callable[[], httpx.AsyncClient]


class Lookups:
    def __init__(self, client: ClientFactory) -> None:
        self._client = client

    @classmethod
    def over_http(cls, base_url: str | None, *, timeout: float = 5.0) -> Lookups:
        def make() -> httpx.AsyncClient:
            if not base_url:
                raise ServiceUnavailable("the node's public URL (KAM_PUBLIC_URL) is not configured: no customer lookup")
            return httpx.AsyncClient(base_url=base_url, timeout=timeout)

        return cls(make)

    async def _get(self, path: str, token: str, params: dict[str, str] | None = None) -> httpx.Response:
        try:
            async with self._client() as client:
                return await client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"{path} did not answer ({type(exc).__name__}); try again") from exc

    async def customer(self, customer_id: uuid.UUID, token: str) -> CustomerFacts:
        """The customer as the caller may see it; not visible (404/403) is the caller's 422."""
        r = await self._get(f"{CUSTOMER_PATH}/{customer_id}", token)
        if r.status_code == 403:
            raise Forbidden(f"reading customer {customer_id}: {r.json().get('message', 'permission denied')}")
        if r.status_code == 404:
            raise ValidationFailed(f"relatedParty: customer {customer_id} not found", field="relatedParty")
        if r.status_code != 200:
            raise ServiceUnavailable(f"the customer service answered {r.status_code} for customer {customer_id}")
        return _facts(r.json())

    async def contact(self, contact_id: uuid.UUID, token: str, *, field: str) -> ContactFacts:
        """A contact of a key account (the customer service's TMF632 individual) as the caller may see
        it; not visible (404) is the caller's 422 on `field`."""
        r = await self._get(f"{CONTACT_PATH}/{contact_id}", token)
        if r.status_code == 403:
            raise Forbidden(f"reading contact {contact_id}: {r.json().get('message', 'permission denied')}")
        if r.status_code == 404:
            raise ValidationFailed(f"{field}: contact {contact_id} not found", field=field)
        if r.status_code != 200:
            raise ServiceUnavailable(f"the customer service answered {r.status_code} for contact {contact_id}")
        body = r.json()
        customer = body.get("customer") or {}  # a reference {id, href, name}; none until linked
        return ContactFacts(
            id=uuid.UUID(body["id"]),
            name=body.get("fullName") or "",
            customer_id=uuid.UUID(customer["id"]) if customer.get("id") else None,
            birth_date=date.fromisoformat(body["birthDate"]) if body.get("birthDate") else None,
        )

    async def customers_by_id(
        self, ids: list[uuid.UUID], token: str, *, chunk: int = 100
    ) -> dict[uuid.UUID, CustomerFacts]:
        """Many customers as the caller may see them, `chunk` per request (`id=a,b,…`); an id missing
        from the answer is not visible (or no longer exists)."""
        out: dict[uuid.UUID, CustomerFacts] = {}
        for i in range(0, len(ids), chunk):
            part = ids[i : i + chunk]
            params = {"id": ",".join(str(x) for x in part), "limit": str(len(part))}
            r = await self._get(CUSTOMER_PATH, token, params)
            if r.status_code == 403:
                raise Forbidden(f"reading customers: {r.json().get('message', 'permission denied')}")
            if r.status_code != 200:
                raise ServiceUnavailable(f"the customer service answered {r.status_code} for a customer list")
            for body in r.json():
                facts = _facts(body)
                out[facts.id] = facts
        return out

    async def sla_rule(self, node: str, on: date, token: str) -> SlaRule | None:
        """The SLA rule in force at `node` on `on`; None when none is published (the ticket then runs
        without deadlines, and says so)."""
        r = await self._get(EFFECTIVE_RULE_PATH, token, {"kind": "sla", "node": node, "date": on.isoformat()})
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise ServiceUnavailable(f"the rules service answered {r.status_code} for the effective SLA rule")
        rule = r.json()["ruleSet"]
        return SlaRule(id=uuid.UUID(rule["id"]), version=int(rule["version"]), parameters=rule["parameters"])


def _facts(body: dict[str, Any]) -> CustomerFacts:
    manager = next((p.get("id") for p in body.get("relatedParty", []) if p.get("role") == "accountManager"), None)
    return CustomerFacts(
        id=uuid.UUID(body["id"]),
        code=body["customerCode"],
        name=body["name"],
        grade=body["grade"],
        owner_node=body["ownerNode"],
        account_manager=manager,
    )
