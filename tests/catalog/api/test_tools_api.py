"""/api/v1/tools: listing, reading, creating, editing, publishing, rolling back, state
changes, versions and validation, with their error paths. Stale edits and ETags are in
test_etag.py; who may do what in test_permission_matrix.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from catalog import services
from catalog.models import AuditLog, Tenant, Tool, ToolStatus, ToolVersion
from tests.catalog.api.probe import bearer, make_key
from tests.catalog.api.resources import (
    api_as,
    error_of,
    head_definition,
    new_version,
    no_throttling,  # noqa: F401  (autouse fixture)
    published,
    tool_url,
    with_history,
)
from tests.factories import MembershipFactory, UserFactory, make_definition

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_editor(tenant: Tenant) -> Any:
    """An editor of the same tenant who owns nothing."""
    user = UserFactory(username="editor2-acme")
    MembershipFactory(user=user, tenant=tenant, role="editor")
    return user


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def counts() -> tuple[int, int, int]:
    return Tool.objects.count(), ToolVersion.objects.count(), AuditLog.objects.count()


# -- list ---------------------------------------------------------------------------------


@pytest.fixture
def catalog(tenant: Tenant, other_tenant: Tenant) -> None:
    published(tenant, None, "disk_usage", tags=["storage"])
    published(tenant, None, "ping", platform="network", category="network", tags=["icmp"])
    published(
        tenant, None, "win_events", platform="windows", description="Read event logs.", tags=[]
    )
    old = published(tenant, None, "old_tool", description="Superseded by disk_usage.", tags=[])
    services.archive_tool(old, actor=None)
    off = published(tenant, None, "flaky_probe", tags=[])
    services.disable_tool(off, actor=None)
    services.deprecate_tool(off, actor=None)
    published(other_tenant, None, "globex_only")


def test_list_pages_the_tenants_live_tools_with_a_total(catalog: None, viewer: Any) -> None:
    response = api_as(viewer).get(tool_url(), {"page_size": 2})
    body = response.json()
    assert body["count"] == 4
    assert [row["name"] for row in body["results"]] == ["disk_usage", "flaky_probe"]
    assert body["previous"] is None
    assert "page=2" in body["next"]
    assert names(api_as(viewer).get(body["next"])) == ["ping", "win_events"]


def test_list_rows_carry_the_summary_fields(catalog: None, viewer: Any) -> None:
    (row,) = api_as(viewer).get(tool_url(), {"q": "ping"}).json()["results"]
    assert row == {
        "name": "ping",
        "description": row["description"],
        "platform": "network",
        "category": "network",
        "status": "active",
        "enabled": True,
        "archived": False,
        "version": "1.0.0",
        "tags": ["icmp"],
        "updated_at": row["updated_at"],
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"platform": "windows"}, ["win_events"]),
        ({"category": "network"}, ["ping"]),
        ({"status": "deprecated"}, ["flaky_probe"]),
        ({"enabled": "no"}, ["flaky_probe"]),
        ({"tag": "storage"}, ["disk_usage"]),
        ({"q": "event logs"}, ["win_events"]),
        ({"q": "icmp"}, ["ping"]),
        ({"archived": "only"}, ["old_tool"]),
        ({"q": "disk_usage", "archived": "include"}, ["disk_usage", "old_tool"]),
        ({"ordering": "-name"}, ["win_events", "ping", "flaky_probe", "disk_usage"]),
        ({"ordering": "-platform", "enabled": "yes"}, ["win_events", "ping", "disk_usage"]),
    ],
)
def test_list_filters_search_and_sorts_like_the_page(
    catalog: None, viewer: Any, query: dict[str, str], expected: list[str]
) -> None:
    assert names(api_as(viewer).get(tool_url(), query)) == expected


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"platform": "solaris"}, "platform"),
        ({"category": "no-such-category"}, "category"),
        ({"ordering": "secret_field"}, "ordering"),
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"page": "99"}, "page"),
        ({"page_size": "1000"}, "page_size"),
    ],
)
def test_list_refuses_bad_query_values_by_name(
    catalog: None, viewer: Any, query: dict[str, str], path: str
) -> None:
    response = api_as(viewer).get(tool_url(), query)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert [f["path"] for f in error["fields"]] == [path]


@pytest.mark.parametrize("spelling", ["yes", "YES", "true", "True", "1", "on", "On"])
def test_enabled_filter_takes_the_usual_spellings_of_yes(
    catalog: None, viewer: Any, spelling: str
) -> None:
    found = names(api_as(viewer).get(tool_url(), {"enabled": spelling}))
    assert found == ["disk_usage", "ping", "win_events"]


@pytest.mark.parametrize("spelling", ["no", "No", "false", "FALSE", "0", "off"])
def test_enabled_filter_takes_the_usual_spellings_of_no(
    catalog: None, viewer: Any, spelling: str
) -> None:
    assert names(api_as(viewer).get(tool_url(), {"enabled": spelling})) == ["flaky_probe"]


@pytest.mark.parametrize(("spelling", "expected"), [("true", ["old_tool"]), ("0", [])])
def test_archived_filter_takes_yes_and_no_as_only_and_hide(
    catalog: None, viewer: Any, spelling: str, expected: list[str]
) -> None:
    query = {"q": "old_tool", "archived": spelling}
    assert names(api_as(viewer).get(tool_url(), query)) == expected


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"enabled": "maybe"}, ["yes or no", "true", "false", "1", "0", "on", "off"]),
        ({"archived": "sometimes"}, ["hide, only or include", "true means only"]),
    ],
)
def test_a_refused_yes_no_value_says_what_is_valid(
    catalog: None, viewer: Any, query: dict[str, str], words: list[str]
) -> None:
    response = api_as(viewer).get(tool_url(), query)
    assert response.status_code == 400
    [field] = error_of(response)["fields"]
    assert field["path"] == next(iter(query))
    for word in words:
        assert word in field["message"], field["message"]


def test_category_filter_still_works_after_the_schema_was_built(catalog: None, viewer: Any) -> None:
    """Building the OpenAPI schema makes the class's filters build their form fields;
    the category choices (the tenant's own) must not be frozen by it."""
    from drf_spectacular.generators import SchemaGenerator

    SchemaGenerator().get_schema(request=None, public=True)
    assert names(api_as(viewer).get(tool_url(), {"category": "network"})) == ["ping"]


def test_list_never_shows_another_tenants_tools(catalog: None, outsider: Any) -> None:
    assert names(api_as(outsider).get(tool_url())) == ["globex_only"]


def test_list_needs_a_caller(catalog: None) -> None:
    response = api_as(None).get(tool_url())
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_list_queries_are_bounded(
    catalog: None, viewer: Any, django_assert_max_num_queries: Any
) -> None:
    client = api_as(viewer)
    with django_assert_max_num_queries(10):
        client.get(tool_url())


# -- get ----------------------------------------------------------------------------------


def test_get_returns_tool_fields_current_definition_and_draft(tenant: Tenant, editor: Any) -> None:
    tool = with_history(tenant, editor)
    response = api_as(editor).get(tool_url(tool.name))
    assert response.status_code == 200
    body = response.json()
    assert (body["current_version"], body["head_version"]) == ("1.0.1", "1.0.2")
    assert body["owners"] == ["editor-acme"]
    assert body["definition"]["version"] == "1.0.1"
    assert body["definition"]["description"] == "The second published version."
    assert body["definition"]["owners"] == ["editor-acme"]
    assert body["draft"]["version"] == "1.0.2"
    assert body["draft"]["definition"]["description"] == "A draft after the second version."
    assert "owners" not in body["draft"]["definition"]
    assert response["ETag"] == body["etag"]


def test_get_of_a_tool_never_published_has_only_its_draft(tenant: Tenant, editor: Any) -> None:
    services.create_tool(tenant, definition=make_definition(), actor=editor)
    body = api_as(editor).get(tool_url("disk_usage")).json()
    assert (body["current_version"], body["definition"]) == (None, None)
    assert body["draft"]["version"] == "1.0.0"


@pytest.mark.parametrize("name", ["no_such_tool", "Bad Name"])
def test_get_of_an_unknown_tool_is_404(tenant: Tenant, viewer: Any, name: str) -> None:
    response = api_as(viewer).get(tool_url(name))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_get_of_another_tenants_tool_is_404(tenant: Tenant, editor: Any, outsider: Any) -> None:
    published(tenant, editor)
    assert api_as(outsider).get(tool_url("disk_usage")).status_code == 404


def test_get_queries_are_bounded(
    tenant: Tenant, editor: Any, django_assert_max_num_queries: Any
) -> None:
    with_history(tenant, editor)
    client = api_as(editor)
    with django_assert_max_num_queries(12):
        client.get(tool_url("disk_usage"))


# -- versions -----------------------------------------------------------------------------


def test_versions_lists_newest_first_with_their_states(tenant: Tenant, viewer: Any) -> None:
    with_history(tenant, None)
    body = api_as(viewer).get(tool_url("disk_usage", "versions")).json()
    assert body["count"] == 3
    keys = ("version", "state", "parent", "is_current", "is_head")
    rows = [tuple(r[k] for k in keys) for r in body["results"]]
    assert rows == [
        ("1.0.2", "draft", "1.0.1", False, True),
        ("1.0.1", "published", "1.0.0", True, False),
        ("1.0.0", "published", None, False, False),
    ]
    assert body["results"][2]["created_by"] is None  # the system made it


def test_one_version_carries_its_definition(tenant: Tenant, viewer: Any) -> None:
    with_history(tenant, None)
    body = api_as(viewer).get(tool_url("disk_usage", "versions/1.0.0")).json()
    assert body["version"] == "1.0.0"
    assert body["definition"]["description"] == make_definition()["description"]
    assert body["definition"]["capabilities"][0]["name"] == "disk_capacity_check"


def test_an_unknown_version_is_404(tenant: Tenant, viewer: Any) -> None:
    published(tenant, None)
    response = api_as(viewer).get(tool_url("disk_usage", "versions/9.9.9"))
    assert response.status_code == 404


def test_versions_of_another_tenants_tool_are_404(tenant: Tenant, outsider: Any) -> None:
    published(tenant, None)
    client = api_as(outsider)
    assert client.get(tool_url("disk_usage", "versions")).status_code == 404
    assert client.get(tool_url("disk_usage", "versions/1.0.0")).status_code == 404


# -- create -------------------------------------------------------------------------------


def test_create_makes_a_draft_owned_by_its_creator(tenant: Tenant, editor: Any) -> None:
    response = api_as(editor).post(
        tool_url(),
        {"definition": make_definition(), "reason": "new tool"},
        format="json",
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["current_version"], body["head_version"]) == (None, "1.0.0")
    assert body["owners"] == ["editor-acme"]
    assert response["Location"] == tool_url("disk_usage")
    assert response["ETag"] == body["etag"]
    entry = AuditLog.objects.get(action="create")
    assert (entry.actor, entry.reason, entry.ip) == (editor, "new tool", "10.9.8.7")


@pytest.mark.parametrize("how", ["body", "query"])
def test_create_can_publish_at_once(tenant: Tenant, editor: Any, how: str) -> None:
    body: dict[str, Any] = {"definition": make_definition()}
    url = tool_url()
    if how == "body":
        body["publish"] = True
    else:
        url += "?publish=1"
    response = api_as(editor).post(url, body, format="json")
    assert response.status_code == 201
    assert response.json()["current_version"] == "1.0.0"


def test_create_reports_every_definition_problem_by_path(tenant: Tenant, editor: Any) -> None:
    definition = make_definition(platform="solaris", description="")
    response = api_as(editor).post(tool_url(), {"definition": definition}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_definition"
    paths = {f["path"] for f in error["fields"]}
    assert {"platform", "description"} <= paths
    assert counts() == (0, 0, 0)


def test_create_refuses_a_taken_name(tenant: Tenant, editor: Any) -> None:
    published(tenant, editor)
    response = api_as(editor).post(tool_url(), {"definition": make_definition()}, format="json")
    assert response.status_code == 400
    assert [f["path"] for f in error_of(response)["fields"]] == ["name"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "definition"),
        ({"definition": ["not", "an", "object"]}, "definition"),
        ({"definition": make_definition(), "publish": "perhaps"}, "publish"),
        ({"definition": make_definition(), "reason": "x" * 501}, "reason"),
    ],
)
def test_create_refuses_a_malformed_request_by_field(
    tenant: Tenant, editor: Any, body: dict[str, Any], path: str
) -> None:
    response = api_as(editor).post(tool_url(), body, format="json")
    assert response.status_code == 400
    assert [f["path"] for f in error_of(response)["fields"]] == [path]
    assert counts() == (0, 0, 0)


