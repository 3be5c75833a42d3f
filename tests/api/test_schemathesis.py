"""Property-based API checks (schemathesis) over every service's OpenAPI document, in process against
real PostgreSQL: no request may produce a server error, every status a route answers must be declared
in its OpenAPI document, and every answer must match the schema, media type and headers the document
declares for it (generated clients and conformance kits rely on all of these).

Bounded: a fixed number of generated cases per operation, so the run stays within a minute or two.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kam_platform.settings import Settings
from kam_rules.client import RulesClient

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "deploy" / "topologies" / "demo.yaml"
EXAMPLES = 12


def _settings(service: str, database_url: str, **kw: Any) -> Settings:
    return Settings(
        node="gd-gz",
        service=service,
        topology_file=DEMO,
        database_url=database_url,
        relay_enabled=False,
        replication_enabled=False,
        hub_enabled=False,
        nats_url="nats://127.0.0.1:1",
        **kw,
    )


@pytest.fixture(scope="module")
def org_app(make_database: Any) -> Any:
    from kam_org.main import MIGRATIONS, create_app
    from kam_org.seed import seed
    from kam_platform.topology import Topology

    url = make_database("test_schemathesis_org", [MIGRATIONS])
    asyncio.run(seed(url, "gd-gz", Topology.load(DEMO)))
    return create_app(_settings("org", url)), url


@pytest.fixture(scope="module")
def customer_app(make_database: Any, jwks: Any) -> Any:
    from kam_customer.main import MIGRATIONS, create_app

    url = make_database("test_schemathesis_customer", [MIGRATIONS])
    app = create_app(_settings("customer", url, jwks_json=json.dumps(jwks)))
    # recognition asks the node's rules service (fuzzed on its own in services/rules/tests): here it
    # answers that no rule is in force
    app.state.rules_client = RulesClient(
        "http://rules.test", transport=httpx.MockTransport(lambda _: httpx.Response(404, json={"code": "NOT_FOUND"}))
    )
    return app


@pytest.fixture(scope="module")
def sync_app(make_database: Any, jwks: Any, nats_url: str) -> Any:
    from kam_sync.main import MIGRATIONS, create_app

    url = make_database("test_schemathesis_sync", [MIGRATIONS])
    settings = _settings("sync", url, jwks_json=json.dumps(jwks))
    return create_app(settings.model_copy(update={"nats_url": nats_url}))


@pytest.fixture(scope="module")
def sync_schema(sync_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", sync_app)


@pytest.fixture(scope="module")
def org_schema(org_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", org_app[0])


@pytest.fixture(scope="module")
def customer_schema(customer_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", customer_app)


@pytest.fixture(scope="module")
def org_token(org_app: Any) -> str:
    from kam_org.tokens import issue_token
    from kam_platform.topology import Topology

    return asyncio.run(issue_token(org_app[1], "gd-gz", "admin", Topology.load(DEMO)))


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    allow_header_conformance,
]
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
)


def fuzz(schema: Any, headers: dict[str, str]) -> list[str]:
    """Run every operation of `schema` with generated cases; the failures, one line each."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @SETTINGS
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, ExceptionGroup) as exc:  # schemathesis raises a group of the distinct failures
            first = str(exc).strip().splitlines()
            failures.append(f"{operation.method.upper()} {operation.path}: {' / '.join(first[:6])}")
    return failures


def test_org_api_answers_no_server_error_and_only_declared_statuses(org_schema: Any, org_token: str) -> None:
    failures = fuzz(org_schema, {"Authorization": f"Bearer {org_token}"})
    assert not failures, "\n".join(failures)


def test_customer_api_answers_no_server_error_and_only_declared_statuses(customer_schema: Any, make_token: Any) -> None:
    token = make_token("am01", "gd-gz", roles=["admin"])
    failures = fuzz(customer_schema, {"Authorization": f"Bearer {token}"})
    assert not failures, "\n".join(failures)


def test_sync_api_answers_no_server_error_and_only_declared_statuses(sync_schema: Any, make_token: Any) -> None:
    token = make_token("admin", "gd-gz", roles=["admin"])
    failures = fuzz(sync_schema, {"Authorization": f"Bearer {token}"})
    assert not failures, "\n".join(failures)
