"""/api/v1/executions: running a tool, waiting for it, cancelling, approving and
rejecting; who may read and run; errors in the API's one shape. Reading and filtering
runs: tests/telemetry/test_executions_api.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from catalog.models import AuditAction, AuditLog, Role, Tenant
from catalog.services.apikeys import create_api_key
from planner import tasks
from telemetry.models import Execution, ExecutionStatus
from tests.catalog.api.resources import API, api_as, no_throttling  # noqa: F401
from tests.planner.test_services import (
    APPROVAL,
    STRICT,
    capability,
    make_tool,
    pattern,
    stricter_second_version,
)

S = ExecutionStatus
RUNS = f"{API}/executions"


def run(client: APIClient, **body: Any) -> Any:
    return client.post(RUNS, body, format="json")


@pytest.mark.django_db
def test_a_run_is_created_queued_and_located(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    response = run(api_as(operator), tool="disk_usage", context={"N": 2})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["final"] is False
    assert body["arguments"] == {"threshold_pct": 80}
    assert body["pattern"] == "all_mounts" and body["estimated_time_ms"] == 204
    assert body["caller"] == "operator-acme" and body["source"] == "api"
    assert response["Location"].endswith(f"{RUNS}/{body['id']}")
    assert queued_tasks == [body["id"]]


@pytest.mark.django_db
def test_invalid_arguments_are_a_400_naming_each_field_with_nothing_queued(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    response = run(api_as(operator), tool="disk_usage", arguments={"threshold_pct": "high"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == [
        {"path": "arguments.threshold_pct", "message": "must be an integer, not text"}
    ]
    assert not Execution.objects.exists() and queued_tasks == []


@pytest.mark.django_db
def test_malformed_requests_name_the_field(tenant: Tenant, operator: Any) -> None:
    client = api_as(operator)
    missing = run(client, arguments={})
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"][0]["path"] == "tool"
    too_long = run(client, tool="disk_usage", wait=999)
    assert too_long.json()["error"]["fields"][0]["path"] == "wait"
    bad_environment = run(client, tool="disk_usage", environment="moon")
    assert bad_environment.json()["error"]["fields"][0]["path"] == "environment"


@pytest.mark.django_db
def test_a_policy_refusal_is_a_422_saying_why(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    costly = pattern(cost_estimate="2 * N", policy={"max_cost": 5})
    make_tool(tenant, capabilities=[capability("scan", costly)])
    response = run(api_as(operator), tool="disk_usage", context={"N": 3})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "refused"
    assert error["fields"][0]["path"] == "context"
    assert "estimated cost 6 is above" in error["message"]
    assert not Execution.objects.exists()


@pytest.mark.django_db
def test_pinning_an_older_version_does_not_skip_the_current_versions_policy(
    tenant: Tenant, operator: Any, admin: Any, queued_tasks: list[int]
) -> None:
    tool = make_tool(tenant, capabilities=[capability("scan", pattern(policy={"max_cost": None}))])
    stricter_second_version(tool, admin, pattern(policy=STRICT))
    client = api_as(operator)

    production = run(client, tool="disk_usage", version="1.0.0", environment="production")
    assert production.status_code == 422
    assert production.json()["error"]["fields"][0]["path"] == "environment"
    development = run(client, tool="disk_usage", version="1.0.0")
    assert development.status_code == 201
    assert development.json()["status"] == "awaiting_approval" and queued_tasks == []


@pytest.mark.django_db
def test_a_pattern_that_backtracks_exponentially_answers_at_once(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    word = {"type": "string", "pattern": "^(a+)+$"}  # Python's re: 3 s at 26 characters
    make_tool(
        tenant,
        input_schema={"type": "object", "properties": {"word": word}},
        script="def main(word=''):\n    return word\n",
        capabilities=[capability("scan", pattern(examples=[]))],
    )
    started = time.perf_counter()
    response = run(api_as(operator), tool="disk_usage", arguments={"word": "a" * 40 + "!"})

    assert time.perf_counter() - started < 0.5
    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["path"] == "arguments.word"
    assert not Execution.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "path"),
    [
        (
            '{"tool": "disk_usage", "arguments": {"threshold_pct": "\\ud800"}}',
            "arguments.threshold_pct",
        ),
        ('{"tool": "disk_usage", "arguments": {"\\udc00": 1}}', "arguments.\ufffd"),
        ('{"tool": "disk_usage", "context": {"N": ["\\udfff"]}}', "context.N[0]"),
        ('{"tool": "disk_usage\\ud800"}', "tool"),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_run_request_is_a_400_naming_the_field(
    tenant: Tenant, operator: Any, queued_tasks: list[int], body: str, path: str
) -> None:
    make_tool(tenant)
    response = api_as(operator).post(RUNS, data=body, content_type="application/json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"][0]["path"] == path
    assert "lone UTF-16 surrogate" in error["fields"][0]["message"]
    assert not Execution.objects.exists() and queued_tasks == []


@pytest.mark.django_db
def test_arguments_nested_too_deep_are_a_400_not_a_crash(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    client = api_as(operator)
    for depth in (100, 50_000):
        nested = "[" * depth + "]" * depth
        body = '{"tool": "disk_usage", "arguments": {"x": ' + nested + "}}"
        response = client.post(RUNS, data=body, content_type="application/json")
        assert response.status_code == 400
        assert "nested too deep (at most 64 levels" in response.json()["error"]["message"]
    assert not Execution.objects.exists()


@pytest.mark.django_db
def test_viewers_read_but_cannot_run(
    tenant: Tenant, viewer: Any, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    assert run(api_as(viewer), tool="disk_usage").status_code == 403
    created = run(api_as(operator), tool="disk_usage").json()
    assert api_as(viewer).get(f"{RUNS}/{created['id']}").status_code == 200
    assert api_as(None).get(RUNS).status_code in (401, 403)


@pytest.mark.django_db
def test_another_tenants_runs_do_not_exist(
    tenant: Tenant, operator: Any, outsider: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    created = run(api_as(operator), tool="disk_usage").json()
    outside = api_as(outsider)
    assert outside.get(f"{RUNS}/{created['id']}").status_code == 404
    assert outside.post(f"{RUNS}/{created['id']}/cancel", {}, format="json").status_code in (
        403,
        404,
    )
    assert outside.get(RUNS).json()["count"] == 0
    assert run(outside, tool="disk_usage").status_code in (400, 403)


@pytest.mark.django_db
def test_the_same_idempotency_key_returns_the_first_run(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    client = api_as(operator)
    first = run(client, tool="disk_usage", idempotency_key="nightly-1")
    again = client.post(
        RUNS, {"tool": "disk_usage"}, format="json", HTTP_IDEMPOTENCY_KEY="nightly-1"
    )
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Execution.objects.count() == 1 and len(queued_tasks) == 1
    other = run(
        client, tool="disk_usage", arguments={"threshold_pct": 1}, idempotency_key="nightly-1"
    )
    assert other.status_code == 400
    assert other.json()["error"]["fields"][0]["path"] == "idempotency_key"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_runs")
def test_wait_answers_with_the_result_and_an_api_key_is_recorded(
    tenant: Tenant, operator: Any, settings: Any
) -> None:
    settings.API_THROTTLE_WRITE = settings.API_THROTTLE_READ = "off"
    make_tool(tenant)
    key, token = create_api_key(tenant, name="agent", role=Role.OPERATOR, actor=operator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = run(client, tool="disk_usage", arguments={"threshold_pct": 4}, wait=10)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "succeeded" and body["final"] is True
    assert body["result"] == {"double": 8}
    assert body["isolation"] in ("bubblewrap", "rlimits-only")
    assert body["duration_ms"] is not None and body["attempts"] == 1
    assert Execution.objects.get(pk=body["id"]).api_key == key


@pytest.mark.django_db
def test_cancel_a_queued_run_then_a_second_cancel_is_a_conflict(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    client = api_as(operator)
    created = run(client, tool="disk_usage").json()
    cancelled = client.post(f"{RUNS}/{created['id']}/cancel", {"reason": "typo"}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["decided_by"] == "operator-acme"
    again = client.post(f"{RUNS}/{created['id']}/cancel", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert AuditLog.objects.filter(action=AuditAction.CANCEL).count() == 1


@pytest.mark.django_db
def test_admins_approve_or_reject_runs_awaiting_approval(
    tenant: Tenant, operator: Any, admin: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant, capabilities=[capability("scan", pattern(policy=APPROVAL))])
    asked = run(api_as(operator), tool="disk_usage").json()
    other = run(api_as(operator), tool="disk_usage", arguments={"threshold_pct": 3}).json()
    assert asked["status"] == "awaiting_approval" and queued_tasks == []

    assert api_as(operator).post(f"{RUNS}/{asked['id']}/approve").status_code == 403
    approved = api_as(admin).post(f"{RUNS}/{asked['id']}/approve", {"reason": "ok"})
    assert approved.status_code == 200 and approved.json()["status"] == "queued"
    assert queued_tasks == [asked["id"]]

    no_reason = api_as(admin).post(f"{RUNS}/{other['id']}/reject", {}, format="json")
    assert no_reason.status_code == 400
    assert no_reason.json()["error"]["fields"][0]["path"] == "reason"
    rejected = api_as(admin).post(f"{RUNS}/{other['id']}/reject", {"reason": "freeze"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "freeze"
    late = api_as(admin).post(f"{RUNS}/{other['id']}/approve")
    assert late.status_code == 409
    assert Execution.objects.get(pk=other["id"]).status == S.REJECTED


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """The broker refuses every task, as kombu says after its retries."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("[Errno 20] Not a directory: 'var/broker/queue'")

    monkeypatch.setattr(tasks.run_execution, "apply_async", refuse)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("broker_down")