def test_create_refuses_a_body_that_is_not_json(tenant: Tenant, editor: Any) -> None:
    response = api_as(editor).post(tool_url(), "{nope", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"definition": {"name": "x"}, "reason": "\\ud800"}', "reason"),
        ('{"definition": {"name": "x", "tags": ["\\udbff"]}}', "definition.tags[0]"),
    ],
)
def test_create_refuses_a_lone_surrogate_naming_the_field(
    tenant: Tenant, editor: Any, body: str, path: str
) -> None:
    response = api_as(editor).post(tool_url(), body, content_type="application/json")
    assert response.status_code == 400
    assert [f["path"] for f in error_of(response)["fields"]] == [path]
    assert counts() == (0, 0, 0)


# -- update -------------------------------------------------------------------------------


def etag(client: Any, name: str = "disk_usage") -> str:
    return str(client.get(tool_url(name))["ETag"])


def test_put_makes_a_new_draft_and_a_new_etag(tenant: Tenant, editor: Any) -> None:
    tool = published(tenant, editor)
    client = api_as(editor)
    before = etag(client)
    definition = head_definition(tool, description="Disk usage per mount, fullest first.")
    response = client.put(
        tool_url("disk_usage"),
        {"definition": definition, "reason": "clearer"},
        format="json",
        HTTP_IF_MATCH=before,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["current_version"], body["head_version"]) == ("1.0.0", "1.0.1")
    assert body["draft"]["definition"]["description"] == "Disk usage per mount, fullest first."
    assert response["ETag"] != before
    assert AuditLog.objects.filter(action="update", reason="clearer").count() == 1


