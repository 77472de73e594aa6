"""The runs list, a run's page and its live fragment: what they show and to whom, text
that cannot be stored, and the same runs as GET /api/v1/executions for the same query."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.display.in_words import milliseconds_in_words
from catalog.models import Tenant, ToolVersion
from catalog.services import create_tool
from telemetry.models import Execution, ExecutionStatus
from telemetry.services import finish_execution, mark_running, record_execution
from tests.factories import make_definition

pytestmark = pytest.mark.django_db
S = ExecutionStatus
RUNS = reverse("telemetry:run_list")
QUEUE = reverse("planner:approval_queue")  # the menu's Approvals link, for admins only


def version_of(tenant: Tenant, name: str = "disk_usage") -> ToolVersion:
    tool = create_tool(tenant, definition=make_definition(name=name), actor=None, publish=True)
    assert tool.current_version is not None
    return tool.current_version


def queued(version: ToolVersion, **kwargs: Any) -> Execution:
    kwargs.setdefault("arguments", {"threshold_pct": 80})
    kwargs.setdefault("caller", None)
    return record_execution(version, **kwargs)[0]


def finished(version: ToolVersion, status: str = S.SUCCEEDED, **outcome: Any) -> Execution:
    execution = queued(version)
    assert mark_running(execution.pk, worker="host-1:42")
    return finish_execution(execution.pk, status=status, **outcome)


def detail(execution: Execution) -> str:
    return reverse("telemetry:run_detail", args=[execution.pk])


@pytest.fixture
def version(tenant: Tenant) -> ToolVersion:
    return version_of(tenant)


def test_list_shows_only_the_tenants_runs(
    client: Client, viewer: Any, version: ToolVersion, other_tenant: Tenant
) -> None:
    mine = finished(version, result={"mounts": []})
    theirs = finished(version_of(other_tenant, "ping_host"))
    client.force_login(viewer)
    body = client.get(RUNS).content.decode()
    assert detail(mine) in body
    assert detail(theirs) not in body and "ping_host" not in body


def test_list_filters_by_status_and_tool(client: Client, viewer: Any, tenant: Tenant) -> None:
    disk, ping = version_of(tenant), version_of(tenant, "ping_host")
    ok = finished(disk)
    bad = finished(ping, S.FAILED, error="Traceback\nValueError: boom", error_kind="raised")
    client.force_login(viewer)
    body = client.get(RUNS, {"status": "failed"}).content.decode()
    assert detail(bad) in body and detail(ok) not in body
    body = client.get(RUNS, {"tool": "disk_usage"}, HTTP_HX_REQUEST="true").content.decode()
    assert detail(ok) in body and detail(bad) not in body
    assert "<html" not in body
    body = client.get(RUNS, {"error_kind": "raised", "within": "hour"}).content.decode()
    assert detail(bad) in body and detail(ok) not in body


def test_runs_of_a_tool_named_in_capitals_are_found_by_its_name(
    client: Client, viewer: Any, tenant: Tenant
) -> None:
    run = finished(version_of(tenant, "getWeather"))
    client.force_login(viewer)
    body = client.get(RUNS, {"tool": "getWeather"}, HTTP_HX_REQUEST="true").content.decode()
    assert detail(run) in body


def test_an_unknown_filter_value_is_a_message_not_a_crash(client: Client, viewer: Any) -> None:
    client.force_login(viewer)
    response = client.get(RUNS, {"status": "exploded"})
    assert response.status_code == 200
    assert "Some filters are not valid" in response.content.decode()


def test_list_pages_by_fifty(client: Client, viewer: Any, version: ToolVersion) -> None:
    for _ in range(51):
        queued(version)
    client.force_login(viewer)
    body = client.get(RUNS).content.decode()
    assert "Page 1 of 2" in body
    assert body.count('title="Open run #') == 50


def test_unfinished_rows_make_the_table_poll(
    client: Client, viewer: Any, version: ToolVersion
) -> None:
    finished(version)
    client.force_login(viewer)
    assert "data-polling" not in client.get(RUNS).content.decode()
    queued(version)
    body = client.get(RUNS).content.decode()
    assert "data-polling" in body and 'hx-trigger="every 2s"' in body
    rows = client.get(RUNS, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-rows")
    assert rows.content.decode().lstrip().startswith('<tbody id="run-rows"')


def test_detail_shows_result_error_output_and_weak_isolation(
    client: Client, viewer: Any, version: ToolVersion
) -> None:
    ok = finished(
        version, result={"mounts": ["/"]}, stdout="checked 1 mount", isolation="bubblewrap"
    )
    bad = finished(
        version,
        S.FAILED,
        error="Traceback (most recent call last):\n  File x\nZeroDivisionError: division by zero",
        error_kind="raised",
        stderr="warning: slow disk",
        isolation="rlimits-only",
    )
    client.force_login(viewer)
    body = client.get(detail(ok)).content.decode()
    assert "&quot;mounts&quot;" in body and "checked 1 mount" in body and "Sandboxed" in body
    assert "Weaker isolation" not in body
    body = client.get(detail(bad)).content.decode()
    assert "Raised an exception" in body and "ZeroDivisionError: division by zero" in body
    assert "traceback" in body and "warning: slow disk" in body
    assert "Weaker isolation than intended" in body


def test_a_result_with_a_script_tag_is_escaped(
    client: Client, viewer: Any, version: ToolVersion
) -> None:
    run = finished(version, result={"x": "<script>alert(1)</script>"}, stdout="<script>x</script>")
    client.force_login(viewer)
    for url in (detail(run), RUNS):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "<script>x" not in body
        assert "&lt;script&gt;" in body


def test_live_fragment_polls_while_unfinished_and_stops_when_final(
    client: Client, viewer: Any, version: ToolVersion
) -> None:
    run = queued(version)
    live = reverse("telemetry:run_live", args=[run.pk])
    client.force_login(viewer)
    body = client.get(live, HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<section id="run-live"')
    assert f'hx-get="{live}"' in body and "<html" not in body
    assert mark_running(run.pk, worker="w")
    finish_execution(run.pk, status=S.SUCCEEDED, result={"ok": True})
    body = client.get(live, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-get" not in body and "data-final" in body


@pytest.mark.parametrize("name", ["run_detail", "run_live"])
def test_other_tenant_gets_404(
    client: Client, outsider: Any, version: ToolVersion, name: str
) -> None:
    run = queued(version)
    client.force_login(outsider)
    assert client.get(reverse(f"telemetry:{name}", args=[run.pk])).status_code == 404


def test_nav_badge_counts_runs_awaiting_approval_for_admins(
    client: Client, admin: Any, viewer: Any, version: ToolVersion
) -> None:
    queued(version, requires_approval=True)
    queued(version, requires_approval=True)
    client.force_login(admin)
    body = client.get(RUNS).content.decode()
    assert "data-approvals-count>2<" in body
    client.force_login(viewer)
    body = client.get(RUNS).content.decode()
    assert "data-approvals-count" not in body and QUEUE not in body


@pytest.mark.parametrize(
    ("ms", "words"),
    [
        (None, ""),
        (420, "420 ms"),
        (3100, "3.1 s"),
        (15_000, "15 s"),
        (125_000, "2 min 5 s"),
        (120_000, "2 min"),
    ],
)
def test_times_are_said_in_words(ms: float | None, words: str) -> None:
    assert milliseconds_in_words(ms) == words


# -- text that cannot be stored ----------------------------------------------------------

LONE = "\ud800"  # a lone UTF-16 surrogate: legal in Python and in JSON, not in UTF-8


def test_a_result_with_a_lone_surrogate_is_stored_replaced_and_every_page_shows_it(
    client: Client, viewer: Any, version: ToolVersion
) -> None:
    run = finished(
        version, result={"name": f"a{LONE}b", f"k{LONE}": [LONE]}, stdout=f"out{LONE}\x00"
    )
    run.refresh_from_db()
    assert run.result == {"name": "a\ufffdb", "k\ufffd": ["\ufffd"]}
    assert run.stdout == "out\ufffd\ufffd" and run.text_replaced

    client.force_login(viewer)
    assert client.get(RUNS).status_code == 200
    page = client.get(detail(run))
    assert page.status_code == 200
    assert "characters that cannot be stored" in page.content.decode()
    api = client.get("/api/v1/executions")
    assert api.status_code == 200 and api.json()["results"][0]["result"]["name"] == "a\ufffdb"
    assert client.get(f"/api/v1/executions/{run.pk}").json()["text_replaced"] is True


def test_an_error_with_a_lone_surrogate_is_stored_replaced(version: ToolVersion) -> None:
    run = finished(version, S.FAILED, error=f"ValueError: {LONE}", error_kind="raised")
    run.refresh_from_db()
    assert run.error == "ValueError: \ufffd" and run.text_replaced


def test_a_clean_run_is_not_flagged(version: ToolVersion) -> None:
    run = finished(version, result={"name": "naïve 😀"}, stdout="ok")
    run.refresh_from_db()
    assert run.result == {"name": "naïve 😀"} and not run.text_replaced


@pytest.mark.parametrize(
    "query",
    [
        {"status": ["failed", "timed_out"]},
        {"status": "failed", "tool": "disk_usage"},
        {"caller": "ADMIN-ACME"},  # the user name, ignoring case
        {"caller": "admin-acme", "status": "queued"},
        {"tool": "ping_host", "within": "day"},
        {"date_from": "2000-01-01", "environment": "production"},
        {"queued_after": "2000-01-01T00:00:00Z", "error_kind": "raised"},
        {"version": "1.0.0", "tool": "ping_host"},
    ],
)
def test_the_runs_page_and_the_api_answer_the_same_runs_for_the_same_query(
    client: Client, admin: Any, tenant: Tenant, query: dict[str, Any]
) -> None:
    disk, ping = version_of(tenant), version_of(tenant, "ping_host")
    runs = [
        finished(disk),
        finished(disk, status=S.FAILED, error_kind="raised", error="no"),
        finished(ping, status=S.TIMED_OUT, error_kind="timed_out", error="slow"),
        queued(disk, caller=admin, environment="production"),
        queued(ping, caller=admin),
    ]
    client.force_login(admin)
    page = client.get(RUNS, query).content.decode()
    on_page = {r.pk for r in runs if f'href="{detail(r)}"' in page}
    api = APIClient()
    api.force_login(admin)
    answer = api.get("/api/v1/executions", query)
    assert answer.status_code == 200, answer.json()
    in_api = {r["id"] for r in answer.json()["results"]}
    assert on_page == in_api
    assert in_api, "the query should match some run"
