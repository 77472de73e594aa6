"""A tenant's admins narrow the operator's limits for their tenant's scripts, never widen
them: the service, its page and API, and every place the limits hold (publishing,
starting a run, the run itself)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from catalog import sandbox_limits, services
from catalog.definitions.problems import DefinitionInvalid
from catalog.models import AuditAction, AuditLog, SandboxLimits, Tenant
from planner import sandbox
from planner.executor import run_execution
from planner.sandbox import isolation
from telemetry.models import ErrorKind, Execution, ExecutionStatus
from tests.catalog.api.resources import API, api_as, new_version, no_throttling, published  # noqa: F401
from tests.planner.test_services import make_tool

DOUBLE = "def main(threshold_pct: int = 80):\n    return threshold_pct * 2\n"
SCRIPT = {"kind": "script", "timeout_s": 30, "memory_mb": 256, "network": False}
URL = f"{API}/script-limits"


@pytest.fixture
def machine(settings: Any) -> Any:
    """The operator allows two internal networks and 1024 MB a run."""
    settings.SANDBOX_INTERNAL_NETWORKS = ["10.20.0.0/16", "192.168.5.0/24"]
    settings.SANDBOX_MAX_MEMORY_MB = 1024
    return settings


def narrow(tenant: Tenant, admin: Any, **wanted: Any) -> SandboxLimits:
    current = services.sandbox_limits_of(tenant)
    values = {
        "network": current.network,
        "internal_networks": current.internal_networks,
        "max_memory_mb": current.max_memory_mb,
        **wanted,
    }
    return services.set_sandbox_limits(tenant, **values, revision=current.revision, actor=admin)


# -- the service: narrow, never widen ------------------------------------------------------


@pytest.mark.django_db
def test_without_a_choice_of_its_own_a_tenant_has_the_machines_limits(
    tenant: Tenant, machine: Any
) -> None:
    limits = sandbox_limits.effective(tenant)
    assert limits == sandbox_limits.Limits(
        network=True, internal_networks=("10.20.0.0/16", "192.168.5.0/24"), memory_mb=1024
    )


@pytest.mark.django_db
def test_an_admin_narrows_the_limits_and_the_audit_log_says_so(
    tenant: Tenant, admin: Any, machine: Any
) -> None:
    row = narrow(tenant, admin, internal_networks=["10.20.1.7/24"], max_memory_mb=300)

    assert row.revision == 1
    assert row.internal_networks == ["10.20.1.0/24"]  # as the network, not the address typed
    assert sandbox_limits.effective(tenant) == sandbox_limits.Limits(
        network=True, internal_networks=("10.20.1.0/24",), memory_mb=300
    )
    entry = AuditLog.objects.get(action=AuditAction.SANDBOX_LIMITS)
    assert entry.actor == admin and entry.tenant == tenant
    assert entry.changes == {
        "internal_networks": [None, ["10.20.1.0/24"]],
        "max_memory_mb": [None, 300],
    }
    narrow(tenant, admin)  # the same again: nothing changed, nothing recorded
    assert AuditLog.objects.filter(action=AuditAction.SANDBOX_LIMITS).count() == 1


@pytest.mark.django_db
def test_widening_is_refused_with_every_problem_at_once_and_nothing_saved(
    tenant: Tenant, admin: Any, machine: Any
) -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        narrow(
            tenant,
            admin,
            internal_networks=["10.20.3.0/24", "10.0.0.0/8", "not-a-network", "172.16.0.0/12"],
            max_memory_mb=4096,
        )
    problems = {e.path: e.message for e in refused.value.errors}
    assert set(problems) == {
        "internal_networks[1]",
        "internal_networks[2]",
        "internal_networks[3]",
        "max_memory_mb",
    }
    assert "not inside the internal networks this server allows" in problems["internal_networks[1]"]
    assert "1024 MB" in problems["max_memory_mb"]
    assert not SandboxLimits.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["editor", "operator", "viewer"])
def test_only_an_admin_changes_the_limits(tenant: Tenant, role: str, request: Any) -> None:
    with pytest.raises(PermissionDenied):
        narrow(tenant, request.getfixturevalue(role), network=False)
    assert not SandboxLimits.objects.filter(network=False).exists()


@pytest.mark.django_db
def test_a_change_based_on_an_older_revision_is_refused(
    tenant: Tenant, admin: Any, machine: Any
) -> None:
    narrow(tenant, admin, max_memory_mb=512)
    with pytest.raises(services.StaleLimits):
        services.set_sandbox_limits(
            tenant,
            network=False,
            internal_networks=None,
            max_memory_mb=None,
            revision=0,  # read before the change above
            actor=admin,
        )
    assert services.sandbox_limits_of(tenant).max_memory_mb == 512


@pytest.mark.django_db
def test_when_the_operator_narrows_later_the_tenants_choice_narrows_with_it(
    tenant: Tenant, admin: Any, machine: Any
) -> None:
    narrow(tenant, admin, internal_networks=["10.20.0.0/16", "192.168.5.0/24"], max_memory_mb=900)
    machine.SANDBOX_INTERNAL_NETWORKS = ["10.20.7.0/24"]
    machine.SANDBOX_MAX_MEMORY_MB = 256
    assert sandbox_limits.effective(tenant) == sandbox_limits.Limits(
        network=True, internal_networks=("10.20.7.0/24",), memory_mb=256
    )


@pytest.mark.django_db
def test_one_tenants_limits_are_not_anothers(
    tenant: Tenant, other_tenant: Tenant, admin: Any, machine: Any
) -> None:
    narrow(tenant, admin, network=False, max_memory_mb=64)
    assert sandbox_limits.effective(other_tenant) == sandbox_limits.machine()


# -- where the limits hold -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_version_beyond_the_tenants_limits_stays_a_draft_with_both_reasons(
    tenant: Tenant, admin: Any, machine: Any
) -> None:
    tool = published(tenant, admin, script=DOUBLE, runtime=SCRIPT)
    draft = new_version(
        tool, admin, publish=False, runtime={**SCRIPT, "network": True, "memory_mb": 512}
    )
    narrow(tenant, admin, network=False, max_memory_mb=300)

    refused = api_as(admin).post(f"{API}/tools/{tool.name}/publish", {}, format="json")

    assert refused.status_code == 400
    fields = {f["path"]: f["message"] for f in refused.json()["error"]["fields"]}
    assert "turned off" in fields["runtime.network"]
    assert "300 MB" in fields["runtime.memory_mb"]
    tool.refresh_from_db()
    assert tool.current_version.version == "1.0.0" and tool.head_version == draft


@pytest.mark.django_db
def test_rolling_back_to_a_version_beyond_the_limits_is_refused(
    tenant: Tenant, admin: Any, machine: Any
) -> None:
    tool = published(tenant, admin, script=DOUBLE, runtime={**SCRIPT, "memory_mb": 800})
    new_version(tool, admin, publish=True, runtime=SCRIPT)
    narrow(tenant, admin, max_memory_mb=300)

    response = api_as(admin).post(
        f"{API}/tools/{tool.name}/rollback",
        {"to_version": "1.0.0", "reason": "back"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["path"] == "runtime.memory_mb"


@pytest.mark.django_db
def test_a_network_tool_is_refused_once_its_tenant_turns_the_network_off(
    tenant: Tenant,
    admin: Any,
    operator: Any,
    machine: Any,
    monkeypatch: pytest.MonkeyPatch,
    queued_tasks: list[int],
) -> None:
    monkeypatch.setattr(isolation, "refusal", lambda network: "")  # the machine could run it
    make_tool(tenant, runtime={**SCRIPT, "network": True})
    api = api_as(operator)
    queued = api.post(f"{API}/executions", {"tool": "disk_usage"}, format="json")
    assert queued.status_code in (201, 202), queued.json()
    narrow(tenant, admin, network=False)

    refused = api.post(f"{API}/executions", {"tool": "disk_usage"}, format="json")

    assert refused.status_code == 422
    assert "turned off" in refused.json()["error"]["fields"][0]["message"]
    # The run queued before the change does not run either.
    row = run_execution(queued.json()["id"])
    assert row.status == ExecutionStatus.FAILED and row.error_kind == ErrorKind.REFUSED
    assert Execution.objects.count() == 1


@pytest.mark.django_db
def test_a_run_gets_the_tenants_memory_and_internal_networks_as_they_are_now(
    tenant: Tenant,
    admin: Any,
    operator: Any,
    machine: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_tool(tenant, runtime={**SCRIPT, "memory_mb": 800})
    created = api_as(operator).post(f"{API}/executions", {"tool": "disk_usage"}, format="json")
    narrow(tenant, admin, max_memory_mb=128, internal_networks=["192.168.5.0/25"])
    seen: dict[str, Any] = {}

    def spy(source: str, kwargs: dict[str, Any], **limits: Any) -> sandbox.Result:
        seen.update(limits)
        return sandbox.Result(status="succeeded", value=1)

    monkeypatch.setattr("planner.executor.run_script", spy)
    run_execution(created.json()["id"])
    assert seen["memory_mb"] == 128
    assert seen["internal_networks"] == ("192.168.5.0/25",)


# -- the API -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_member_reads_the_limits_beside_the_machines(
    tenant: Tenant, admin: Any, viewer: Any, machine: Any
) -> None:
    narrow(tenant, admin, max_memory_mb=300)
    body = api_as(viewer).get(URL).json()
    assert body["max_memory_mb"] == 300 and body["revision"] == 1
    assert body["internal_networks"] is None
    assert body["effective"]["memory_mb"] == 300
    assert body["machine"] == {
        "network": True,
        "internal_networks": ["10.20.0.0/16", "192.168.5.0/24"],
        "memory_mb": 1024,
    }


@pytest.mark.django_db
def test_the_api_changes_them_for_admins_only_and_refuses_a_stale_change(
    tenant: Tenant, admin: Any, editor: Any, machine: Any
) -> None:
    change = {"network": False, "internal_networks": [], "max_memory_mb": 200, "revision": 0}
    assert api_as(editor).put(URL, change, format="json").status_code == 403

    done = api_as(admin).put(URL, change, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["effective"] == {"network": False, "internal_networks": [], "memory_mb": 200}

    stale = api_as(admin).patch(URL, {"max_memory_mb": 500, "revision": 0}, format="json")
    assert stale.status_code == 412
    assert "reload" in stale.json()["error"]["message"]
    patched = api_as(admin).patch(URL, {"max_memory_mb": 500, "revision": 1}, format="json")
    assert patched.json()["max_memory_mb"] == 500 and patched.json()["network"] is False


@pytest.mark.django_db
def test_the_api_names_every_bad_field(tenant: Tenant, admin: Any, machine: Any) -> None:
    response = api_as(admin).put(
        URL,
        {
            "network": True,
            "internal_networks": ["10.20.0.0/16", "8.8.8.0/24"],
            "max_memory_mb": 9,
            "revision": 0,
        },
        format="json",
    )
    assert response.status_code == 400
    paths = {f["path"] for f in response.json()["error"]["fields"]}
    assert paths == {"internal_networks[1]", "max_memory_mb"}
    assert api_as(admin).patch(URL, {"network": False}, format="json").status_code == 428


@pytest.mark.django_db
def test_the_etag_read_may_name_the_revision_instead(
    tenant: Tenant, admin: Any, machine: Any
) -> None:
    api = api_as(admin)
    etag = api.get(URL)["ETag"]
    done = api.patch(URL, {"max_memory_mb": 100}, format="json", HTTP_IF_MATCH=etag)
    assert done.status_code == 200 and done["ETag"] != etag
    again = api.patch(URL, {"max_memory_mb": 200}, format="json", HTTP_IF_MATCH=etag)
    assert again.status_code == 412
    assert api.patch(URL, {"network": False}, format="json", HTTP_IF_MATCH='"x"').status_code == 412


@pytest.mark.django_db
def test_another_tenants_admin_cannot_touch_them(
    tenant: Tenant, outsider: Any, machine: Any
) -> None:
    change = {"network": False, "internal_networks": None, "max_memory_mb": None, "revision": 0}
    api_as(outsider).put(URL, change, format="json")  # acts on the outsider's own tenant
    assert services.sandbox_limits_of(tenant).network is True


# -- the page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_admin_narrows_them_on_the_page(
    tenant: Tenant, admin: Any, client: Client, machine: Any
) -> None:
    client.force_login(admin)
    url = reverse("catalog:script_limits")
    page = client.get(url).content.decode()
    assert "Every internal network this server allows (10.20.0.0/16, 192.168.5.0/24)" in page

    response = client.post(
        url,
        {
            "network": "on",
            "internal": "only",
            "internal_networks": "10.20.4.0/24\n",
            "max_memory_mb": "256",
            "reason": "only the lab",
            "revision": "0",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "Saved the script limits" in html
    assert "and the internal networks 10.20.4.0/24" in html
    assert "At most 256 MB for a whole run" in html
    assert AuditLog.objects.get(action=AuditAction.SANDBOX_LIMITS).reason == "only the lab"


@pytest.mark.django_db
def test_the_page_puts_each_problem_next_to_its_field_and_keeps_what_was_typed(
    tenant: Tenant, admin: Any, client: Client, machine: Any
) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("catalog:script_limits"),
        {
            "internal": "only",
            "internal_networks": "10.99.0.0/16",
            "max_memory_mb": "5000",
            "revision": "0",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "10.99.0.0/16 is not inside the internal networks this server allows" in html
    assert "must be between 16 and 1024 MB" in html
    assert "10.99.0.0/16</textarea>" in html
    assert not SandboxLimits.objects.exists()


@pytest.mark.django_db
def test_a_stale_page_is_refused_and_says_to_reload(
    tenant: Tenant, admin: Any, client: Client, machine: Any
) -> None:
    narrow(tenant, admin, max_memory_mb=512)
    client.force_login(admin)
    html = client.post(
        reverse("catalog:script_limits"), {"max_memory_mb": "100", "revision": "0"}
    ).content.decode()
    assert "someone changed these limits since you opened them" in html
    assert services.sandbox_limits_of(tenant).max_memory_mb == 512


@pytest.mark.django_db
def test_other_members_see_the_limits_but_cannot_change_them(
    tenant: Tenant, editor: Any, client: Client, machine: Any
) -> None:
    client.force_login(editor)
    url = reverse("catalog:script_limits")
    page = client.get(url).content.decode()
    assert "At most 1024 MB for a whole run" in page and "Save limits" not in page
    response = client.post(url, {"network": "", "revision": "0"})
    assert response.status_code == 403
    assert services.sandbox_limits_of(tenant).network is True


@pytest.mark.django_db
def test_the_tool_page_says_where_the_tenants_limits_hold_a_script_back(
    tenant: Tenant, admin: Any, client: Client, machine: Any
) -> None:
    tool = published(tenant, admin, script=DOUBLE, runtime={**SCRIPT, "network": True})
    narrow(tenant, admin, network=False, max_memory_mb=128)
    client.force_login(admin)
    html = client.get(reverse("catalog:tool_detail", args=[tool.name])).content.decode()
    assert "256 MB memory (its runs get 128 MB, this tenant&#x27;s limit)" in html
    assert "network access, which this tenant has turned off: it is not run" in html


@pytest.mark.django_db
def test_try_it_says_the_memory_a_run_really_gets(
    tenant: Tenant, admin: Any, client: Client, machine: Any
) -> None:
    tool = published(tenant, admin, script=DOUBLE, runtime=SCRIPT)
    narrow(tenant, admin, max_memory_mb=128)
    client.force_login(admin)
    html = client.get(reverse("planner:try_it", args=[tool.name])).content.decode()
    assert "128 MB of memory" in html and "256 MB of memory" not in html


@pytest.mark.django_db
def test_the_page_names_the_tools_the_limits_hold_back(
    tenant: Tenant, admin: Any, client: Client, machine: Any
) -> None:
    published(tenant, admin, name="big_one", script=DOUBLE, runtime={**SCRIPT, "memory_mb": 512})
    published(tenant, admin, name="small_one", script=DOUBLE, runtime=SCRIPT)
    published(tenant, admin, name="caller", script=DOUBLE, runtime={**SCRIPT, "network": True})
    narrow(tenant, admin, network=False, max_memory_mb=300)
    client.force_login(admin)
    html = client.get(reverse("catalog:script_limits")).content.decode()
    assert "1 tool asks for more memory than this, so its runs get 300 MB: big_one." in html
    assert "1 tool uses the network, so it is not run: caller." in html
