"""GET /api/v1/executions and /api/v1/executions/<id>: reading and filtering runs; the
list leaves out captured output, and a time filter with any offset is answered."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import Tenant
from telemetry.models import ExecutionStatus
from telemetry.services import finish_execution, mark_running
from tests.catalog.api.resources import API, api_as, no_throttling  # noqa: F401
from tests.planner.test_executions_api import run
from tests.planner.test_services import make_tool

S = ExecutionStatus
RUNS = f"{API}/executions"


@pytest.mark.django_db
def test_the_list_filters_and_leaves_out_captured_output(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    make_tool(tenant, name="ping_host")
    client = api_as(operator)
    done = run(client, tool="disk_usage").json()
    run(client, tool="ping_host")
    assert mark_running(done["id"], worker="w:1")
    finish_execution(done["id"], status=S.SUCCEEDED, result=1, stdout="lots of output")

    everything = client.get(RUNS).json()
    assert everything["count"] == 2 and "stdout" not in everything["results"][0]
    by_tool = client.get(RUNS, {"tool": "ping_host"}).json()
    assert [r["tool"] for r in by_tool["results"]] == ["ping_host"]
    by_status = client.get(f"{RUNS}?status=succeeded&status=failed").json()
    assert [r["id"] for r in by_status["results"]] == [done["id"]]
    bad = client.get(RUNS, {"status": "exploded"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["path"] == "status"
    one = client.get(f"{RUNS}/{done['id']}").json()
    assert one["stdout"] == "lots of output" and one["worker"] == "w:1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("0254-06-30T17:42:27-23:46", 200),  # an offset PostgreSQL would refuse
        ("2026-01-01T00:00:00+14:00", 200),
        ("0001-01-01T00:00:00+05:00", 400),  # before year 1 in UTC
    ],
)
def test_a_time_filter_with_any_offset_is_answered_not_a_server_error(
    tenant: Tenant, operator: Any, value: str, status: int
) -> None:
    response = api_as(operator).get(RUNS, {"queued_before": value})
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["error"]["fields"][0]["path"] == "queued_before"
