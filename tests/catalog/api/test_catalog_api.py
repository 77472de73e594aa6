"""/api/v1 capabilities, patterns, the audit log, and bulk import and export."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import services
from catalog.models import AuditLog, Tenant, Tool, ToolVersion
from tests.catalog.api.resources import (
    API,
    api_as,
    error_of,
    new_version,
    no_throttling,  # noqa: F401  (autouse fixture)
    published,
    tool_url,
)
from tests.factories import MembershipFactory, UserFactory, make_definition

pytestmark = pytest.mark.django_db


def rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return list(response.json()["results"])


def snapshot() -> tuple[int, int, int]:
    return Tool.objects.count(), ToolVersion.objects.count(), AuditLog.objects.count()


def capability(name: str, *patterns: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"The {name} capability.",
        "patterns": list(patterns)
        or [{"name": "default", "description": "The usual way.", "time_estimate_ms": "100"}],
    }


# -- capabilities ---------------------------------------------------------------------------


@pytest.fixture
def capable(tenant: Tenant, other_tenant: Tenant) -> None:
    published(tenant, None, "disk_usage")  # disk_capacity_check
    published(tenant, None, "df_report", capabilities=[capability("disk_capacity_check")])
    ping = published(tenant, None, "ping", capabilities=[capability("reachability")])
    # An old version's capability does not count: only current versions do.
    new_version(ping, None, publish=True, capabilities=[capability("latency")])
    gone = published(tenant, None, "gone", capabilities=[capability("archived_only")])
    services.archive_tool(gone, actor=None)
    published(other_tenant, None, "globex", capabilities=[capability("globex_secret")])


def test_capabilities_are_counted_over_current_versions(capable: None, viewer: Any) -> None:
    assert rows(api_as(viewer).get(f"{API}/capabilities")) == [
        {"name": "disk_capacity_check", "tools": 2},
        {"name": "latency", "tools": 1},
    ]


def test_capabilities_filter_by_part_of_the_name(capable: None, viewer: Any) -> None:
    found = rows(api_as(viewer).get(f"{API}/capabilities", {"q": "disk"}))
    assert [c["name"] for c in found] == ["disk_capacity_check"]


def test_tools_of_a_capability(capable: None, viewer: Any) -> None:
    found = rows(api_as(viewer).get(f"{API}/capabilities/disk_capacity_check/tools"))
    assert [t["name"] for t in found] == ["df_report", "disk_usage"]


@pytest.mark.parametrize("name", ["reachability", "archived_only", "globex_secret", "nothing"])
def test_tools_of_a_capability_no_current_tool_has_is_404(
    capable: None, viewer: Any, name: str
) -> None:
    response = api_as(viewer).get(f"{API}/capabilities/{name}/tools")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_another_tenant_sees_only_its_own_capabilities(capable: None, outsider: Any) -> None:
    assert rows(api_as(outsider).get(f"{API}/capabilities")) == [
        {"name": "globex_secret", "tools": 1}
    ]


# -- patterns -------------------------------------------------------------------------------


@pytest.fixture
def patterned(tenant: Tenant) -> None:
    careful = {
        "name": "careful",
        "description": "Ask before running.",
        "context_variables": {"N": {"description": "services", "sample": 3}},
        "time_estimate_ms": "2000 + 0.5 * N",
        "policy": {"requires_approval": True, "production_safe": False, "max_cost": 3},
        "preference_match": {"speed": 0.1},
    }
    quick = {"name": "quick", "description": "Run it now.", "cost_estimate": "1"}
    published(tenant, None, "restart", capabilities=[capability("service_restart", careful, quick)])
    published(tenant, None, "disk_usage")


def test_patterns_are_a_flat_list_with_tool_capability_estimates_and_policy(
    patterned: None, viewer: Any
) -> None:
    found = rows(api_as(viewer).get(f"{API}/patterns"))
    assert [(p["tool"], p["capability"], p["name"]) for p in found] == [
        ("disk_usage", "disk_capacity_check", "all_mounts"),
        ("restart", "service_restart", "careful"),
        ("restart", "service_restart", "quick"),
    ]
    careful = found[1]
    assert careful["version"] == "1.0.0"
    assert careful["time_estimate_ms"] == "2000 + 0.5 * N"
    assert careful["policy"] == {
        "max_cost": 3.0,
        "requires_approval": True,
        "production_safe": False,
    }
    assert careful["preference_match"]["speed"] == 0.1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"tool": "restart"}, ["careful", "quick"]),
        ({"capability": "disk_capacity_check"}, ["all_mounts"]),
        ({"requires_approval": "true"}, ["careful"]),
        ({"tool": "restart", "production_safe": "true"}, ["quick"]),
        ({"tool": "restart", "production_safe": "No"}, ["careful"]),
        ({"requires_approval": "1"}, ["careful"]),
        ({"requires_approval": "off"}, ["all_mounts", "quick"]),
        ({"tool": "nope"}, []),
    ],
)
def test_patterns_filter_by_tool_capability_and_policy(
    patterned: None, viewer: Any, query: dict[str, str], expected: list[str]
) -> None:
    found = rows(api_as(viewer).get(f"{API}/patterns", query))
    assert [p["name"] for p in found] == expected


def test_patterns_refuse_a_policy_filter_that_is_not_yes_or_no(
    patterned: None, viewer: Any
) -> None:
    response = api_as(viewer).get(f"{API}/patterns", {"requires_approval": "perhaps"})
    assert response.status_code == 400
    [field] = response.json()["error"]["fields"]
    assert field["path"] == "requires_approval"
    assert "yes or no" in field["message"]


def test_patterns_of_another_tenant_are_not_listed(patterned: None, outsider: Any) -> None:
    assert rows(api_as(outsider).get(f"{API}/patterns")) == []


# -- audit ----------------------------------------------------------------------------------


@pytest.fixture
def history(tenant: Tenant, other_tenant: Tenant, editor: Any, operator: Any) -> None:
    tool = published(tenant, editor)
    services.disable_tool(tool, actor=operator, reason="flaky at night", ip="10.0.0.5")
    published(tenant, editor, "ping")
    published(other_tenant, None, "globex")


def test_audit_lists_the_tenants_changes_newest_first(history: None, viewer: Any) -> None:
    entries = rows(api_as(viewer).get(f"{API}/audit"))
    assert [(e["action"], e["tool"]) for e in entries] == [
        ("publish", "ping"),
        ("create", "ping"),
        ("disable", "disk_usage"),
        ("publish", "disk_usage"),
        ("create", "disk_usage"),
    ]
    disable = entries[2]
    assert disable["actor"] == "operator-acme"
    assert (disable["reason"], disable["ip"]) == ("flaky at night", "10.0.0.5")
    assert disable["changes"] == {"enabled": [True, False]}
    assert disable["object"] == "disk_usage"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "disable"}, 1),
        ({"tool": "ping"}, 2),
        ({"user": "operator-acme"}, 1),
        ({"user": "editor-acme", "action": "create"}, 2),
        ({"date_from": "2000-01-01"}, 5),
        ({"date_to": "2000-01-01"}, 0),
    ],
)
def test_audit_filters(history: None, viewer: Any, query: dict[str, str], expected: int) -> None:
    assert api_as(viewer).get(f"{API}/audit", query).json()["count"] == expected


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"action": "explode"}, "action"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2025-02-02", "date_to": "2025-02-01"}, "date_to"),
    ],
)
def test_audit_refuses_bad_filters(
    history: None, viewer: Any, query: dict[str, str], path: str
) -> None:
    response = api_as(viewer).get(f"{API}/audit", query)
    assert response.status_code == 400
    assert [f["path"] for f in error_of(response)["fields"]] == [path]


def test_audit_of_another_tenant_is_not_shown(history: None, outsider: Any) -> None:
    entries = rows(api_as(outsider).get(f"{API}/audit"))
    assert {e["tool"] for e in entries} == {"globex"}


# -- import -------------------------------------------------------------------------------

IMPORT = tool_url("import")


def yaml_of(*definitions: dict[str, Any]) -> str:
    return yaml.safe_dump_all(list(definitions), sort_keys=False)


def test_import_a_yaml_body(tenant: Tenant, editor: Any) -> None:
    body = yaml_of(make_definition(name="alpha"), make_definition(name="beta"))
    response = api_as(editor).post(
        IMPORT + "?reason=from%20git", body, content_type="application/yaml"
    )
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["dry_run"], report["applied"]) == (False, True)
    assert report["counts"] == {"new": 2, "changed": 0, "unchanged": 0, "refused": 0, "problems": 0}
    assert [i["source"] for i in report["items"]] == ["request.yaml#1", "request.yaml#2"]
    assert set(Tool.objects.values_list("name", flat=True)) == {"alpha", "beta"}
    assert AuditLog.objects.filter(action="import", reason="from git").count() == 2
    assert all(t.owners.get() == editor for t in Tool.objects.all())


@pytest.mark.parametrize("content_type", ["application/json", "text/yaml", "application/x-yaml"])
def test_import_json_and_other_yaml_types(tenant: Tenant, editor: Any, content_type: str) -> None:
    definitions = [make_definition(name="alpha")]
    body = json.dumps(definitions) if content_type.endswith("json") else yaml_of(*definitions)
    response = api_as(editor).post(IMPORT, body, content_type=content_type)
    assert response.status_code == 200, response.content
    assert Tool.objects.get().name == "alpha"


def test_import_uploaded_files_and_zips(tenant: Tenant, editor: Any) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("linux/beta.yaml", yaml_of(make_definition(name="beta")))
        zipped.writestr("__MACOSX/._beta.yaml", "junk")
    files = [
        SimpleUploadedFile("alpha.json", json.dumps(make_definition(name="alpha")).encode()),
        SimpleUploadedFile("tools.zip", archive.getvalue()),
    ]
    response = api_as(editor).post(
        IMPORT, {"files": files, "reason": "uploaded"}, format="multipart"
    )
    assert response.status_code == 200, response.content
    sources = sorted(i["source"] for i in response.json()["items"])
    assert sources == ["alpha.json", "linux/beta.yaml"]
    assert AuditLog.objects.filter(action="import", reason="uploaded").count() == 2


def test_import_dry_run_previews_and_writes_nothing(tenant: Tenant, editor: Any) -> None:
    published(tenant, editor, "alpha")
    published(tenant, editor, "same")
    changed = make_definition(name="alpha", description="A changed description of alpha.")
    changed.pop("version")
    body = yaml_of(changed, make_definition(name="same"), make_definition(name="fresh"))
    before = snapshot()
    response = api_as(editor).post(IMPORT + "?dry_run=1", body, content_type="application/yaml")
    assert response.status_code == 200
    report = response.json()
    assert (report["dry_run"], report["applied"]) == (True, False)
    actions = {i["name"]: (i["action"], i["version"]) for i in report["items"]}
    assert actions == {
        "alpha": ("changed", "1.0.1"),
        "same": ("unchanged", "1.0.0"),
        "fresh": ("new", "1.0.0"),
    }
    alpha = next(i for i in report["items"] if i["name"] == "alpha")
    assert alpha["changes"]["description"][1] == "A changed description of alpha."
    assert snapshot() == before


def test_import_dry_run_reports_problems_instead_of_refusing(tenant: Tenant, editor: Any) -> None:
    body = yaml_of(make_definition(name="good"), make_definition(name="bad", platform="solaris"))
    response = api_as(editor).post(IMPORT + "?dry_run=true", body, content_type="application/yaml")
    assert response.status_code == 200
    report = response.json()
    assert report["counts"]["problems"] == 1
    assert report["problems"][0]["file"] == "request.yaml#2"
    assert report["problems"][0]["path"] == "platform"
    assert snapshot() == (0, 0, 0)


def test_one_bad_definition_means_nothing_is_imported(tenant: Tenant, editor: Any) -> None:
    body = yaml_of(
        make_definition(name="good"),
        make_definition(name="also_good"),
        make_definition(name="bad", runtime={"kind": "teleport"}),
    )
    response = api_as(editor).post(IMPORT, body, content_type="application/yaml")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "import_failed"
    assert error["fields"][0]["path"].startswith("request.yaml#3 (bad): runtime")
    assert snapshot() == (0, 0, 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("", "no tool definitions"),
        ("just a string", "mapping"),
    ],
)
def test_unreadable_bodies_are_refused_with_the_reason(
    tenant: Tenant, editor: Any, body: str, message: str
) -> None:
    response = api_as(editor).post(IMPORT, body, content_type="application/yaml")
    assert response.status_code == 400
    assert message in json.dumps(error_of(response))
    assert snapshot() == (0, 0, 0)


DEEP_YAML = (
    "name: deep\ndescription: Deep.\nplatform: linux\ncategory: c\nmetadata:\n"
    + "".join("  " * (level + 1) + f"k{level}:\n" for level in range(990))
    + "  " * 991
    + "end: 1\n"
)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("[" * 50_000 + "]" * 50_000, "application/json"),
        ('{"name": "deep", "metadata": ' + "[" * 100 + "]" * 100 + "}", "application/json"),
        (DEEP_YAML, "application/yaml"),
    ],
)
def test_definitions_nested_too_deep_are_refused_saying_so(
    tenant: Tenant, editor: Any, body: str, content_type: str
) -> None:
    response = api_as(editor).post(IMPORT, body, content_type=content_type)
    assert response.status_code == 400
    assert "nested too deep (at most 64 levels" in json.dumps(error_of(response))
    assert snapshot() == (0, 0, 0)


def test_a_lone_surrogate_in_an_imported_definition_is_refused_naming_the_field(
    tenant: Tenant, editor: Any
) -> None:
    body = json.dumps(make_definition(description="A \ud800 tool."))
    response = api_as(editor).post(IMPORT, body, content_type="application/json")
    assert response.status_code == 400
    fields = error_of(response)["fields"]
    assert fields[0]["path"] == "request.json: description"
    assert "lone UTF-16 surrogate" in fields[0]["message"]
    assert snapshot() == (0, 0, 0)


def test_import_needs_a_body_or_files(tenant: Tenant, editor: Any) -> None:
    response = api_as(editor).post(IMPORT, {}, format="multipart")
    assert response.status_code == 400
    assert [f["path"] for f in error_of(response)["fields"]] == ["files"]


def test_import_refuses_other_content_types(tenant: Tenant, editor: Any) -> None:
    response = api_as(editor).post(IMPORT, "name,description", content_type="text/csv")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_import_accepts_tools_written_for_openai(tenant: Tenant, editor: Any) -> None:
    """The import readers are shared with the wizard: foreign formats come for free."""
    body = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    response = api_as(editor).post(IMPORT, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    assert Tool.objects.get().name == "get_weather"


def test_editor_may_not_import_over_a_tool_another_editor_owns(tenant: Tenant, editor: Any) -> None:
    published(tenant, editor, "alpha")
    other = UserFactory(username="editor2-acme")
    MembershipFactory(user=other, tenant=tenant, role="editor")
    changed = make_definition(name="alpha", description="Taking over alpha by import.")
    changed.pop("version")
    before = snapshot()
    response = api_as(other).post(IMPORT, yaml_of(changed), content_type="application/yaml")
    assert response.status_code == 400
    assert "editor-acme" in error_of(response)["fields"][0]["message"]
    assert snapshot() == before


def test_import_goes_to_the_callers_tenant_only(
    tenant: Tenant, other_tenant: Tenant, editor: Any, outsider: Any
) -> None:
    published(tenant, editor, "alpha")
    response = api_as(outsider).post(
        IMPORT, yaml_of(make_definition(name="alpha")), content_type="application/yaml"
    )
    assert response.json()["counts"]["new"] == 1
    assert Tool.objects.filter(name="alpha").count() == 2
    assert Tool.objects.get(tenant=tenant, name="alpha").versions.count() == 1


# -- export -------------------------------------------------------------------------------

EXPORT = tool_url("export")


def text_of(response: Any) -> str:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def exported(tenant: Tenant, editor: Any) -> None:
    published(tenant, editor, "alpha", platform="windows")
    published(tenant, editor, "beta")
    services.create_tool(tenant, definition=make_definition(name="draft_only"), actor=editor)


def test_export_streams_yaml_by_default(exported: None, viewer: Any) -> None:
    response = api_as(viewer).get(EXPORT)
    assert response["Content-Type"] == "application/yaml"
    assert response["Content-Disposition"].startswith('attachment; filename="quiver-acme-')
    definitions = yaml.safe_load(text_of(response))  # one document: a list, like JSON's
    assert [d["name"] for d in definitions] == ["alpha", "beta"]  # published ones only
    assert "def main" in definitions[0]["script"]


def test_an_empty_export_is_an_empty_list(tenant: Tenant, viewer: Any) -> None:
    assert yaml.safe_load(text_of(api_as(viewer).get(EXPORT))) == []
    assert json.loads(text_of(api_as(viewer).get(EXPORT, {"format": "json"}))) == []


def test_a_yaml_export_imports_back_unchanged(exported: None, editor: Any) -> None:
    text = text_of(api_as(editor).get(EXPORT))
    response = api_as(editor).post(IMPORT, text, content_type="application/yaml")
    assert response.json()["counts"] == {
        "new": 0,
        "changed": 0,
        "unchanged": 2,
        "refused": 0,
        "problems": 0,
    }


def test_export_json_with_the_lists_filters(exported: None, viewer: Any) -> None:
    response = api_as(viewer).get(EXPORT, {"format": "json", "platform": "windows"})
    assert response["Content-Type"] == "application/json"
    assert [d["name"] for d in json.loads(text_of(response))] == ["alpha"]


@pytest.mark.parametrize(
    ("query", "path"), [({"format": "xml"}, "format"), ({"status": "gone"}, "status")]
)
def test_export_refuses_bad_parameters(
    exported: None, viewer: Any, query: dict[str, str], path: str
) -> None:
    response = api_as(viewer).get(EXPORT, query)
    assert response.status_code == 400
    assert [f["path"] for f in error_of(response)["fields"]] == [path]


def test_export_then_import_into_another_tenant_reproduces_the_definitions(
    tenant: Tenant, other_tenant: Tenant, editor: Any, outsider: Any
) -> None:
    published(tenant, editor, "alpha", tags=["one", "two"])
    beta = published(tenant, editor, "beta")
    new_version(beta, editor, publish=True, description="Beta, second edition.")
    exported = text_of(api_as(editor).get(EXPORT, {"format": "json"}))
    definitions = json.loads(exported)
    for definition in definitions:
        definition.pop("owners", None)  # owners are members of the first tenant

    response = api_as(outsider).post(
        IMPORT, json.dumps(definitions), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["counts"]["new"] == 2

    again = json.loads(text_of(api_as(outsider).get(EXPORT, {"format": "json"})))
    for original, copy in zip(definitions, again, strict=True):
        copy.pop("owners", None)
        assert copy == original
    # And importing the same export again changes nothing.
    repeat = api_as(outsider).post(IMPORT, json.dumps(again), content_type="application/json")
    assert repeat.json()["counts"] == {
        "new": 0,
        "changed": 0,
        "unchanged": 2,
        "refused": 0,
        "problems": 0,
    }


def test_an_import_reports_every_problem_of_every_tool_at_once(tenant: Tenant, editor: Any) -> None:
    """A problem of shape (a missing description, a bad category) does not hide the
    others (a script that does not parse, an estimate that is no formula)."""
    broken = make_definition(
        name="broken",
        category="Not A Category",
        script="def main(:\n",
        runtime={"kind": "script", "timeout_s": 30, "memory_mb": 256, "network": False},
    )
    del broken["description"]
    broken["capabilities"][0]["patterns"][0]["time_estimate_ms"] = "1 +* N"
    body = yaml_of(make_definition(name="good"), broken)
    report = (
        api_as(editor).post(IMPORT + "?dry_run=true", body, content_type="application/yaml").json()
    )
    paths = sorted(p["path"] for p in report["problems"])
    assert paths == [
        "capabilities[0].patterns[0].time_estimate_ms",
        "category",
        "description",
        "script",
    ]
    assert snapshot() == (0, 0, 0)


def test_a_new_tool_through_the_api_reports_every_problem_at_once(
    tenant: Tenant, editor: Any
) -> None:
    services.create_tool(tenant, definition=make_definition(name="taken"), actor=editor)
    definition = make_definition(
        name="taken",
        owners=["nobody-here"],
        script="x = 1\n",
        runtime={"kind": "script", "timeout_s": 0, "memory_mb": 256, "network": False},
    )
    response = api_as(editor).post("/api/v1/tools", {"definition": definition}, format="json")
    assert response.status_code == 400
    paths = sorted(f["path"] for f in error_of(response)["fields"])
    assert paths == ["name", "owners", "runtime.timeout_s", "script"]


@pytest.mark.django_db
def test_a_path_with_a_trailing_slash_says_which_path_was_meant(viewer: Any) -> None:
    response = api_as(viewer).get("/api/v1/tools/")
    assert response.status_code == 404
    assert "did you mean /api/v1/tools?" in response.json()["error"]["message"]
    unknown = api_as(viewer).get("/api/v1/nothing-here/")
    assert unknown.json()["error"]["message"] == "Not found."
