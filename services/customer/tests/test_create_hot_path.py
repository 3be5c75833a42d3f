"""The API create writes its organization, customer, assignment and audit rows and its outbox events in
one statement (kam_platform.db.together; docs/benchmarks.md, issue 13), storing what the unit of work
and the commit's outbox write stored."""

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from .conftest import valid_credit_code

URL = "/tmf-api/customerManagement/v4/customer"
MANAGER = [{"id": "am01", "name": "张伟", "role": "accountManager"}]


async def _statements(conn: AsyncConnection) -> list[str]:
    """Every statement sent on `conn` from now on: through SQLAlchemy, and on its asyncpg connection
    directly (kam_platform.db.driver)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(conn.sync_connection, "before_cursor_execute", record)
    raw = (await conn.get_raw_connection()).driver_connection
    raw.add_query_logger(lambda logged: seen.append(" ".join(logged.query.split())))
    return seen


def _writes(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if f"INSERT INTO customer.{table} " in s or f'INSERT INTO "customer".{table} ' in s]


async def test_a_create_writes_organization_customer_assignment_audit_and_events_in_one_statement(
    client, auth, customer_body, rollback_conn: AsyncConnection
) -> None:
    seen = await _statements(rollback_conn)
    credit = valid_credit_code()
    r = await client.post(URL, json=customer_body(creditCode=credit, relatedParty=MANAGER), headers=auth())
    assert r.status_code == 201, r.text
    body = r.json()
    tables = ("organization", "customer", "account_manager_assignment", "audit", "outbox")
    written = {t: _writes(seen, t) for t in tables}
    assert all(len(w) == 1 for w in written.values()), written
    assert len({w[0] for w in written.values()}) == 1  # one and the same statement
    assert len([s for s in seen if s.startswith("INSERT") or s.startswith("WITH")]) == 1  # and no other write
    assert "pg_notify" in written["outbox"][0]  # which wakes the relay, as the commit's write did

    # stored as the unit of work stored it: every row, every value the response and the events name
    row = (
        await rollback_conn.execute(
            text(
                "SELECT c.version, c.customer_code, c.credit_code, c.account_manager, c.tmf_attributes, "
                "o.id AS org_id, o.name AS org_name, o.status AS org_status, o.version AS org_version, "
                "o.tmf_attributes AS org_attrs "
                "FROM customer.customer c JOIN customer.organization o ON o.id = c.organization_id WHERE c.id = :id"
            ),
            {"id": body["id"]},
        )
    ).one()
    assert row.version == 1 and row.customer_code == body["customerCode"] and row.credit_code == credit
    assert row.account_manager == "am01" and row.tmf_attributes == {}
    assert (row.org_name, row.org_status, row.org_version, row.org_attrs) == (body["name"], "validated", 1, {})
    assert body["engagedParty"]["id"] == str(row.org_id)
    audits = (
        await rollback_conn.execute(
            text("SELECT action, actor, changes FROM customer.audit WHERE entity_id = :id"), {"id": body["id"]}
        )
    ).all()
    assert [(a.action, a.changes["name"]) for a in audits] == [("create", [None, body["name"]])]
    history = await client.get(f"/api/v1/customer/customers/{body['id']}/history", headers=auth())
    assert [h["action"] for h in history.json()] == ["create"]
    assignments = await client.get(f"/api/v1/customer/customers/{body['id']}/account-managers", headers=auth())
    assert [a["accountManager"] for a in assignments.json()] == ["am01"]
    events = (
        await rollback_conn.execute(
            text("SELECT event_type FROM customer.outbox WHERE aggregate_id IN (:c, :o) ORDER BY created_at"),
            {"c": body["id"], "o": str(row.org_id)},
        )
    ).scalars()
    assert list(events) == ["kam.v1.OrganizationChanged", "kam.v1.CustomerCreated"]


async def test_a_used_code_is_409_and_its_statement_writes_none_of_the_rows(
    client, auth, customer_body, rollback_conn: AsyncConnection
) -> None:
    first = await client.post(URL, json=customer_body(customerCode="KAGDGZ-ONE-0001"), headers=auth())
    assert first.status_code == 201
    again = customer_body(customerCode="KAGDGZ-ONE-0001", name="另一家公司有限公司", relatedParty=MANAGER)
    r = await client.post(URL, json=again, headers=auth())
    assert r.status_code == 409 and "KAGDGZ-ONE-0001" in r.json()["message"]
    counts = (
        await rollback_conn.execute(
            text(
                "SELECT (SELECT count(*) FROM customer.organization WHERE name = '另一家公司有限公司'), "
                "(SELECT count(*) FROM customer.account_manager_assignment a JOIN customer.customer c "
                "ON c.id = a.customer_id WHERE c.customer_code = 'KAGDGZ-ONE-0001'), "
                "(SELECT count(*) FROM customer.audit WHERE changes->'name'->>1 = '另一家公司有限公司')"
            )
        )
    ).one()
    assert tuple(counts) == (0, 0, 0)