def test_put_with_publish_makes_the_edit_current(tenant: Tenant, editor: Any) -> None:
    tool = published(tenant, editor)
    client = api_as(editor)
    response = client.put(
        tool_url("disk_usage") + "?publish=true",
        {"definition": head_definition(tool, tags=["disk"])},
        format="json",
        HTTP_IF_MATCH=etag(client),
    )
    body = response.json()
    assert (body["current_version"], body["draft"]) == ("1.0.1", None)
    assert body["definition"]["tags"] == ["disk"]


def test_get_then_put_round_trip_of_the_detail_definition_works(
    tenant: Tenant, editor: Any
) -> None:
    """The definition GET returns (tool fields and version number included) can be sent
    back changed: unchanged tool fields and the old version number are accepted."""
    published(tenant, editor)
    client = api_as(editor)
    detail = client.get(tool_url("disk_usage"))
    definition = detail.json()["definition"] | {"description": "Edited after reading it."}
    response = client.put(
        tool_url("disk_usage"), {"definition": definition}, format="json",
        HTTP_IF_MATCH=detail["ETag"],
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["head_version"] == "1.0.1"


def test_put_may_choose_the_next_version_number(tenant: Tenant, editor: Any) -> None:
    tool = published(tenant, editor)
    client = api_as(editor)
    definition = head_definition(tool, description="A new major.", version="2.0.0")
    response = client.put(
        tool_url("disk_usage"), {"definition": definition, "base_version": "1.0.0"}, format="json"
    )
    assert response.json()["head_version"] == "2.0.0"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"status": "deprecated"}, "definition.status"),
        ({"enabled": False}, "definition.enabled"),
        ({"owners": ["viewer-acme"]}, "definition.owners"),
        ({"archived": True}, "definition.archived"),
    ],
)
def test_put_refuses_to_change_tool_fields(
    tenant: Tenant, editor: Any, change: dict[str, Any], path: str
) -> None:
    tool = published(tenant, editor)
    before = counts()
    response = api_as(editor).put(
        tool_url("disk_usage"),
        {"definition": head_definition(tool, description="Changed too.", **change),
         "base_version": "1.0.0"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert [f["path"] for f in error_of(response)["fields"]] == [path]
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "path"),
    [({"name": "renamed"}, "name"), ({}, ""), ({"platform": "solaris"}, "platform")],
)
def test_put_refuses_renames_no_change_and_invalid_definitions(
    tenant: Tenant, editor: Any, change: dict[str, Any], path: str
) -> None:
    tool = published(tenant, editor)
    before = counts()
    response = api_as(editor).put(
        tool_url("disk_usage"),
        {"definition": head_definition(tool, **change), "base_version": "1.0.0"},
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_definition"
    assert path in [f["path"] for f in error_of(response)["fields"]]
    assert counts() == before


def test_an_archived_tool_is_restored_before_it_is_edited(tenant: Tenant, editor: Any) -> None:
    tool = published(tenant, editor)
    services.archive_tool(tool, actor=editor)
    before = counts()
    response = api_as(editor).put(
        tool_url("disk_usage"),
        {"definition": head_definition(tool, description="Edit while archived."),
         "base_version": "1.0.0"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert [f["path"] for f in error_of(response)["fields"]] == ["archived"]
    assert counts() == before


def test_patch_changes_only_the_fields_sent(tenant: Tenant, editor: Any) -> None:
    published(tenant, editor)
    client = api_as(editor)
    response = client.patch(
        tool_url("disk_usage"),
        {"definition": {"description": "Only this changes."}, "publish": True},
        format="json",
        HTTP_IF_MATCH=etag(client),
    )
    assert response.status_code == 200, response.content
    definition = response.json()["definition"]
    assert definition["description"] == "Only this changes."
    assert definition["capabilities"][0]["name"] == "disk_capacity_check"
    assert definition["version"] == "1.0.1"


def test_an_edit_that_fails_to_publish_leaves_no_draft_behind(
    tenant: Tenant, editor: Any, monkeypatch: Any
) -> None:
    tool = published(tenant, editor)
    client = api_as(editor)
    tag = etag(client)
    before = counts()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValidationError({"version": ["the publish failed"]})

    monkeypatch.setattr(services, "publish_version", broken)
    response = client.put(
        tool_url("disk_usage"),
        {"definition": head_definition(tool, description="Never saved."), "publish": True},
        format="json",
        HTTP_IF_MATCH=tag,
    )
    assert response.status_code == 400
    assert counts() == before
    assert Tool.objects.get().head_version.version == "1.0.0"


def test_edit_of_another_tenants_tool_is_404(tenant: Tenant, outsider: Any) -> None:
    tool = published(tenant, None)
    response = api_as(outsider).put(
        tool_url("disk_usage"),
        {"definition": head_definition(tool, description="x" * 20), "base_version": "1.0.0"},
        format="json",
    )
    assert response.status_code == 404


# -- publish, rollback, discard -----------------------------------------------------------


def test_publish_defaults_to_the_waiting_draft(tenant: Tenant, editor: Any) -> None:
    with_history(tenant, editor)
    response = api_as(editor).post(
        tool_url("disk_usage", "publish"), {"reason": "reviewed"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["current_version"], response.json()["draft"]) == ("1.0.2", None)
    assert AuditLog.objects.filter(action="publish", reason="reviewed").count() == 1


def test_publish_a_named_draft(tenant: Tenant, editor: Any) -> None:
    tool = with_history(tenant, editor)
    new_version(tool, editor, publish=False, description="Yet another draft on top.")
    response = api_as(editor).post(
        tool_url("disk_usage", "publish"), {"version": "1.0.2"}, format="json"
    )
    assert response.json()["current_version"] == "1.0.2"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "no draft"),
        ({"version": "9.9.9"}, "no version 9.9.9"),
        ({"version": "1.0.0"}, "already published"),
    ],
)
def test_publish_refusals_name_the_version(
    tenant: Tenant, editor: Any, body: dict[str, str], message: str
) -> None:
    published(tenant, editor)
    response = api_as(editor).post(tool_url("disk_usage", "publish"), body, format="json")
    assert response.status_code == 400
    (field,) = error_of(response)["fields"]
    assert field["path"] == "version"
    assert message in field["message"]


def test_rollback_makes_an_earlier_version_current(tenant: Tenant, editor: Any) -> None:
    with_history(tenant, editor)
    response = api_as(editor).post(
        tool_url("disk_usage", "rollback"),
        {"to_version": "1.0.0", "reason": "1.0.1 broke"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["current_version"] == "1.0.0"
    entry = AuditLog.objects.get(action="rollback")
    assert (entry.reason, entry.changes["current_version"]) == ("1.0.1 broke", ["1.0.1", "1.0.0"])


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"to_version": "1.0.0"}, "reason"),
        ({"reason": "why"}, "to_version"),
        ({"to_version": "7.0.0", "reason": "why"}, "to_version"),
        ({"to_version": "1.0.2", "reason": "why"}, "to_version"),  # a draft
        ({"to_version": "1.0.1", "reason": "why"}, "to_version"),  # already current
    ],
)
def test_rollback_refusals_name_the_field(
    tenant: Tenant, editor: Any, body: dict[str, str], path: str
) -> None:
    with_history(tenant, editor)
    before = counts()
    response = api_as(editor).post(tool_url("disk_usage", "rollback"), body, format="json")
    assert response.status_code == 400
    assert [f["path"] for f in error_of(response)["fields"]] == [path]
    assert counts() == before