def test_a_run_the_queue_does_not_take_is_a_503_saying_it_is_recorded_and_resent(
    tenant: Tenant, operator: Any, settings: Any
) -> None:
    settings.API_THROTTLE_WRITE = settings.API_THROTTLE_READ = "off"
    make_tool(tenant)
    client = api_as(operator)

    response = run(client, tool="disk_usage", idempotency_key="k-1", wait=5)

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "not_queued"
    assert "is recorded and queued" in error["message"]
    assert "Do not start it again" in error["message"]
    assert error["run"]["status"] == "queued"
    assert response["Location"].endswith(f"{RUNS}/{error['run']['id']}")
    assert response["Retry-After"] == "30"
    row = Execution.objects.get()
    assert (row.pk, row.status, row.unsent) == (error["run"]["id"], S.QUEUED, True)
    # Sent again with its key, it is the same run, still waiting for the queue.
    again = run(client, tool="disk_usage", idempotency_key="k-1")
    assert again.status_code == 503 and again.json()["error"]["run"]["id"] == row.pk
    assert Execution.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("broker_down")
def test_approving_a_run_the_queue_does_not_take_is_a_503_with_the_approved_run(
    tenant: Tenant, operator: Any, admin: Any, settings: Any
) -> None:
    settings.API_THROTTLE_WRITE = settings.API_THROTTLE_READ = "off"
    make_tool(tenant, capabilities=[capability("scan", pattern(policy=APPROVAL))])
    waiting = run(api_as(operator), tool="disk_usage").json()
    assert waiting["status"] == "awaiting_approval"

    response = api_as(admin).post(f"{RUNS}/{waiting['id']}/approve", {}, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["run"]["decided_by"] == "admin-acme"
    assert response["Location"].endswith(f"{RUNS}/{waiting['id']}")
    assert Execution.objects.get().unsent
