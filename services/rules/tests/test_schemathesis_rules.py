"""Property-based checks (schemathesis) of the rules API, in process against real PostgreSQL: no server
error, only declared statuses, answers matching the documented schema, media type and headers."""

from __future__ import annotations

from typing import Any

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

from kam_rules.main import MIGRATIONS, create_app
from kam_rules.seed import seed

from .conftest import DEMO, make_settings

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
def rules_schema(make_database: Any, jwks: dict[str, Any]) -> Any:
    import asyncio

    from kam_platform.topology import Topology

    url = make_database("test_schemathesis_rules", [MIGRATIONS])
    asyncio.run(seed(url, "hq", Topology.load(DEMO)))  # published rules to read, refine and evaluate
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(make_settings(url, jwks, "gd")))


def test_rules_api_answers_no_server_error_and_only_declared_statuses(rules_schema: Any, make_token: Any) -> None:
    token = make_token("author", "gd", perms=["rules:read", "rules:write", "rules:approve"], roles=["ka_dept_manager"])
    failures: list[str] = []
    statuses: list[int] = []
    for result in rules_schema.get_all_operations():
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
    assert 200 in statuses and len(statuses) > 50  # the cases reached the handlers, not only the guards
