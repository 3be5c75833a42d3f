"""Property-based checks (schemathesis) of the sales API, in process against real PostgreSQL with the
demo catalogue seeded: no server error, only declared statuses, answers matching the documented schema,
media type and headers. The rules service answers "no rule" (it is fuzzed on its own)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kam_platform.settings import Settings
from kam_platform.testing.helpers import topology_file
from kam_platform.topology import Topology
from kam_rules.client import RulesClient
from kam_sales.main import MIGRATIONS, create_app
from kam_sales.seed import seed

from .conftest import ALL

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
)


@pytest.fixture(scope="module")
def sales_schema(make_database: Any, jwks: dict[str, Any]) -> Any:
    url = make_database("test_schemathesis_sales", [MIGRATIONS])
    topology = Topology.load(topology_file("demo"))
    for node in ("hq", "gd"):
        asyncio.run(seed(url, node, topology))
    app_settings = Settings(
        node="gd",
        service="sales",
        topology_file=topology_file("demo"),
        database_url=url,
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        nats_url="nats://127.0.0.1:1",
        jwks_json=json.dumps(jwks),
    )
    no_rule = RulesClient(
        "http://rules.test", transport=httpx.MockTransport(lambda _: httpx.Response(404, json={"code": "NOT_FOUND"}))
    )
    app = create_app(app_settings, rules_client=no_rule, reminders_every=None)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_sales_api_answers_no_server_error_and_only_declared_statuses(sales_schema: Any, make_token: Any) -> None:
    token = make_token("am1", "gd", perms=ALL, roles=["account_manager"])
    failures: list[str] = []
    statuses: list[int] = []
    for result in sales_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @SETTINGS
        def run(case: Any) -> None:
            response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
            statuses.append(response.status_code)

        try:
            run()
        except (Exception, ExceptionGroup) as exc:
            first = str(exc).strip().splitlines()
            failures.append(f"{operation.method.upper()} {operation.path}: {' / '.join(first[:8])}")
    assert not failures, "\n".join(failures)
    assert 200 in statuses and len(statuses) > 50
