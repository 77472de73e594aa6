"""schemathesis against /api/schema/: no server error, no response that breaks the schema.

Every documented operation gets generated requests (valid and invalid) through the real
WSGI application, authenticated with an admin's API key on a catalog of sample tools.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.models import Role
from catalog.services import create_tool
from catalog.services.apikeys import create_api_key
from tests.factories import make_definition

EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_keeps_the_test_connection() -> Iterator[None]:
    """Requests sent straight to the WSGI application would close the test's database
    connection when they finish (Django's test client unhooks this the same way)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db: Any, settings: Any, wsgi_keeps_the_test_connection: None) -> Any:
    from config.wsgi import application

    # Generated traffic is far above any human rate: keep the throttles out of the way.
    settings.API_THROTTLE_READ = "100000/min"
    settings.API_THROTTLE_WRITE = "100000/min"
    return schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def key_headers(tenant: Any, admin: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    cache.clear()
    # No worker runs here: a run request's `wait` would only sleep out its seconds.
    monkeypatch.setattr("planner.services.MAX_WAIT_S", 0.01)
    for name in ("disk_usage", "ping_host", "port_scan"):
        create_tool(tenant, definition=make_definition(name=name), actor=admin, publish=True)
    _, token = create_api_key(tenant, name="schemathesis", role=Role.ADMIN, actor=admin)
    return {"Authorization": f"Bearer {token}"}


def test_every_operation_answers_within_its_schema(
    api_schema: Any, key_headers: dict[str, str]
) -> None:
    # Driven by hand rather than by schemathesis' pytest plugin, whose lazy loading does
    # not work with pytest 9; each operation still gets its own Hypothesis run.
    failures: list[str] = []
    calls: list[int] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call_and_validate(headers=key_headers, checks=CHECKS)
            calls.append(response.status_code)

        try:
            check()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}:\n{exc}")
    assert not failures, "\n\n".join(failures)
    # Every operation was really called, and some calls got past validation.
    assert len(calls) >= len(operations)
    assert sum(1 for status in calls if status < 300) > len(operations) // 2
