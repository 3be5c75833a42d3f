"""TMF629/TMF632 conformance (issue 10): the smallest bodies the specs allow are accepted, the standard
attributes are accepted, stored, returned, carried by the events and stored by a replica's apply;
attributes in neither TMF nor KAM's extension are refused with 422 naming them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from kam_contracts import customer_pb2, envelope_pb2
from kam_customer.replication.handlers import CustomerApplier
from kam_platform.replication import Event

from .conftest import valid_credit_code

CUSTOMER = "/tmf-api/customerManagement/v4/customer"
ORGANIZATION = "/tmf-api/party/v4/organization"
INDIVIDUAL = "/tmf-api/party/v4/individual"

Auth = Callable[..., dict[str, str]]


async def post(client: httpx.AsyncClient, auth: Auth, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(path, json=body, headers=auth())
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(r.json()["id"])
    got: dict[str, Any] = r.json()
    return got


async def get(client: httpx.AsyncClient, auth: Auth, path: str, **kw: Any) -> dict[str, Any]:
    r = await client.get(path, headers=kw.pop("headers", None) or auth())
    assert r.status_code == 200, r.text
    got: dict[str, Any] = r.json()
    return got


# --- minimal bodies ---------------------------------------------------------------------------------


async def test_minimal_customer_naming_an_unknown_party_creates_it_unverified(client, auth) -> None:
    body = {"name": "广州某某科技有限公司", "engagedParty": {"id": "crm-4711", "@referredType": "Organization"}}
    c = await post(client, auth, CUSTOMER, body)
    assert c["name"] == body["name"] and c["industry"] == "UNKNOWN"
    assert c["dataCompleteness"]["isComplete"] is False
    assert "industry" in c["dataCompleteness"]["missing"]
    org = await get(client, auth, f"{ORGANIZATION}/{c['engagedParty']['id']}")
    assert org["status"] == "initialized"  # 待核实
    assert org["tradingName"] == body["name"]
    assert {"externalReferenceType": "engagedParty.id", "name": "crm-4711"} in org["externalReference"]
    # the next customer naming the same party finds that organization
    again = await post(client, auth, CUSTOMER, {**body, "name": "广州某某科技有限公司二部"})
    assert again["engagedParty"]["id"] == c["engagedParty"]["id"]


async def test_minimal_customer_naming_a_known_organization_links_it(client, auth) -> None:
    org = await post(client, auth, ORGANIZATION, {"tradingName": "深圳某某物流"})
    c = await post(
        client,
        auth,
        CUSTOMER,
        {"name": "深圳某某物流", "engagedParty": {"id": org["id"], "@referredType": "Organization"}},
    )
    assert c["engagedParty"]["id"] == org["id"]
    assert (await get(client, auth, f"{ORGANIZATION}/{org['id']}"))["status"] == "validated"


async def test_engaged_party_must_be_an_organization(client, auth) -> None:
    r = await client.post(
        CUSTOMER, json={"name": "某人", "engagedParty": {"id": "p1", "@referredType": "Individual"}}, headers=auth()
    )
    assert r.status_code == 422 and "engagedParty" in r.text


async def test_completing_the_industry_completes_the_data(client, auth) -> None:
    c = await post(
        client,
        auth,
        CUSTOMER,
        {
            "name": "广州某某银行",
            "engagedParty": {"id": "x-1", "@referredType": "Organization"},
            "creditCode": valid_credit_code(),
            "relatedParty": [{"id": "am01", "role": "accountManager", "@referredType": "Individual"}],
        },
    )
    assert c["dataCompleteness"] == {"isComplete": False, "missing": ["industry"]}
    r = await client.patch(f"{CUSTOMER}/{c['id']}", json={"industry": "FINANCE"}, headers=auth())
    assert r.status_code == 200, r.text
    assert r.json()["dataCompleteness"] == {"isComplete": True, "missing": []}


async def test_minimal_individual_and_organization(client, auth) -> None:
    person = await post(client, auth, INDIVIDUAL, {"givenName": "伟", "familyName": "张"})
    assert person["fullName"] == "张伟" and person["customer"] is None and person["ownerNode"] == "gd-gz"
    assert (await get(client, auth, f"{INDIVIDUAL}/{person['id']}"))["givenName"] == "伟"
    org = await post(client, auth, ORGANIZATION, {"tradingName": "某某集团"})
    assert org["tradingName"] == "某某集团" and org["name"] == "某某集团"


async def test_organization_created_by_a_customer_post_has_its_trading_name(client, auth, customer_body) -> None:
    c = await post(client, auth, CUSTOMER, customer_body())
    org = await get(client, auth, f"{ORGANIZATION}/{c['engagedParty']['id']}")
    assert org["tradingName"] == c["name"]


async def test_no_organization_is_left_without_trading_name(rollback_conn: AsyncConnection) -> None:
    # the column is NOT NULL since migration 0010, which filled it in for the rows written before
    nullable = await rollback_conn.scalar(
        text(
            "SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'customer' "
            "AND table_name = 'organization' AND column_name = 'trading_name'"
        )
    )
    assert nullable == "NO"


# --- standard attributes ----------------------------------------------------------------------------

ORG_ATTRIBUTES: dict[str, Any] = {
    "contactMedium": [
        {"mediumType": "phone", "preferred": True, "characteristic": {"phoneNumber": "020-83331234"}},
        {
            "mediumType": "postalAddress",
            "characteristic": {"city": "广州", "street1": "天河路1号", "postCode": "510000"},
        },
    ],
    "partyCharacteristic": [{"name": "employees", "valueType": "number", "value": 1200}],
    "externalReference": [{"externalReferenceType": "crm", "name": "ORG-0001"}],
    "existsDuring": {"startDateTime": "2001-05-01T00:00:00+08:00"},
    "isHeadOffice": True,
}


async def test_organization_standard_attributes_round_trip(client, auth) -> None:
    code = valid_credit_code()
    body = {
        "tradingName": "广州某某集团",
        "organizationIdentification": [
            {"identificationType": "USCC", "identificationId": code.lower(), "issuingAuthority": "广州市市场监管局"},
            {"identificationType": "taxId", "identificationId": "TAX-123"},
        ],
        **ORG_ATTRIBUTES,
    }
    org = await post(client, auth, ORGANIZATION, body)
    got = await get(client, auth, f"{ORGANIZATION}/{org['id']}")
    ids = {i["identificationType"]: i for i in got["organizationIdentification"]}
    assert ids["USCC"]["identificationId"] == code and ids["USCC"]["issuingAuthority"] == "广州市市场监管局"
    assert ids["taxId"]["identificationId"] == "TAX-123"
    for key in ("contactMedium", "partyCharacteristic", "externalReference", "isHeadOffice"):
        assert got[key] == ORG_ATTRIBUTES[key], key
    assert got["existsDuring"] == ORG_ATTRIBUTES["existsDuring"]  # RFC 3339, its offset kept
    # the USCC identification is the credit code: filterable as such
    r = await client.get(ORGANIZATION, params={"creditCode": code}, headers=auth())
    assert [o["id"] for o in r.json()] == [org["id"]]
    # a merge patch removes an attribute with null and keeps the others
    r = await client.patch(f"{ORGANIZATION}/{org['id']}", json={"partyCharacteristic": None}, headers=auth())
    assert r.status_code == 200, r.text
    assert (
        r.json()["partyCharacteristic"] == [] and r.json()["externalReference"] == ORG_ATTRIBUTES["externalReference"]
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"organizationIdentification": [{"identificationType": "USCC", "identificationId": "123"}]}, "USCC"),
        (
            {
                "creditCode": valid_credit_code(),
                "organizationIdentification": [
                    {"identificationType": "USCC", "identificationId": valid_credit_code("91440300MA5DC0YW1")}
                ],
            },
            "different credit codes",
        ),
        ({"partyCharacteristic": [{"name": "x"}]}, "value"),
        ({"favouriteColour": "red"}, "favouriteColour"),
        ({"contactMedium": [{"mediumType": "phone", "characteristic": {"pager": "1"}}]}, "pager"),
    ],
)
async def test_bad_organization_attributes_are_422_naming_them(client, auth, body, named) -> None:
    r = await client.post(ORGANIZATION, json={"tradingName": "某某", **body}, headers=auth())
    assert r.status_code == 422, r.text
    assert r.json()["@type"] == "Error" and named in r.text


CUSTOMER_ATTRIBUTES: dict[str, Any] = {
    "contactMedium": [{"mediumType": "email", "characteristic": {"emailAddress": "kam@example.cn"}}],
    "characteristic": [{"name": "港口", "value": {"berths": 12}}],
    "account": [{"id": "BA-1", "name": "主账户"}],
    "agreement": [{"id": "AG-7", "name": "框架协议"}],
    "paymentMethod": [{"id": "PM-2", "name": "托收"}],
    "validFor": {"startDateTime": "2024-01-01T00:00:00+00:00"},
    "statusReason": "新建",
}


async def test_customer_standard_attributes_round_trip(client, auth) -> None:
    related = [
        {"id": "am01", "name": "张伟", "role": "accountManager", "@referredType": "Individual"},
        {"id": "p-9", "name": "李娜", "role": "keyContact", "@referredType": "Individual"},
    ]
    body = {
        "name": "广州港集团",
        "engagedParty": {"id": "port-1", "@referredType": "Organization"},
        "relatedParty": related,
        **CUSTOMER_ATTRIBUTES,
    }
    c = await post(client, auth, CUSTOMER, body)
    got = await get(client, auth, f"{CUSTOMER}/{c['id']}")
    for key in ("contactMedium", "characteristic", "account", "agreement", "paymentMethod", "statusReason"):
        assert got[key] == CUSTOMER_ATTRIBUTES[key], key
    assert got["validFor"]["startDateTime"].startswith("2024-01-01T00:00:00")
    assert [(p["id"], p["role"]) for p in got["relatedParty"]] == [("am01", "accountManager"), ("p-9", "keyContact")]
    # the account manager is still KAM's own attribute
    assert (await client.get(CUSTOMER, params={"relatedParty.id": "am01"}, headers=auth())).json()[0]["id"] == c["id"]
    r = await client.patch(f"{CUSTOMER}/{c['id']}", json={"characteristic": None, "account": []}, headers=auth())
    assert r.status_code == 200, r.text
    assert r.json()["characteristic"] == [] and r.json()["account"] == [] and r.json()["agreement"]
    history = await get(client, auth, f"/api/v1/customer/customers/{c['id']}/history")
    assert "characteristic" in history[0]["changes"]
    sparse = await get(client, auth, f"{CUSTOMER}/{c['id']}?fields=agreement")
    assert set(sparse) == {"id", "href", "@type", "agreement"}


async def test_unknown_customer_attribute_is_422_naming_it(client, auth) -> None:
    r = await client.post(
        CUSTOMER,
        json={"name": "某某", "engagedParty": {"id": "y", "@referredType": "Organization"}, "loyaltyTier": "gold"},
        headers=auth(),
    )
    assert r.status_code == 422 and "loyaltyTier" in r.text


INDIVIDUAL_MEDIA: list[dict[str, Any]] = [
    {"mediumType": "mobile", "preferred": True, "characteristic": {"phoneNumber": "13812345678"}},
    {"mediumType": "fax", "characteristic": {"faxNumber": "020-87654321"}},
    {"mediumType": "email", "characteristic": {"emailAddress": "zhang@example.cn"}},
]


async def test_individual_standard_attributes_and_masked_contact_medium(
    client, auth, rollback_conn: AsyncConnection
) -> None:
    body = {
        "givenName": "伟",
        "familyName": "张",
        "contactMedium": INDIVIDUAL_MEDIA,
        "partyCharacteristic": [{"name": "hobby", "value": "围棋"}],
        "externalReference": [{"externalReferenceType": "wechat", "name": "zw-1"}],
        "gender": "male",
        "nationality": "CN",
    }
    p = await post(client, auth, INDIVIDUAL, body)
    full = await get(client, auth, f"{INDIVIDUAL}/{p['id']}")
    assert full["contactMedium"] == INDIVIDUAL_MEDIA
    assert full["gender"] == "male" and full["partyCharacteristic"] == body["partyCharacteristic"]
    assert full["externalReference"] == body["externalReference"]
    masked = await get(client, auth, f"{INDIVIDUAL}/{p['id']}", headers=auth(perms=["customer:read"]))
    numbers = [
        m["characteristic"].get("phoneNumber") or m["characteristic"].get("faxNumber") for m in masked["contactMedium"]
    ]
    assert numbers[:2] == ["138****5678", "020****4321"]
    assert "13812345678" not in str(masked) and "87654321" not in str(masked)
    # the audit trail (replicated, readable with customer.history:read) masks them too
    changes = await rollback_conn.scalar(
        text("SELECT changes::text FROM customer.audit WHERE entity_id = :id"), {"id": uuid.UUID(p["id"])}
    )
    assert changes and "contactMedium" in changes and "13812345678" not in changes


async def test_bad_individual_attribute_is_422_naming_it(client, auth) -> None:
    r = await client.post(INDIVIDUAL, json={"givenName": "伟", "familyName": "张", "shoeSize": 42}, headers=auth())
    assert r.status_code == 422 and "shoeSize" in r.text
    r = await client.post(
        INDIVIDUAL,
        json={"givenName": "伟", "familyName": "张", "contactMedium": [{"mediumType": "mobile", "characteristic": {}}]},
        headers=auth(),
    )
    assert r.status_code == 422 and "phoneNumber" in r.text


# --- the events carry the attributes, and a replica stores them ----------------------------------------


@pytest.fixture
async def replica_db(make_database: Any) -> str:
    from kam_customer.main import MIGRATIONS

    url: str = make_database("test_customer_tmf_replica", [MIGRATIONS])
    return url


async def _events(conn: AsyncConnection, aggregate_ids: list[str]) -> list[Event]:
    rows = (
        await conn.execute(
            text(
                "SELECT subject, payload FROM customer.outbox WHERE aggregate_id = ANY(:ids) "
                "AND event_type <> 'kam.v1.AuditRecorded' ORDER BY created_at"
            ),
            {"ids": aggregate_ids},
        )
    ).all()
    return [Event(envelope_pb2.Envelope.FromString(r.payload), r.subject, "UP_GD") for r in rows]


async def test_events_carry_the_standard_attributes_and_the_replica_stores_them(
    client, auth, rollback_conn: AsyncConnection, replica_db: str, settings_for: Any, jwks: Any
) -> None:
    c = await post(
        client,
        auth,
        CUSTOMER,
        {
            "name": "广州港集团",
            "engagedParty": {"id": "port-2", "@referredType": "Organization"},
            **CUSTOMER_ATTRIBUTES,
        },
    )
    org_id = c["engagedParty"]["id"]
    await client.patch(f"{ORGANIZATION}/{org_id}", json=ORG_ATTRIBUTES, headers=auth())
    p = await post(client, auth, INDIVIDUAL, {"givenName": "伟", "familyName": "张", "contactMedium": INDIVIDUAL_MEDIA})
    events = await _events(rollback_conn, [c["id"], org_id, p["id"]])
    created = next(e for e in events if e.event_type == "kam.v1.CustomerCreated")
    state = created.payload_as(customer_pb2.CustomerCreated).customer
    assert '"agreement"' in state.tmf_attributes_json and state.industry == "UNKNOWN"

    engine = create_async_engine(replica_db)
    try:
        async with AsyncSession(engine) as session, session.begin():
            await CustomerApplier(settings_for(replica_db, jwks, node="gd"))(session, events)
        async with engine.connect() as conn:

            async def kept(table: str, row_id: str) -> dict[str, Any]:
                q = text(f"SELECT tmf_attributes FROM customer.{table} WHERE id = :id")
                return dict((await conn.scalar(q, {"id": uuid.UUID(row_id)})) or {})

            customer = await kept("customer", c["id"])
            assert customer["agreement"] == CUSTOMER_ATTRIBUTES["agreement"]
            assert customer["characteristic"] == CUSTOMER_ATTRIBUTES["characteristic"]
            org = await kept("organization", org_id)
            assert org["partyCharacteristic"] == ORG_ATTRIBUTES["partyCharacteristic"]
            # the merge patch replaced the list the unknown party's id was kept in
            assert org["externalReference"] == ORG_ATTRIBUTES["externalReference"]
            assert (await kept("contact", p["id"]))["contactMedium"] == INDIVIDUAL_MEDIA
            trading = await conn.scalar(
                text("SELECT trading_name FROM customer.organization WHERE id = :id"), {"id": uuid.UUID(org_id)}
            )
            assert trading == "广州港集团"
    finally:
        await engine.dispose()


async def test_snapshot_republishes_the_standard_attributes(
    client, auth, rollback_conn: AsyncConnection, settings_for: Any, database_url: str, jwks: Any
) -> None:
    from kam_customer.replication.snapshot import republish_own

    c = await post(
        client,
        auth,
        CUSTOMER,
        {
            "name": "广州港集团",
            "engagedParty": {"id": "port-3", "@referredType": "Organization"},
            **CUSTOMER_ATTRIBUTES,
        },
    )
    ids = "SELECT id, payload FROM customer.outbox WHERE aggregate_id = :i"
    before = {r.id for r in (await rollback_conn.execute(text(ids), {"i": c["id"]})).all()}
    async with AsyncSession(bind=rollback_conn, join_transaction_mode="create_savepoint") as session:
        assert await republish_own(session, settings_for(database_url, jwks)) >= 2  # the customer, its org
        await session.commit()  # the savepoint: the test's transaction is still rolled back at the end
    rows = [r for r in (await rollback_conn.execute(text(ids), {"i": c["id"]})).all() if r.id not in before]
    assert rows, "the snapshot republished the customer"
    env = envelope_pb2.Envelope.FromString(rows[-1].payload)
    state = customer_pb2.CustomerUpdated.FromString(env.payload).customer
    assert '"paymentMethod"' in state.tmf_attributes_json
