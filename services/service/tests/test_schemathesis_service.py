"""Property-based checks (schemathesis) of the service API's issue-12 surface — tickets, /hub, queues,
documents, care, experts, contact schemes, the quality board — in process against real PostgreSQL: no
server error, only declared statuses, answers matching the documented schema, media type and headers.
The customer and rules services answer "not found" (they are fuzzed on their own); the 10000 adapter's
interface is left to its own tests."""

from __future__ import annotations

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
from kam_service.lookups import Lookups
from kam_service.main import MIGRATIONS, create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
)
SKIPPED = ("/api/v1/service/cs10000",)


@pytest.fixture(scope="module")
def service_schema(make_database: Any, jwks: dict[str, Any]) -> Any:
    url = make_database("test_schemathesis_service", [MIGRATIONS])
    app_settings = Settings(
        node="gd",
        service="service",
        topology_file=topology_file("demo"),
        database_url=url,
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        nats_url="nats://127.0.0.1:1",
        jwks_json=json.dumps(jwks),
    )

    def nobody() -> httpx.AsyncClient:
        transport = httpx.MockTransport(lambda _: httpx.Response(404, json={"code": "NOT_FOUND", "message": "no"}))
        return httpx.AsyncClient(transport=transport, base_url="http://gd.kam.test")

    app = create_app(app_settings, lookups=Lookups(nobody), evaluate_every=None, care_every=None)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_service_api_answers_no_server_error_and_only_declared_statuses(service_schema: Any, make_token: Any) -> None:
    token = make_token("admin", "gd", perms=["*"], roles=["sys_admin"])
    failures: list[str] = []
    statuses: list[int] = []
    for result in service_schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(SKIPPED):
            continue

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
