"""The dashboard: counts, recent changes, tools that need attention, and the empty state;
and the warnings behind it, checked the same in Python and in SQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog import services
from catalog.display import tool_health
from catalog.models import Tenant, Tool, ToolStatus, ToolVersion
from catalog.selectors import definition_of, with_content
from tests.factories import make_definition

pytestmark = pytest.mark.django_db

DASHBOARD = "/"


def make(tenant: Tenant, actor: Any, name: str, publish: bool = True, **overrides: Any) -> Tool:
    return services.create_tool(
        tenant, definition=make_definition(name=name, **overrides), actor=actor, publish=publish
    )


def pattern(**overrides: Any) -> dict[str, Any]:
    base = make_definition()["capabilities"][0]["patterns"][0]
    return {**base, **overrides}


def capabilities(**pattern_overrides: Any) -> list[dict[str, Any]]:
    cap = make_definition()["capabilities"][0]
    return [{**cap, "patterns": [pattern(**pattern_overrides)]}]


@pytest.fixture
def troubled(tenant: Tenant, editor: Any, admin: Any) -> dict[str, Tool]:
    """One tool for each warning, and one without any."""
    bare_schema = {"type": "object", "properties": {"path": {"type": "string"}}}
    tools = {
        "fine": make(tenant, editor, "fine"),
        "undescribed_parameters": make(
            tenant,
            editor,
            "bare_inputs",
            input_schema=bare_schema,
            script="def main(path=''): pass\n",
        ),
        "no_capabilities": make(tenant, editor, "no_caps", capabilities=[]),
        "missing_estimates": make(
            tenant, editor, "no_estimate", capabilities=capabilities(cost_estimate="")
        ),
        "network_script": make(  # the network is an admin's decision
            tenant,
            admin,
            "net_script",
            runtime={"kind": "script", "timeout_s": 30, "memory_mb": 256, "network": True},
        ),
        "unsafe_without_approval": make(
            tenant,
            editor,
            "risky",
            capabilities=capabilities(policy={"production_safe": False}),
        ),
        "short_description": make(tenant, editor, "terse", description="Disk."),
        "unpublished": make(tenant, editor, "never", publish=False),
        "deprecated_enabled": make(tenant, editor, "old_one"),
        "stale_draft": make(tenant, editor, "slow_draft"),
    }
    services.deprecate_tool(tools["deprecated_enabled"], actor=editor)
    slow = tools["stale_draft"]
    base = with_content(ToolVersion.objects.filter(pk=slow.head_version_id)).get()
    definition = definition_of(base)
    definition.pop("version")
    definition["description"] += " More detail."
    draft = services.edit_tool(slow, definition=definition, base_version=base, actor=editor)
    ToolVersion.objects.filter(pk=draft.pk).update(created_at=timezone.now() - timedelta(days=10))
    return tools


def loaded(tool: Tool) -> ToolVersion:
    tool = Tool.objects.select_related("current_version", "head_version").get(pk=tool.pk)
    version = tool.current_version or tool.head_version
    version = with_content(ToolVersion.objects.filter(pk=version.pk)).get()
    version.tool = tool
    return version


def test_each_warning_is_found_in_python_and_in_sql_alike(
    tenant: Tenant, troubled: dict[str, Tool]
) -> None:
    for expected, tool in troubled.items():
        codes = {w.code for w in tool_health.tool_warnings(loaded(tool))}
        flagged = {
            code
            for code in tool_health.SEVERITY
            if tool_health.warnings_query(tenant, code).filter(pk=tool.pk).exists()
        }
        assert codes == flagged, tool.name
        if expected == "fine":
            assert codes == set()
        elif expected == "unpublished":
            assert "unpublished" in codes
        else:
            assert codes == {expected}, tool.name


def test_parameters_without_description_are_named(
    tenant: Tenant, troubled: dict[str, Tool]
) -> None:
    messages = [
        w.message for w in tool_health.tool_warnings(loaded(troubled["undescribed_parameters"]))
    ]
    assert messages == ["Inputs without a description: path"]


def test_needing_attention_counts_all_and_ranks_risky_tools_first(
    tenant: Tenant, troubled: dict[str, Tool]
) -> None:
    attention = tool_health.needing_attention(tenant, limit=3)
    assert attention.total == len(troubled) - 1
    assert len(attention.tools) == 3
    assert {t.name for t, _ in attention.tools[:2]} == {"net_script", "risky"}
    assert all(warnings for _, warnings in attention.tools)


def test_dashboard_counts_tools_by_platform_category_and_status(
    client: Client, viewer: Any, tenant: Tenant, editor: Any
) -> None:
    make(tenant, editor, "one")
    make(tenant, editor, "two", platform="windows", category="security")
    three = make(tenant, editor, "three", platform="windows", category="security")
    services.deprecate_tool(three, actor=editor)
    archived = make(tenant, editor, "gone")
    services.archive_tool(archived, actor=editor)
    make(tenant, editor, "draft_only", publish=False)
    counts = tool_health.catalog_counts(tenant)
    assert (counts.tools, counts.enabled, counts.drafts, counts.archived) == (4, 4, 1, 1)
    assert counts.by_platform == {"linux": 2, "windows": 2}
    assert counts.by_category == {"monitoring": 2, "security": 2}
    assert counts.by_status == {ToolStatus.ACTIVE: 3, ToolStatus.DEPRECATED: 1}

    client.force_login(viewer)
    html = client.get(DASHBOARD).content.decode()
    assert '<span class="value">4</span><span class="label">tools</span>' in html
    assert "?platform=windows" in html
    assert '<rect class="bar" x="0" y="0" width="100.0" height="14">' in html
    assert "Deprecated" in html


def test_dashboard_lists_tools_that_need_attention(
    client: Client, viewer: Any, troubled: dict[str, Tool]
) -> None:
    client.force_login(viewer)
    html = client.get(DASHBOARD).content.decode()
    assert "Tools that need attention" in html
    assert "Its script may use the network" in html
    assert "Draft 1.0.1 has been waiting 10 days to be published." in html
    assert "Inputs without a description: path" in html
    assert reverse("catalog:tool_detail", args=["net_script"]) in html


def test_dashboard_shows_recent_tools_and_audit_entries(
    client: Client, viewer: Any, tenant: Tenant, editor: Any
) -> None:
    tool = make(tenant, editor, "recent_one")
    services.disable_tool(tool, actor=editor, reason="too noisy")
    client.force_login(viewer)
    html = client.get(DASHBOARD).content.decode()
    assert "Recently changed" in html
    assert "recent_one" in html
    assert "too noisy" in html
    assert "Disabled" in html


def test_dashboard_does_not_count_other_tenants_tools(
    client: Client, viewer: Any, tenant: Tenant, other_tenant: Tenant, outsider: Any
) -> None:
    make(other_tenant, outsider, "secret_tool")
    client.force_login(viewer)
    html = client.get(DASHBOARD).content.decode()
    assert "secret_tool" not in html
    assert "No tools yet" in html


def test_empty_tenant_offers_editor_to_create_or_import(
    client: Client, editor: Any, tenant: Tenant
) -> None:
    client.force_login(editor)
    html = client.get(DASHBOARD).content.decode()
    assert "No tools yet" in html
    assert reverse("catalog:tool_create") in html
    assert reverse("catalog:import_upload") in html


def test_empty_tenant_tells_viewer_who_can_add_tools(
    client: Client, viewer: Any, tenant: Tenant
) -> None:
    client.force_login(viewer)
    html = client.get(DASHBOARD).content.decode()
    assert "An editor of Acme can create or import them" in html
    assert reverse("catalog:tool_create") not in html


def test_dashboard_needs_sign_in(client: Client) -> None:
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_dashboard_queries_are_bounded(
    client: Client,
    viewer: Any,
    troubled: dict[str, Tool],
    django_assert_max_num_queries: Any,
) -> None:
    client.force_login(viewer)
    with django_assert_max_num_queries(12):
        assert client.get(DASHBOARD).status_code == 200


def test_attention_is_counted_again_after_a_tool_changes(
    tenant: Tenant, editor: Any, troubled: dict[str, Tool]
) -> None:
    before = tool_health.needing_attention(tenant)
    services.set_tool_status(troubled["deprecated_enabled"], status=ToolStatus.ACTIVE, actor=editor)
    after = tool_health.needing_attention(tenant)
    assert after.total == before.total - 1
    assert after.by_code["deprecated_enabled"] == 0
