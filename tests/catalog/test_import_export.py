"""Import is all-or-nothing and idempotent; export then import reproduces the catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from catalog import services
from catalog.formats.files import Source, dump_yaml, parse_text, read_path, write_tree
from catalog.models import AuditLog, Tenant, Tool, ToolTag, ToolVersion
from catalog.selectors import export_definitions
from tests.factories import make_definition

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "catalog" / "sample_catalog"


def tree(root: Path, definitions: list[dict[str, Any]]) -> Path:
    write_tree(definitions, root)
    return root


def many(count: int) -> list[dict[str, Any]]:
    return [make_definition(name=f"tool_{i:03d}", description=f"Tool {i}.") for i in range(count)]


def run_import(tenant: Tenant, sources: list[Source], **kwargs: Any) -> services.ImportReport:
    return services.import_definitions(tenant, sources, actor=None, **kwargs)


def snapshot(tenant: Tenant) -> list[dict[str, Any]]:
    """Everything export writes, for comparing two catalogs."""
    return list(export_definitions(tenant))


# -- reading files ------------------------------------------------------------------------


def test_a_file_may_hold_one_tool_a_list_a_tools_key_or_documents() -> None:
    one = make_definition(name="a")
    assert len(parse_text(yaml.safe_dump(one), "a.yaml").sources) == 1
    assert len(parse_text(yaml.safe_dump([one, one]), "b.yaml").sources) == 2
    assert len(parse_text(yaml.safe_dump({"tools": [one] * 3}), "c.yaml").sources) == 3
    assert len(parse_text(dump_yaml([one, one]), "d.yaml").sources) == 2
    assert len(parse_text(json.dumps([one]), "e.json").sources) == 1


def test_broken_yaml_is_reported_with_its_line() -> None:
    result = parse_text("name: a\n  description: [unclosed\n", "bad.yaml")
    (problem,) = result.problems
    assert problem.file == "bad.yaml"
    assert "is not valid YAML: line 2" in problem.message


def test_broken_json_is_reported_with_its_line() -> None:
    (problem,) = parse_text('{"name": "a",\n}', "bad.json").problems
    assert problem.message.startswith("is not valid JSON: line 2")


def test_yaml_dates_stay_text() -> None:
    (source,) = parse_text("name: a\nmetadata: {released: 2024-05-01}\n", "a.yaml").sources
    assert source.data["metadata"]["released"] == "2024-05-01"


def test_non_utf8_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "latin.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    (problem,) = read_path(tmp_path).problems
    assert problem.message.startswith("is not UTF-8 text")


def test_a_tree_is_read_in_name_order(tmp_path: Path) -> None:
    tree(tmp_path, many(3))
    result = read_path(tmp_path)
    assert [s.file for s in result.sources] == [
        "linux/tool_000.yaml",
        "linux/tool_001.yaml",
        "linux/tool_002.yaml",
    ]


# -- importing ---------------------------------------------------------------------------


def test_import_creates_published_tools_with_audit_entries(tenant: Tenant, tmp_path: Path) -> None:
    report = run_import(tenant, read_path(tree(tmp_path, many(3))).sources)
    assert report.summary() == "3 new, 0 changed, 0 unchanged, 0 problem(s)"
    tool = Tool.objects.get(tenant=tenant, name="tool_001")
    assert tool.current_version.version == "1.0.0"
    assert tool.current_version.state == "published"
    assert tool.head_version == tool.current_version
    assert set(ToolTag.objects.filter(tool=tool).values_list("name", flat=True)) == {
        "capacity",
        "storage",
    }
    entry = AuditLog.objects.get(tool=tool)
    assert (entry.action, entry.reason) == ("import", "import from linux/tool_001.yaml")


def test_reimporting_the_same_content_changes_nothing(tenant: Tenant, tmp_path: Path) -> None:
    sources = read_path(tree(tmp_path, many(5))).sources
    run_import(tenant, sources)
    audits, versions = AuditLog.objects.count(), ToolVersion.objects.count()
    report = run_import(tenant, sources)
    assert report.summary() == "0 new, 0 changed, 5 unchanged, 0 problem(s)"
    assert (AuditLog.objects.count(), ToolVersion.objects.count()) == (audits, versions)


def test_changed_content_becomes_a_new_version(tenant: Tenant) -> None:
    run_import(tenant, [Source("a.yaml", None, make_definition())])
    changed = make_definition(description="Now sorted by free space.")
    del changed["version"]
    report = run_import(tenant, [Source("a.yaml", None, changed)])
    (item,) = report.items
    assert (item.action, item.previous_version, item.version) == ("changed", "1.0.0", "1.0.1")
    assert item.changes["description"][1] == "Now sorted by free space."
    tool = Tool.objects.get(tenant=tenant)
    assert tool.current_version.version == "1.0.1"
    assert tool.current_version.parent.version == "1.0.0"
    assert tool.description == "Now sorted by free space."


def test_an_edited_export_imports_as_the_next_version(tenant: Tenant) -> None:
    run_import(tenant, [Source("a.yaml", None, make_definition(name="disk_usage"))])
    edited = make_definition(name="disk_usage", version="1.0.0", description="Other words.")
    report = run_import(tenant, [Source("a.yaml", None, edited)])
    (item,) = report.items
    assert (item.action, item.previous_version, item.version) == ("changed", "1.0.0", "1.0.1")
    assert item.note.startswith("will be saved as 1.0.1 (your file said 1.0.0")
    tool = Tool.objects.get(name="disk_usage")
    assert tool.current_version.version == "1.0.1"
    assert tool.current_version.description == "Other words."


def test_an_edited_export_shows_its_new_version_in_the_preview(
    client: Any, editor: Any, tenant: Tenant
) -> None:
    run_import(tenant, [Source("a.yaml", None, make_definition(name="disk_usage"))])
    exported = dump_yaml(export_definitions(tenant, Tool.objects.for_tenant(tenant)))
    assert "version: 1.0.0" in exported
    edited = exported.replace("Report disk usage", "Report the disk usage")
    client.force_login(editor)
    upload = SimpleUploadedFile("export.yaml", edited.encode(), content_type="application/yaml")
    response = client.post("/import/", {"uploads": [upload]})
    assert response.status_code == 302, response.content.decode()[:3000]
    page = client.get(response.url).content.decode()
    assert "will be saved as 1.0.1 (your file said 1.0.0" in page
    assert "0 new, 1 changed, 0 unchanged, 0 problems" in page


def test_tool_fields_change_without_a_new_version(tenant: Tenant) -> None:
    run_import(tenant, [Source("a.yaml", None, make_definition())])
    report = run_import(tenant, [Source("a.yaml", None, make_definition(status="deprecated"))])
    assert report.items[0].changes == {"status": ["active", "deprecated"]}
    assert ToolVersion.objects.count() == 1
    assert Tool.objects.get().status == "deprecated"


def test_a_bad_file_among_a_hundred_good_ones_changes_nothing(
    tenant: Tenant, tmp_path: Path
) -> None:
    tree(tmp_path, many(100))
    bad = make_definition(name="tool_bad", script="def main(:\n")
    (tmp_path / "linux" / "tool_bad.yaml").write_text(dump_yaml([bad]))
    read = read_path(tmp_path)
    with pytest.raises(services.ImportFailed) as exc:
        run_import(tenant, read.sources, problems=read.problems)
    (problem,) = exc.value.report.problems
    assert (problem.file, problem.path) == ("linux/tool_bad.yaml", "script")
    assert problem.message.startswith("has a syntax error at line 1")
    assert not Tool.objects.exists()
    assert not AuditLog.objects.exists()


def test_every_problem_is_reported_before_anything_changes(tenant: Tenant) -> None:
    sources = [
        Source("a.yaml", None, make_definition(name="Bad Name")),
        Source("b.yaml", None, make_definition(name="ok_one")),
        Source("c.yaml", 1, make_definition(name="ok_one")),
        Source("d.yaml", None, make_definition(name="expr", capabilities=[])),
    ]
    sources[3].data["input_schema"] = {"type": "array"}
    with pytest.raises(services.ImportFailed) as exc:
        run_import(tenant, sources)
    assert [(p.file, p.path) for p in exc.value.report.problems] == [
        ("a.yaml", "name"),
        ("c.yaml#2", "name"),
        ("d.yaml", "input_schema.type"),
    ]
    assert "also defined in b.yaml" in exc.value.report.problems[1].message
    assert not Tool.objects.exists()


def test_a_dry_run_reports_and_writes_nothing(tenant: Tenant) -> None:
    report = run_import(tenant, [Source("a.yaml", None, make_definition())], dry_run=True)
    assert report.summary() == "1 new, 0 changed, 0 unchanged, 0 problem(s)"
    assert not Tool.objects.exists()


def test_import_does_not_touch_other_tenants(tenant: Tenant, other_tenant: Tenant) -> None:
    run_import(other_tenant, [Source("a.yaml", None, make_definition())])
    report = run_import(tenant, [Source("a.yaml", None, make_definition())])
    assert report.items[0].action == "new"
    assert Tool.objects.filter(name="disk_usage").count() == 2


def test_viewers_cannot_import(tenant: Tenant, viewer: Any) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.import_definitions(tenant, [], actor=viewer)


# -- export and the round trip -----------------------------------------------------------


def test_export_then_import_into_an_empty_tenant_reproduces_the_catalog(
    tenant: Tenant, other_tenant: Tenant, tmp_path: Path
) -> None:
    read = read_path(SAMPLE)
    run_import(tenant, read.sources, problems=read.problems)
    first = Tool.objects.get(tenant=tenant, name=read.sources[0].data["name"])
    services.disable_tool(first, actor=None)
    services.archive_tool(
        Tool.objects.get(tenant=tenant, name=read.sources[1].data["name"]), actor=None
    )
    write_tree(export_definitions(tenant), tmp_path / "export")

    report = run_import(other_tenant, read_path(tmp_path / "export").sources)

    assert report.count("new") == len(read.sources)
    assert snapshot(other_tenant) == snapshot(tenant)
    assert not Tool.objects.get(tenant=other_tenant, name=first.name).enabled
    assert Tool.objects.for_tenant(other_tenant).live().count() == len(read.sources) - 1


def test_export_writes_readable_yaml_with_block_scripts(tenant: Tenant, tmp_path: Path) -> None:
    run_import(tenant, [Source("a.yaml", None, make_definition())])
    write_tree(export_definitions(tenant), tmp_path)
    text = (tmp_path / "linux" / "disk_usage.yaml").read_text()
    assert text.startswith("name: disk_usage\nversion: 1.0.0\n")
    assert "script: |\n  def main(threshold_pct: int = 80) -> dict:" in text


# -- the commands ------------------------------------------------------------------------


def test_import_command_creates_the_tenant_and_reports(tmp_path: Path, capsys: Any) -> None:
    tree(tmp_path, many(2))
    call_command("import_tools", str(tmp_path), "--tenant", "newco")
    assert Tool.objects.filter(tenant__slug="newco").count() == 2
    assert "Imported: 2 new, 0 changed, 0 unchanged, 0 problem(s)." in capsys.readouterr().out


def test_import_command_dry_run_changes_nothing(tmp_path: Path, capsys: Any) -> None:
    tree(tmp_path, many(2))
    call_command("import_tools", str(tmp_path), "--dry-run", "--tenant", "newco")
    assert not Tenant.objects.filter(slug="newco").exists()
    assert "Dry run: would import: 2 new" in capsys.readouterr().out


def test_import_command_fails_with_every_problem(
    tenant: Tenant, tmp_path: Path, capsys: Any
) -> None:
    tree(tmp_path, many(2))
    (tmp_path / "broken.yaml").write_text("name: [\n")
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("import_tools", str(tmp_path), "--tenant", "acme")
    assert "broken.yaml: is not valid YAML" in capsys.readouterr().err
    assert not Tool.objects.exists()


def test_export_command_writes_the_tree(tenant: Tenant, tmp_path: Path) -> None:
    run_import(tenant, [Source("a.yaml", None, make_definition())])
    call_command("export_tools", str(tmp_path / "out"), "--tenant", "acme", "--format", "json")
    data = json.loads((tmp_path / "out" / "linux" / "disk_usage.json").read_text())
    assert data["name"] == "disk_usage"


def test_export_command_refuses_an_unknown_tenant(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No tenant called 'nope'"):
        call_command("export_tools", str(tmp_path), "--tenant", "nope")


def test_import_publishes_over_a_tool_that_only_has_a_draft(tenant: Tenant) -> None:
    draft_only = services.create_tool(tenant, definition=make_definition(), actor=None)
    changed = make_definition(description="Imported.")
    del changed["version"]
    report = run_import(tenant, [Source("a.yaml", None, changed)])
    assert (report.items[0].action, report.items[0].version) == ("changed", "1.0.1")
    tool = Tool.objects.get(pk=draft_only.pk)
    assert tool.current_version.description == "Imported."


def test_a_new_version_of_the_same_content_is_made_when_asked(tenant: Tenant) -> None:
    run_import(tenant, [Source("a.yaml", None, make_definition())])
    report = run_import(tenant, [Source("a.yaml", None, make_definition(version="1.1.0"))])
    assert (report.items[0].action, report.items[0].changes) == (
        "changed",
        {"version": ["1.0.0", "1.1.0"]},
    )


def test_a_large_tree_read_in_parallel_gives_the_same_result(
    tmp_path: Path, monkeypatch: Any
) -> None:
    tree(tmp_path, many(6))
    (tmp_path / "broken.yaml").write_text("name: [\n")
    serial = read_path(tmp_path)
    monkeypatch.setattr("catalog.formats.files.PARALLEL_FROM", 2)
    parallel = read_path(tmp_path)
    assert parallel == serial
    assert len(parallel.sources) == 6
    assert len(parallel.problems) == 1


def test_the_import_command_pauses_the_collector_and_restores_it(tmp_path: Path) -> None:
    import gc

    from catalog.database import collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    tree(tmp_path, many(1))
    call_command("import_tools", str(tmp_path), "--tenant", "newco")
    assert gc.isenabled()


def test_catalog_statistics_can_be_refreshed_after_a_bulk_import(tenant: Tenant) -> None:
    from catalog.database import analyze_catalog

    run_import(tenant, [Source("a.yaml", None, make_definition())])
    analyze_catalog()  # ANALYZE on PostgreSQL, nothing to do on SQLite
    assert Tool.objects.filter(tenant=tenant).count() == 1


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    import time

    from catalog.formats.files import parse_text

    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    started = time.perf_counter()
    result = parse_text("\n".join(lines) + "\n", "bomb.yaml")
    assert time.perf_counter() - started < 2
    assert not result.sources
    assert "expand to far more data" in result.problems[0].message
