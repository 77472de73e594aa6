"""The tool list: tenant scoping, live search, filters, sorting, pages, bulk actions, export."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.formats.files import Source, parse_text
from catalog.models import AuditAction, AuditLog, Tenant, Tool, ToolStatus
from tests.factories import make_definition

pytestmark = pytest.mark.django_db

LIST = reverse("catalog:tool_list")
BULK = reverse("catalog:tool_bulk")
EXPORT = reverse("catalog:tool_export")
HTMX = {"HTTP_HX_REQUEST": "true"}


def add_tool(tenant: Tenant, name: str, **fields: Any) -> Tool:
    return services.create_tool(
        tenant, definition=make_definition(name=name, **fields), actor=None, publish=True
    )


def add_many(tenant: Tenant, count: int, prefix: str = "tool") -> None:
    sources = [
        Source(f"{prefix}_{i:03d}.yaml", None, make_definition(name=f"{prefix}_{i:03d}"))
        for i in range(count)
    ]
    services.import_definitions(tenant, sources, actor=None)


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def names_in(response: Any) -> list[str]:
    """Tool names in the table rows, in order."""
    return re.findall(r'name="name" value="([a-z0-9_-]+)"', response.content.decode())


def text_of(response: Any) -> str:
    """The page with runs of white space made single spaces."""
    return " ".join(response.content.decode().split())


def download(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def catalog(tenant: Tenant, other_tenant: Tenant) -> None:
    add_tool(tenant, "disk_usage", platform="linux", category="monitoring", tags=["storage"])
    add_tool(
        tenant,
        "ping_host",
        description="Check that a host answers.",
        platform="network",
        category="network",
        tags=["latency"],
    )
    add_tool(
        tenant,
        "event_log",
        description="Read the Windows event log.",
        platform="windows",
        category="logging",
        tags=["audit"],
        status="testing",
    )
    add_tool(other_tenant, "secret_tool", description="Globex only.")


# -- the page -------------------------------------------------------------------------------


def test_anonymous_user_is_sent_to_login(client: Client) -> None:
    for url in (LIST, EXPORT):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]
    assert client.post(BULK, {"action": "disable", "name": ["x"]}).status_code == 302


def test_list_shows_only_own_tenant_tools(client: Client, viewer: Any, catalog: None) -> None:
    response = signed_in(client, viewer).get(LIST)
    assert response.status_code == 200
    assert names_in(response) == ["disk_usage", "event_log", "ping_host"]
    assert "secret_tool" not in response.content.decode()
    assert "3 tools" in response.content.decode()


def test_live_search_returns_rows_fragment(client: Client, viewer: Any, catalog: None) -> None:
    response = signed_in(client, viewer).get(LIST, {"q": "PING"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="tool-rows">')
    assert "<html" not in body and 'id="tool-filters"' not in body
    assert names_in(response) == ["ping_host"]
    assert "HX-Request" in response["Vary"]


def test_live_search_puts_only_the_filters_in_use_in_the_address_bar(
    client: Client, viewer: Any, catalog: None
) -> None:
    params = {"q": "host", "platform": "", "tag": "", "archived": "hide", "page": "1"}
    response = signed_in(client, viewer).get(LIST, params, **HTMX)
    assert response["HX-Push-Url"] == f"{LIST}?q=host"


def test_full_page_has_a_live_search_box_that_also_works_without_scripts(
    client: Client, viewer: Any, catalog: None
) -> None:
    body = signed_in(client, viewer).get(LIST).content.decode()
    start = body.index('<form id="tool-filters"')
    form = body[start : body.index("</form>", start)]
    assert 'method="get"' in form and f'action="{LIST}"' in form
    assert 'hx-trigger="input changed delay:300ms, search"' in form
    assert 'hx-push-url="true"' in form and 'hx-target="#tool-rows"' in form


def test_search_matches_description_words_and_exact_tags(
    client: Client, viewer: Any, catalog: None
) -> None:
    signed_in(client, viewer)
    assert names_in(client.get(LIST, {"q": "windows event"})) == ["event_log"]
    assert names_in(client.get(LIST, {"q": "latency"})) == ["ping_host"]
    assert names_in(client.get(LIST, {"q": "nothing like this"})) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"platform": "network"}, ["ping_host"]),
        ({"category": "logging"}, ["event_log"]),
        ({"status": "testing"}, ["event_log"]),
        ({"tag": "storage"}, ["disk_usage"]),
        ({"tag": "Storage"}, ["disk_usage"]),
        ({"enabled": "no"}, ["disk_usage"]),
        ({"enabled": "yes"}, ["event_log", "ping_host"]),
        ({"platform": "linux", "tag": "latency"}, []),
    ],
)
def test_each_filter_narrows_the_list(
    client: Client, viewer: Any, catalog: None, tenant: Tenant, params: dict, expected: list
) -> None:
    services.disable_tool(Tool.objects.get(tenant=tenant, name="disk_usage"), actor=None)
    assert names_in(signed_in(client, viewer).get(LIST, params)) == expected


def test_the_page_reads_true_as_yes_and_shows_it_chosen(
    client: Client, viewer: Any, catalog: None, tenant: Tenant
) -> None:
    services.disable_tool(Tool.objects.get(tenant=tenant, name="disk_usage"), actor=None)
    response = signed_in(client, viewer).get(LIST, {"enabled": "TRUE"})
    assert names_in(response) == ["event_log", "ping_host"]
    assert '<option value="yes" selected>' in response.content.decode()


def test_category_choices_are_the_tenants_own(client: Client, viewer: Any, catalog: None) -> None:
    body = signed_in(client, viewer).get(LIST).content.decode()
    select = body[body.index('id="filter-category"') : body.index('id="filter-status"')]
    assert re.findall(r'<option value="([a-z]+)"', select) == ["logging", "monitoring", "network"]


def test_unknown_filter_values_are_ignored(client: Client, viewer: Any, catalog: None) -> None:
    response = signed_in(client, viewer).get(LIST, {"platform": "mainframe", "page": "x"})
    assert response.status_code == 200
    assert len(names_in(response)) == 3


def test_archived_tools_are_hidden_unless_asked_for(
    client: Client, viewer: Any, catalog: None, tenant: Tenant
) -> None:
    services.archive_tool(Tool.objects.get(tenant=tenant, name="ping_host"), actor=None)
    signed_in(client, viewer)
    assert names_in(client.get(LIST)) == ["disk_usage", "event_log"]
    assert names_in(client.get(LIST, {"archived": "only"})) == ["ping_host"]
    assert len(names_in(client.get(LIST, {"archived": "include"}))) == 3


def test_sorting_by_a_column_marks_its_header(client: Client, viewer: Any, catalog: None) -> None:
    signed_in(client, viewer)
    response = client.get(LIST, {"ordering": "-name"})
    assert names_in(response) == ["ping_host", "event_log", "disk_usage"]
    assert re.search(r'<th aria-sort="descending" class="col-name">', response.content.decode())
    by_platform = client.get(LIST, {"ordering": "platform"})
    assert names_in(by_platform) == ["disk_usage", "ping_host", "event_log"]
    assert 'aria-sort="ascending" class="col-platform' in by_platform.content.decode()


def test_pages_hold_fifty_tools_and_keep_the_filters(
    client: Client, viewer: Any, tenant: Tenant
) -> None:
    add_many(tenant, 55)
    signed_in(client, viewer)
    first = client.get(LIST, {"q": "tool_"})
    assert len(names_in(first)) == 50
    assert "55 tools" in first.content.decode()
    assert 'href="?q=tool_&page=2"' in first.content.decode()
    second = client.get(LIST, {"q": "tool_", "page": 2})
    assert names_in(second) == [f"tool_{i:03d}" for i in range(50, 55)]
    assert names_in(client.get(LIST, {"page": 99})) == names_in(second)


def test_empty_result_offers_to_clear_the_filters(
    client: Client, viewer: Any, catalog: None
) -> None:
    body = signed_in(client, viewer).get(LIST, {"q": "zzz"}, **HTMX).content.decode()
    assert "No tools match these filters" in body
    assert f'href="{LIST}">Clear filters' in body


def test_new_tool_button_is_shown_to_editors_only(
    client: Client, viewer: Any, editor: Any, catalog: None
) -> None:
    create = reverse("catalog:tool_create")
    assert create not in signed_in(client, viewer).get(LIST).content.decode()
    assert create in signed_in(client, editor).get(LIST).content.decode()


def test_bulk_actions_offered_follow_the_role(
    client: Client, viewer: Any, operator: Any, catalog: None
) -> None:
    def offered(user: Any) -> list[str]:
        body = signed_in(client, user).get(LIST).content.decode()
        select = body[body.index('id="bulk-action"') : body.index("</select>", body.index("bulk"))]
        return re.findall(r'<option value="([a-z-]+)"', select)

    assert offered(viewer) == ["export-yaml", "export-json"]
    assert offered(operator) == ["enable", "disable", "export-yaml", "export-json"]


# -- bulk actions -----------------------------------------------------------------------------


def test_viewer_cannot_bulk_disable(
    client: Client, viewer: Any, catalog: None, tenant: Tenant
) -> None:
    signed_in(client, viewer)
    for confirm in ("", "1"):
        response = client.post(
            BULK, {"action": "disable", "name": ["disk_usage"], "confirm": confirm}
        )
        assert response.status_code == 403
    assert Tool.objects.get(tenant=tenant, name="disk_usage").enabled


def test_operator_cannot_bulk_deprecate(
    client: Client, operator: Any, catalog: None, tenant: Tenant
) -> None:
    response = signed_in(client, operator).post(
        BULK, {"action": "deprecate", "name": ["disk_usage"], "confirm": "1"}
    )
    assert response.status_code == 403
    assert Tool.objects.get(tenant=tenant, name="disk_usage").status == ToolStatus.ACTIVE


def test_bulk_disable_asks_for_confirmation_first(
    client: Client, operator: Any, catalog: None, tenant: Tenant
) -> None:
    response = signed_in(client, operator).post(
        BULK, {"action": "disable", "name": ["disk_usage", "ping_host"], "back": "q=d"}
    )
    body = text_of(response)
    assert response.status_code == 200
    assert "Disable 2 tools: <strong>disk_usage</strong>, <strong>ping_host</strong>." in body
    assert "Agents will stop seeing them" in body
    assert 'name="reason"' in body and 'name="confirm" value="1"' in body
    assert Tool.objects.for_tenant(tenant).filter(enabled=False).count() == 0
    assert not AuditLog.objects.filter(action=AuditAction.DISABLE).exists()


def test_bulk_disable_writes_audit_rows(
    client: Client, operator: Any, catalog: None, tenant: Tenant
) -> None:
    response = signed_in(client, operator).post(
        BULK,
        {
            "action": "disable",
            "name": ["disk_usage", "ping_host"],
            "reason": "replaced by v2",
            "confirm": "1",
            "back": "q=d&page=1",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?q=d&page=1"
    disabled = Tool.objects.for_tenant(tenant).filter(enabled=False)
    assert sorted(disabled.values_list("name", flat=True)) == ["disk_usage", "ping_host"]
    entries = AuditLog.objects.filter(tenant=tenant, action=AuditAction.DISABLE)
    assert sorted(e.object_repr for e in entries) == ["disk_usage", "ping_host"]
    assert {(e.actor, e.reason) for e in entries} == {(operator, "replaced by v2")}
    page = client.get(response["Location"]).content.decode()
    assert "2 tools disabled." in page


def test_bulk_says_which_tools_were_already_in_that_state(
    client: Client, editor: Any, catalog: None, tenant: Tenant
) -> None:
    services.deprecate_tool(Tool.objects.get(tenant=tenant, name="ping_host"), actor=None)
    signed_in(client, editor)
    names = ["disk_usage", "event_log", "ping_host"]
    confirm = text_of(client.post(BULK, {"action": "deprecate", "name": names}))
    assert "Deprecate 2 tools" in confirm
    assert "1 is already deprecated" in confirm
    response = client.post(
        BULK, {"action": "deprecate", "name": names, "confirm": "1"}, follow=True
    )
    assert "2 tools deprecated, 1 was already deprecated." in response.content.decode()
    statuses = set(Tool.objects.for_tenant(tenant).values_list("status", flat=True))
    assert statuses == {ToolStatus.DEPRECATED}
    assert AuditLog.objects.filter(action=AuditAction.STATUS).count() == 3  # 1 + 2


def test_bulk_enable_turns_disabled_tools_back_on(
    client: Client, operator: Any, catalog: None, tenant: Tenant
) -> None:
    services.disable_tool(Tool.objects.get(tenant=tenant, name="disk_usage"), actor=None)
    signed_in(client, operator).post(
        BULK, {"action": "enable", "name": ["disk_usage"], "confirm": "1"}
    )
    assert Tool.objects.get(tenant=tenant, name="disk_usage").enabled


def test_other_tenant_tool_names_are_ignored_by_bulk(
    client: Client, operator: Any, catalog: None, other_tenant: Tenant
) -> None:
    signed_in(client, operator)
    confirm = client.post(BULK, {"action": "disable", "name": ["secret_tool", "ping_host"]})
    assert "Disable 1 tool: <strong>ping_host</strong>." in text_of(confirm)
    client.post(BULK, {"action": "disable", "name": ["secret_tool", "ping_host"], "confirm": "1"})
    assert Tool.objects.get(tenant=other_tenant, name="secret_tool").enabled
    only_theirs = client.post(BULK, {"action": "disable", "name": ["secret_tool"], "confirm": "1"})
    assert only_theirs.status_code == 302
    assert Tool.objects.get(tenant=other_tenant, name="secret_tool").enabled
    assert not AuditLog.objects.filter(tenant=other_tenant, action=AuditAction.DISABLE).exists()


def test_bulk_without_a_selection_explains_what_is_missing(
    client: Client, operator: Any, catalog: None
) -> None:
    response = signed_in(client, operator).post(BULK, {"action": "disable"}, follow=True)
    assert "Select at least one tool first." in response.content.decode()


def test_bulk_refuses_more_than_500_tools_at_once(
    client: Client, operator: Any, catalog: None
) -> None:
    names = [f"tool_{i}" for i in range(501)]
    response = signed_in(client, operator).post(
        BULK, {"action": "disable", "name": names, "confirm": "1"}, follow=True
    )
    assert "at most 500 tools" in response.content.decode()


def test_too_long_reason_is_shown_at_the_field_and_nothing_changes(
    client: Client, operator: Any, catalog: None, tenant: Tenant
) -> None:
    response = signed_in(client, operator).post(
        BULK, {"action": "disable", "name": ["disk_usage"], "reason": "x" * 1001, "confirm": "1"}
    )
    assert response.status_code == 200
    assert 'id="bulk-reason-errors"' in response.content.decode()
    assert Tool.objects.get(tenant=tenant, name="disk_usage").enabled


def test_bulk_export_of_a_selection_downloads_without_confirmation(
    client: Client, viewer: Any, catalog: None
) -> None:
    response = signed_in(client, viewer).post(
        BULK, {"action": "export-yaml", "name": ["ping_host", "secret_tool"]}
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    read = parse_text(download(response), "export.yaml")
    assert [s.data["name"] for s in read.sources] == ["ping_host"]


# -- export -----------------------------------------------------------------------------------


def test_export_yaml_round_trips(client: Client, viewer: Any, catalog: None) -> None:
    response = signed_in(client, viewer).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    assert re.search(
        r'attachment; filename="quiver-acme-\d{4}-\d{2}-\d{2}\.yaml"',
        response["Content-Disposition"],
    )
    read = parse_text(download(response), "export.yaml")
    assert not read.problems
    assert [s.data["name"] for s in read.sources] == ["disk_usage", "event_log", "ping_host"]
    assert read.sources[2].data["description"] == "Check that a host answers."


def test_export_json_round_trips(client: Client, viewer: Any, catalog: None) -> None:
    response = signed_in(client, viewer).get(EXPORT, {"format": "json"})
    text = download(response)
    assert response["Content-Disposition"].endswith('.json"')
    assert [d["name"] for d in json.loads(text)] == ["disk_usage", "event_log", "ping_host"]
    read = parse_text(text, "export.json")
    assert not read.problems and len(read.sources) == 3


def test_export_of_a_selection_holds_only_those_tools(
    client: Client, viewer: Any, catalog: None
) -> None:
    response = signed_in(client, viewer).get(
        EXPORT, {"name": ["ping_host", "event_log", "secret_tool"]}
    )
    names = [s.data["name"] for s in parse_text(download(response), "x.yaml").sources]
    assert names == ["event_log", "ping_host"]


def test_export_follows_the_current_filters(client: Client, viewer: Any, catalog: None) -> None:
    response = signed_in(client, viewer).get(EXPORT, {"platform": "windows", "format": "json"})
    assert [d["name"] for d in json.loads(download(response))] == ["event_log"]


def test_export_link_on_the_page_carries_the_filters(
    client: Client, viewer: Any, catalog: None
) -> None:
    body = signed_in(client, viewer).get(LIST, {"platform": "linux"}, **HTMX).content.decode()
    assert f'href="{EXPORT}?platform=linux&amp;format=json"' in body


def test_export_with_a_bad_name_is_refused(client: Client, viewer: Any) -> None:
    assert signed_in(client, viewer).get(EXPORT, {"name": "Not A Name"}).status_code == 400


def test_bulk_deprecate_of_another_editors_tool_changes_nothing_and_says_why(
    client: Client, editor: Any, admin: Any, catalog: None, tenant: Tenant
) -> None:
    theirs = Tool.objects.get(tenant=tenant, name="ping_host")
    theirs.owners.set([admin])
    response = signed_in(client, editor).post(
        BULK,
        {"action": "deprecate", "name": ["disk_usage", "ping_host"], "confirm": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Nothing was changed: Only its owners (admin-acme)" in response.content.decode()
    assert not Tool.objects.for_tenant(tenant).filter(status="deprecated").exists()
