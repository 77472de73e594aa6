"""Importing tools as public function-calling data sets write them: names kept as written,
collisions suffixed, real schemas normalised, and one report of every change."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from catalog import services
from catalog.formats.files import Source, parse_text, read_path
from catalog.models import Tenant, Tool
from tests.catalog.public_style import UNREADABLE, public_style_tools
from tests.factories import make_definition

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, tools: list[dict[str, Any]], name: str = "tools.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(tools), encoding="utf-8")
    return path


def names(tenant: Tenant) -> set[str]:
    return set(Tool.objects.for_tenant(tenant).values_list("name", flat=True))


def test_a_public_style_list_imports_every_tool_under_its_own_name(
    tenant: Tenant, tmp_path: Path, capsys: Any
) -> None:
    tools = public_style_tools(400)
    path = write(tmp_path, tools)
    started = time.perf_counter()
    call_command("import_tools", str(path), "--tenant", "acme", "--dry-run")
    preview_s = time.perf_counter() - started
    capsys.readouterr()
    started = time.perf_counter()
    call_command("import_tools", str(path), "--tenant", "acme")
    import_s = time.perf_counter() - started
    out = capsys.readouterr().out
    print(f"\n400 public-style tools: preview {preview_s:.2f} s, import {import_s:.2f} s")

    imported = names(tenant)
    assert len(imported) == 400
    legal = [t["function"]["name"] for t in tools if "." not in t["function"]["name"]]
    legal = [n for n in legal if " " not in n and n not in ("calculate_bmi", "math_gcd", "chatOCR")]
    assert set(legal) <= imported  # camelCase, PascalCase and capitals kept as written
    assert {
        "getWeather0",
        "CreateWeather5",
        "find_Weather_6",
        "calculate_BMI",
        "ChatOCR",
    } <= imported
    # Only what breaks the rule is rewritten; collisions get a suffix; each is reported.
    assert {"weather_check7", "math_gcd", "get_weather_now"} <= imported
    assert {"calculate_bmi_2", "math_gcd_2", "chatOCR_2"} <= imported
    assert "Imported: 400 new, 0 changed, 0 unchanged, 0 problem(s)." in out
    assert '"math.gcd" → "math_gcd"' in out
    assert (
        "'calculate_bmi' was imported as 'calculate_bmi_2': tools.json#393 is called "
        "'calculate_BMI' already, and names must differ in more than case"
    ) in out
    assert "'math_gcd' was imported as 'math_gcd_2': tools.json#395 is called 'math_gcd'" in out
    # The schema habits, each normalised once and said.
    assert '"ArrayList" → "array"' in out
    assert '"" removed: with no type given, any value is allowed' in out
    assert '"yes": removed; "limit" stays out of input_schema.required' in out
    assert "moved to items" in out
    assert '"dontcare" removed: not a boolean' in out
    assert '"dontcare" removed: not an integer' in out


def test_the_same_list_imported_again_changes_nothing(tenant: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, public_style_tools(100))
    call_command("import_tools", str(path), "--tenant", "acme")
    read = read_path(path)
    report = services.import_definitions(tenant, read.sources, actor=None, dry_run=True)
    assert report.ok and report.count("unchanged") == 100, report.summary()


def test_a_name_taken_in_another_case_gets_a_suffix_on_import(tenant: Tenant) -> None:
    services.create_tool(tenant, definition=make_definition(name="getTime"), actor=None)
    read = parse_text(json.dumps([_tool("gettime")]), "t.json")
    report = services.import_definitions(tenant, read.sources, actor=None)
    assert "gettime_2" in names(tenant)
    (item,) = report.items
    assert item.name == "gettime_2"
    assert item.note == (
        "'gettime' was imported as 'gettime_2': the tool 'getTime' exists already, and "
        "names must differ in more than case"
    )
    (warning,) = [w for w in report.warnings if w.tool == "gettime_2"]
    assert "the tool 'getTime' exists already" in warning.message


def test_a_quiver_definition_differing_only_in_case_is_a_problem(tenant: Tenant) -> None:
    sources = [
        Source("a.yaml", None, make_definition(name="diskUsage")),
        Source("b.yaml", None, make_definition(name="DiskUsage")),
    ]
    with pytest.raises(services.ImportFailed) as caught:
        services.import_definitions(tenant, sources, actor=None)
    (problem,) = caught.value.report.problems
    assert (problem.file, problem.tool, problem.path) == ("b.yaml", "DiskUsage", "name")
    assert "differs only in case from 'diskUsage' in a.yaml" in problem.message
    refused = [item for item in caught.value.report.items if item.action == "refused"]
    assert [item.name for item in refused] == ["DiskUsage"]


def test_a_quiver_definition_for_a_tool_in_another_case_is_a_problem(tenant: Tenant) -> None:
    services.create_tool(tenant, definition=make_definition(name="diskUsage"), actor=None)
    with pytest.raises(services.ImportFailed) as caught:
        services.import_definitions(
            tenant, [Source("a.yaml", None, make_definition(name="DiskUsage"))], actor=None
        )
    (problem,) = caught.value.report.problems
    assert str(problem) == (
        "a.yaml (DiskUsage): name: 'DiskUsage' differs only in case from the tool "
        "'diskUsage': names must differ in more than case"
    )


def _tool(name: str, description: str = "Does it.") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description}}


# -- partial imports ----------------------------------------------------------------------


def test_one_unreadable_tool_refuses_the_whole_import_by_default(
    tenant: Tenant, tmp_path: Path, capsys: Any
) -> None:
    path = write(tmp_path, public_style_tools(100) + UNREADABLE)
    with pytest.raises(CommandError):
        call_command("import_tools", str(path), "--tenant", "acme")
    assert not Tool.objects.exists()
    err = capsys.readouterr().err
    assert "tools.json#101 (noDescription): description: has no description" in err
    assert "tools.json#102 (makeWidget): input_schema.properties.x.type" in err


def test_a_partial_import_by_command_imports_the_valid_tools_and_lists_the_others(
    tenant: Tenant, tmp_path: Path, capsys: Any
) -> None:
    path = write(tmp_path, public_style_tools(100) + UNREADABLE)
    call_command("import_tools", str(path), "--tenant", "acme", "--partial")
    assert len(names(tenant)) == 100
    captured = capsys.readouterr()
    assert "100 new, 0 changed, 0 unchanged, 2 left out, 0 problem(s)" in captured.out
    assert "left out: tools.json#101 (noDescription): description: has no description" in (
        captured.err
    )


def test_a_partial_import_by_api_reports_the_refused_tools(tenant: Tenant, editor: Any) -> None:
    client = APIClient()
    client.force_login(editor)
    body = json.dumps([_tool("getTime"), *UNREADABLE, _tool("getTime", "Again, other words.")])
    response = client.post(
        "/api/v1/tools/import?partial=true", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["counts"] == {
        "new": 2,
        "changed": 0,
        "unchanged": 0,
        "refused": 2,
        "problems": 0,
    }
    assert {p["tool"] for p in report["refused"]} == {"noDescription", "makeWidget"}
    assert names(tenant) == {"getTime", "getTime_2"}


def test_the_api_refuses_everything_without_partial(tenant: Tenant, editor: Any) -> None:
    client = APIClient()
    client.force_login(editor)
    body = json.dumps([_tool("getTime"), *UNREADABLE])
    response = client.post("/api/v1/tools/import", body, content_type="application/json")
    assert response.status_code == 400
    assert not Tool.objects.exists()
    paths = [field["path"] for field in response.json()["error"]["fields"]]
    assert "request.json#2 (noDescription): description" in paths


@pytest.fixture
def as_editor(client: Client, editor: Any, settings: Any) -> Client:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    client.force_login(editor)
    return client


def test_the_wizard_imports_the_valid_tools_when_asked_and_lists_the_others(
    as_editor: Client, tenant: Tenant
) -> None:
    content = json.dumps(public_style_tools(64) + UNREADABLE).encode()
    upload = SimpleUploadedFile("public.json", content, content_type="application/json")
    response = as_editor.post("/import/", {"uploads": [upload], "partial": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    page = as_editor.get(response.url).content.decode()
    assert "64 new, 0 changed, 0 unchanged, 0 problems" in page
    assert "2 tools with problems will be left out" in page
    assert "Left out (2 tools)" in page
    assert "noDescription" in page and "makeWidget" in page
    token = response.url.rstrip("/").split("/")[-1]
    as_editor.post(f"/import/{token}/apply/")
    assert len(names(tenant)) == 64
    page = as_editor.get(response.url).content.decode()
    assert (
        "Imported 64 tools: 64 new, 0 changed; 0 left as they were; 2 tools with problems left out."
        in page
    )
    assert "64 new, 0 changed, 0 unchanged; 2 with problems left out, listed below." in page


def test_the_wizard_without_the_box_refuses_unreadable_tools(as_editor: Client) -> None:
    content = json.dumps(public_style_tools(64) + UNREADABLE).encode()
    upload = SimpleUploadedFile("public.json", content, content_type="application/json")
    response = as_editor.post("/import/", {"uploads": [upload]})
    assert response.status_code == 200
    assert "public.json#65 (noDescription): description: has no description" in (
        response.content.decode()
    )
    assert not Tool.objects.exists()


# -- served as written ---------------------------------------------------------------------


def test_tools_are_served_to_agents_and_pages_under_their_own_names(
    tenant: Tenant, viewer: Any, tmp_path: Path
) -> None:
    call_command("import_tools", str(write(tmp_path, public_style_tools(64))), "--tenant", "acme")
    client = APIClient()
    client.force_login(viewer)
    body = client.get("/api/v1/llm/tools", {"format": "openai"}).json()
    served = {t["function"]["name"] for t in body["tools"]}
    assert {"getWeatherByCity", "ChatOCR", "calculate_BMI"} <= served
    for fmt in ("anthropic", "mcp", "frontend"):
        body = client.get("/api/v1/llm/tools", {"format": fmt}).json()
        assert "getWeatherByCity" in {t["name"] for t in body["tools"]}
    found = client.get("/api/v1/llm/tools", {"q": "weather by city"}).json()
    assert "getWeatherByCity" in [t["function"]["name"] for t in found["tools"]][:3]
    assert client.get("/api/v1/tools/getWeatherByCity").status_code == 200
    page = Client()
    page.force_login(viewer)
    assert page.get("/tools/getWeatherByCity/").status_code == 200


# -- a dry run --------------------------------------------------------------------------------


def test_a_dry_run_does_not_say_a_new_tenant_was_created(tmp_path: Path, capsys: Any) -> None:
    path = write(tmp_path, public_style_tools(64))
    call_command("import_tools", str(path), "--tenant", "newco", "--dry-run")
    out = capsys.readouterr().out
    assert "Tenant 'newco' is new." not in out
    assert "Tenant 'newco' does not exist; it would be created (a dry run creates nothing)." in out
    assert not Tenant.objects.filter(slug="newco").exists()