def test_discard_deletes_a_draft(tenant: Tenant, editor: Any) -> None:
    with_history(tenant, editor)
    client = api_as(editor)
    response = client.delete(tool_url("disk_usage", "versions/1.0.2"))
    assert response.status_code == 204
    assert client.get(tool_url("disk_usage")).json()["head_version"] == "1.0.1"
    assert not ToolVersion.objects.filter(version="1.0.2").exists()


def test_discarding_a_published_version_is_refused(tenant: Tenant, editor: Any) -> None:
    with_history(tenant, editor)
    response = api_as(editor).delete(tool_url("disk_usage", "versions/1.0.0"))
    assert response.status_code == 400
    assert ToolVersion.objects.filter(version="1.0.0").exists()


# -- state --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verb", "field", "value"),
    [
        ("disable", "enabled", False),
        ("deprecate", "status", ToolStatus.DEPRECATED),
        ("archive", "archived", True),
    ],
)
def test_state_verbs_change_the_tool_and_audit_the_reason(
    tenant: Tenant, editor: Any, verb: str, field: str, value: Any
) -> None:
    published(tenant, editor)
    response = api_as(editor).post(
        tool_url("disk_usage", verb), {"reason": f"{verb} it"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()[field] == value
    assert AuditLog.objects.filter(reason=f"{verb} it").count() == 1


def test_enable_and_restore_undo_disable_and_archive(tenant: Tenant, editor: Any) -> None:
    tool = published(tenant, editor)
    services.disable_tool(tool, actor=editor)
    services.archive_tool(tool, actor=editor)
    client = api_as(editor)
    assert client.post(tool_url("disk_usage", "enable")).json()["enabled"] is True
    body = client.post(tool_url("disk_usage", "restore")).json()
    assert (body["archived"], body["archived_at"]) == (False, None)


def test_a_state_already_so_changes_nothing(tenant: Tenant, editor: Any) -> None:
    published(tenant, editor)
    before = counts()
    response = api_as(editor).post(tool_url("disk_usage", "enable"))
    assert response.status_code == 200
    assert counts() == before


def test_operator_may_disable_any_tool(tenant: Tenant, editor: Any, operator: Any) -> None:
    published(tenant, editor)
    response = api_as(operator).post(tool_url("disk_usage", "disable"), {"reason": "flaky"})
    assert response.status_code == 200
    assert response.json()["enabled"] is False


def test_state_verbs_are_post_only(tenant: Tenant, editor: Any) -> None:
    published(tenant, editor)
    response = api_as(editor).get(tool_url("disk_usage", "archive"))
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


# -- ownership ------------------------------------------------------------------------------


def test_editor_cannot_change_a_tool_another_editor_owns(
    tenant: Tenant, editor: Any, second_editor: Any
) -> None:
    with_history(tenant, editor)
    client = api_as(second_editor)
    before = counts()
    response = client.post(tool_url("disk_usage", "publish"), format="json")
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "permission_denied"
    assert "editor-acme" in error["message"]
    assert counts() == before
    # Enabling and disabling stay open to every operator and editor.
    assert client.post(tool_url("disk_usage", "disable")).status_code == 200


def test_an_editor_key_of_an_admin_changes_only_the_admins_own_tools(
    tenant: Tenant, admin: Any, editor: Any
) -> None:
    """A key acts with the lower of its role and its creator's: an admin's editor key
    follows the editors' ownership rule."""
    published(tenant, editor, "editors_tool")
    published(tenant, admin, "admins_tool")
    _key, token = make_key(admin, tenant, role="editor")
    client = api_as(None)
    forbidden = client.post(tool_url("editors_tool", "deprecate"), **bearer(token))
    allowed = client.post(tool_url("admins_tool", "deprecate"), **bearer(token))
    assert (forbidden.status_code, allowed.status_code) == (403, 200)


def test_a_viewer_key_cannot_create_tools(tenant: Tenant, admin: Any) -> None:
    _key, token = make_key(admin, tenant, role="viewer")
    response = api_as(None).post(
        tool_url(), {"definition": make_definition()}, format="json", **bearer(token)
    )
    assert response.status_code == 403
    assert Tool.objects.count() == 0


# -- validate -----------------------------------------------------------------------------


def test_validate_checks_without_saving(tenant: Tenant, viewer: Any) -> None:
    response = api_as(viewer).post(
        tool_url("validate"), {"definition": make_definition()}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["valid"], body["errors"]) == (True, [])
    assert body["normalized"]["runtime"]["timeout_s"] == 30.0
    assert body["normalized"]["dependencies"][0]["required"] is True
    assert counts() == (0, 0, 0)


def test_validate_lists_every_error_by_path(tenant: Tenant, viewer: Any) -> None:
    definition = make_definition(name="Bad Name", runtime={"kind": "teleport"})
    response = api_as(viewer).post(tool_url("validate"), {"definition": definition}, format="json")
    body = response.json()
    assert body["valid"] is False
    assert body["normalized"] is None
    paths = [e["path"] for e in body["errors"]]
    assert "name" in paths
    assert any(p.startswith("runtime") for p in paths)


def test_validate_of_a_tool_fills_in_its_name(tenant: Tenant, viewer: Any) -> None:
    tool = published(tenant, None)
    definition = head_definition(tool)
    definition.pop("name")
    response = api_as(viewer).post(
        tool_url("disk_usage", "validate"), {"definition": definition}, format="json"
    )
    body = response.json()
    assert (body["valid"], body["normalized"]["name"]) == (True, "disk_usage")


def test_validate_of_another_tenants_tool_is_404(tenant: Tenant, outsider: Any) -> None:
    published(tenant, None)
    response = api_as(outsider).post(
        tool_url("disk_usage", "validate"), {"definition": {}}, format="json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("depth", [100, 990, 50_000])
def test_validate_refuses_a_definition_nested_too_deep(
    tenant: Tenant, viewer: Any, depth: int
) -> None:
    body = '{"definition": {"name": "x", "metadata": {"a": ' + "[" * depth + "]" * depth + "}}}"
    response = api_as(viewer).post(tool_url("validate"), body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deep (at most 64 levels" in error_of(response)["message"]


@pytest.mark.parametrize("verb", ["validate", "publish", "rollback", "enable", "archive"])
def test_options_describes_the_endpoint_for_any_member(
    tenant: Tenant, viewer: Any, verb: str
) -> None:
    published(tenant, None)
    url = tool_url("validate") if verb == "validate" else tool_url("disk_usage", verb)
    response = api_as(viewer).options(url)
    assert response.status_code == 200
    assert response.json()["parses"] == ["application/json"]
