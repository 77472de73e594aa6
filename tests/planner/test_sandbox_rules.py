"""Who decides what a script may do, and what a run's record says about its bounds:
the network is a tenant admin's decision, memory has the operator's ceiling, a server
that cannot isolate scripts refuses them, and every run says which bounds applied."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.models import Tenant, ToolVersion
from planner import sandbox
from planner.executor import run_execution
from planner.sandbox import cgroups, isolation
from telemetry.models import Execution, ExecutionStatus
from tests.catalog.api.resources import API, api_as, new_version, no_throttling, published  # noqa: F401
from tests.factories import make_definition
from tests.planner.test_services import make_tool

NETWORK = {"kind": "script", "timeout_s": 30, "memory_mb": 256, "network": True}
DOUBLE = "def main(threshold_pct: int = 80):\n    return threshold_pct * 2\n"


# -- the network is an admin's decision --------------------------------------------------


@pytest.mark.django_db
def test_an_editor_may_ask_for_the_network_but_not_publish_it(
    tenant: Tenant, editor: Any, admin: Any
) -> None:
    tool = published(tenant, editor, script=DOUBLE, runtime={**NETWORK, "network": False})
    draft = new_version(tool, editor, publish=False, runtime=NETWORK)
    client = api_as(editor)

    refused = client.post(f"{API}/tools/{tool.name}/publish", {"reason": "go"}, format="json")

    assert refused.status_code == 400
    (field,) = refused.json()["error"]["fields"]
    assert field["path"] == "runtime.network"
    assert "an admin of this tenant must publish it" in field["message"]
    tool.refresh_from_db()
    assert tool.current_version.version == "1.0.0"

    services.publish_version(draft, actor=admin, reason="reviewed: it only calls the vendor")
    tool.refresh_from_db()
    assert tool.current_version == draft


@pytest.mark.django_db
def test_an_editor_cannot_roll_back_to_a_version_with_the_network(
    tenant: Tenant, editor: Any, admin: Any
) -> None:
    tool = published(tenant, admin, script=DOUBLE, runtime=NETWORK)
    tool.owners.add(editor)
    new_version(tool, admin, publish=True, runtime={**NETWORK, "network": False})
    first = ToolVersion.objects.get(tool=tool, version="1.0.0")

    response = api_as(editor).post(
        f"{API}/tools/{tool.name}/rollback",
        {"to_version": "1.0.0", "reason": "back"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["path"] == "runtime.network"
    services.rollback_tool(tool, to_version=first, actor=admin)


@pytest.mark.django_db
def test_the_tool_page_says_the_network_is_an_admins_decision(
    tenant: Tenant, admin: Any, client: Client
) -> None:
    tool = published(tenant, admin, script=DOUBLE, runtime=NETWORK)
    client.force_login(admin)
    html = client.get(reverse("catalog:tool_detail", args=[tool.name])).content.decode()
    assert "network access to outside addresses (an admin&#x27;s decision)" in html


# -- memory has the operator's ceiling ---------------------------------------------------


@pytest.mark.django_db
def test_memory_above_the_operators_ceiling_is_refused_with_the_other_problems(
    tenant: Tenant, admin: Any, settings: Any
) -> None:
    settings.SANDBOX_MAX_MEMORY_MB = 1024
    definition = make_definition(
        name="hungry",
        script="def main(:\n",
        runtime={"kind": "script", "timeout_s": 30, "memory_mb": 65536, "network": False},
    )
    response = api_as(admin).post(f"{API}/tools", {"definition": definition}, format="json")

    assert response.status_code == 400
    fields = {f["path"]: f["message"] for f in response.json()["error"]["fields"]}
    assert "1024 MB" in fields["runtime.memory_mb"]
    assert "QUIVER_SANDBOX_MAX_MEMORY_MB" in fields["runtime.memory_mb"]
    assert "script" in fields  # every problem at once


@pytest.mark.django_db
def test_a_ceiling_lowered_after_saving_still_bounds_the_run(
    tenant: Tenant, operator: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tool(
        tenant,
        script=DOUBLE,
        runtime={"kind": "script", "timeout_s": 30, "memory_mb": 2048, "network": False},
    )
    settings.SANDBOX_MAX_MEMORY_MB = 128
    seen: dict[str, Any] = {}

    def spy(source: str, kwargs: dict[str, Any], **limits: Any) -> sandbox.Result:
        seen.update(limits)
        return sandbox.Result(status="succeeded", value=1)

    monkeypatch.setattr("planner.executor.run_script", spy)
    response = api_as(operator).post(f"{API}/executions", {"tool": "disk_usage"}, format="json")
    run_execution(response.json()["id"])
    assert seen["memory_mb"] == 128


# -- a server that cannot isolate scripts refuses them ------------------------------------


@pytest.mark.django_db
def test_without_the_sandbox_a_script_run_is_refused_and_nothing_is_recorded(
    tenant: Tenant,
    operator: Any,
    monkeypatch: pytest.MonkeyPatch,
    queued_tasks: list[int],
) -> None:
    make_tool(tenant, script=DOUBLE)
    monkeypatch.setattr(isolation, "isolation_level", lambda: sandbox.RLIMITS_ONLY)
    monkeypatch.setattr(isolation, "ALLOW_WEAK", False)

    response = api_as(operator).post(f"{API}/executions", {"tool": "disk_usage"}, format="json")

    assert response.status_code == 422
    message = response.json()["error"]["fields"][0]["message"]
    assert "QUIVER_SANDBOX_ALLOW_WEAK" in message
    assert not Execution.objects.exists() and queued_tasks == []


# -- every run says which bounds applied ---------------------------------------------------


@pytest.mark.django_db
def test_a_runs_record_and_page_say_which_bounds_applied(
    tenant: Tenant, operator: Any, client: Client
) -> None:
    if sandbox.isolation_level() != sandbox.BUBBLEWRAP or cgroups.problem():
        pytest.skip("needs bubblewrap and cgroups")
    make_tool(
        tenant,
        script=DOUBLE,
        runtime={"kind": "script", "timeout_s": 30, "memory_mb": 256, "network": False},
    )
    api = api_as(operator)
    created = api.post(f"{API}/executions", {"tool": "disk_usage"}, format="json").json()
    row = run_execution(created["id"])
    assert row.status == ExecutionStatus.SUCCEEDED, row.error

    body = api.get(f"{API}/executions/{row.pk}").json()
    assert body["bounds"]["memory"].startswith("256 MB for the whole run")
    assert body["bounds"]["network"] == "none"
    client.force_login(operator)
    html = client.get(reverse("telemetry:run_detail", args=[row.pk])).content.decode()
    assert "256 MB for the whole run" in html
    assert "a private /tmp and /dev/shm of 256 MB each" in html
