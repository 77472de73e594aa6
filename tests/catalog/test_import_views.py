"""The import wizard: upload, preview (new / changed / unchanged / problems), apply with
progress, and every way an upload can be refused with nothing saved."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.formats.files import Source, dump_yaml, read_path, write_tree
from catalog.formats.uploads import StagedImport
from catalog.models import AuditAction, AuditLog, Tenant, Tool, ToolVersion
from catalog.services import importing
from tests.factories import make_definition

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "catalog" / "sample_catalog"
UPLOAD = "/import/"


@pytest.fixture(autouse=True)
def own_cache(settings: Any) -> None:
    """Each test stages its uploads in a fresh in-memory cache."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


def yaml_file(name: str, *definitions: dict[str, Any]) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, dump_yaml(definitions).encode())


def zip_file(name: str, members: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in members.items():
            archive.writestr(path, content)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def tree_zip(root: Path, definitions: list[dict[str, Any]]) -> SimpleUploadedFile:
    write_tree(definitions, root)
    return zip_file(
        "export.zip",
        {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()},
    )


def upload(client: Client, *files: SimpleUploadedFile, reason: str = "") -> Any:
    return client.post(UPLOAD, {"uploads": list(files), "reason": reason})


def token_of(response: Any) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return str(response.url.rstrip("/").split("/")[-1])


def preview_url(token: str) -> str:
    return reverse("catalog:import_preview", args=[token])


def apply_url(token: str) -> str:
    return reverse("catalog:import_apply", args=[token])


def progress_url(token: str) -> str:
    return reverse("catalog:import_progress", args=[token])


def counts(tenant: Tenant) -> tuple[int, int, int]:
    return (
        Tool.objects.for_tenant(tenant).count(),
        ToolVersion.objects.filter(tool__tenant=tenant).count(),
        AuditLog.objects.filter(tenant=tenant).count(),
    )


def stage(client: Client, *files: SimpleUploadedFile, reason: str = "") -> str:
    return token_of(upload(client, *files, reason=reason))


def import_now(tenant: Tenant, *definitions: dict[str, Any]) -> None:
    sources = [Source(f"{d['name']}.yaml", None, d) for d in definitions]
    services.import_definitions(tenant, sources, actor=None)


@pytest.fixture
def as_editor(client: Client, editor: Any) -> Client:
    client.force_login(editor)
    return client


# -- who may use it --------------------------------------------------------------------


def test_editor_sees_the_upload_form(as_editor: Client) -> None:
    response = as_editor.get(UPLOAD)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="file"' in page and "multiple" in page
    assert "Upload and preview" in page
    assert "imports.js" in page


def test_viewer_and_operator_get_403_on_every_step(
    client: Client, viewer: Any, operator: Any
) -> None:
    for user in (viewer, operator):
        client.force_login(user)
        token = "a" * 32
        assert client.get(UPLOAD).status_code == 403
        assert upload(client, yaml_file("a.yaml", make_definition(name="a"))).status_code == 403
        assert client.get(preview_url(token)).status_code == 403
        assert client.post(apply_url(token)).status_code == 403
        assert client.get(progress_url(token)).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(UPLOAD)
    assert response.status_code == 302
    assert "login" in response.url


# -- the preview -----------------------------------------------------------------------


def test_uploading_yaml_lists_every_tool_as_new(as_editor: Client, tenant: Tenant) -> None:
    token = stage(
        as_editor,
        yaml_file("net.yaml", make_definition(name="ping"), make_definition(name="trace")),
        yaml_file("disk.yaml", make_definition(name="disk_usage")),
    )
    page = as_editor.get(preview_url(token)).content.decode()
    assert "3 new, 0 changed, 0 unchanged, 0 problems" in page
    for name in ("ping", "trace", "disk_usage"):
        assert name in page
    assert page.count("badge badge-new") >= 3
    assert "net.yaml#1" in page and "disk.yaml" in page
    assert "Import 3 tools" in page
    assert counts(tenant) == (0, 0, 0)


def test_uploading_the_same_tools_again_shows_them_unchanged_with_nothing_to_import(
    as_editor: Client, tenant: Tenant
) -> None:
    definition = make_definition(name="ping")
    import_now(tenant, definition)
    page = as_editor.get(preview_url(stage(as_editor, yaml_file("p.yaml", definition))))
    text = page.content.decode()
    assert "0 new, 0 changed, 1 unchanged, 0 problems" in text
    assert "badge badge-unchanged" in text
    assert "Nothing to import" in text
    assert "import_apply" not in text and "/apply/" not in text


def test_a_changed_tool_shows_its_versions_and_field_diff(
    as_editor: Client, tenant: Tenant
) -> None:
    import_now(tenant, make_definition(name="ping"), make_definition(name="keep"))
    changed = make_definition(name="ping", version="1.1.0", description="Ping, now faster.")
    token = stage(as_editor, yaml_file("p.yaml", changed, make_definition(name="keep")))
    page = as_editor.get(preview_url(token)).content.decode()
    assert "0 new, 1 changed, 1 unchanged, 0 problems" in page
    assert "1.0.0 →</span> 1.1.0" in page
    assert "<details>" in page and "What changes in ping" in page
    assert 'class="path">description</span>' in page
    assert "Ping, now faster." in page
    assert "Import 1 tool<" in page


def test_the_tool_table_filters_by_what_happens_as_an_htmx_fragment(
    as_editor: Client, tenant: Tenant
) -> None:
    import_now(tenant, make_definition(name="old"))
    token = stage(
        as_editor, yaml_file("t.yaml", make_definition(name="old"), make_definition(name="fresh"))
    )
    response = as_editor.get(preview_url(token), {"show": "new"}, HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<section id="import-items"')
    assert "fresh" in fragment and ">old<" not in fragment
    bad = as_editor.get(preview_url(token), {"show": "<script>", "page": "x"})
    assert bad.status_code == 200


def test_preview_lists_many_tools_a_page_at_a_time(as_editor: Client) -> None:
    definitions = [make_definition(name=f"tool_{i:03d}") for i in range(120)]
    token = stage(as_editor, yaml_file("many.yaml", *definitions))
    first = as_editor.get(preview_url(token)).content.decode()
    assert "tool_099" in first and "tool_100" not in first
    assert "Page 1 of 2" in first and "Import 120 tools" in first
    second = as_editor.get(preview_url(token), {"show": "all", "page": 2}).content.decode()
    assert "tool_119" in second


# -- bad files: errors by file and field, nothing saved ---------------------------------


def test_a_yaml_syntax_error_is_shown_at_the_upload_field_with_file_and_line(
    as_editor: Client, tenant: Tenant
) -> None:
    before = counts(tenant)
    broken = SimpleUploadedFile("broken.yaml", b"name: a\n  description: [unclosed\n")
    response = upload(as_editor, yaml_file("good.yaml", make_definition(name="ok")), broken)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="field has-error"' in page
    assert "broken.yaml: is not valid YAML: line 2" in page
    assert 'id="id_uploads-errors"' in page
    assert counts(tenant) == before


def test_a_file_nested_too_deep_is_refused_at_the_upload_field(
    as_editor: Client, tenant: Tenant
) -> None:
    before = counts(tenant)
    deep = SimpleUploadedFile("deep.json", b"[" * 50_000 + b"]" * 50_000)
    response = upload(as_editor, deep)
    assert response.status_code == 200
    assert "deep.json: is nested too deep (at most 64 levels" in response.content.decode()
    assert counts(tenant) == before


def test_a_schema_error_in_one_file_among_good_ones_is_listed_with_file_and_field(
    as_editor: Client, tenant: Tenant
) -> None:
    before = counts(tenant)
    bad = make_definition(name="bad_tool")
    bad["input_schema"]["properties"]["threshold_pct"]["type"] = "integr"
    token = stage(
        as_editor,
        yaml_file("good.yaml", make_definition(name="good_one"), make_definition(name="good_two")),
        yaml_file("bad.yaml", bad),
    )
    page = as_editor.get(preview_url(token)).content.decode()
    assert "2 new, 0 changed, 0 unchanged, 1 problem" in page
    assert "Fix these and upload again; nothing has been changed." in page
    assert "bad.yaml" in page and "input_schema.properties.threshold_pct.type" in page
    assert "Import 2 tools" not in page and "/apply/" not in page
    # Even a forged confirmation saves nothing.
    response = as_editor.post(apply_url(token), HTTP_HX_REQUEST="true")
    assert "Nothing was imported" in response.content.decode()
    assert counts(tenant) == before


def test_a_file_of_the_wrong_kind_or_too_big_is_refused_at_the_upload_field(
    as_editor: Client, settings: Any
) -> None:
    notes = SimpleUploadedFile("notes.txt", b"hello")
    page = upload(as_editor, notes).content.decode()
    assert "notes.txt: is not a .yaml, .yml, .json or .zip file" in page
    huge = SimpleUploadedFile("huge.yaml", b"#" * (5 * 1024 * 1024 + 1))
    assert "huge.yaml: is larger than 5 MB" in upload(as_editor, huge).content.decode()
    assert "Choose at least one file" in as_editor.post(UPLOAD, {}).content.decode()


def test_a_file_that_is_not_a_zip_is_refused(as_editor: Client) -> None:
    fake = SimpleUploadedFile("tools.zip", b"this is not a zip")
    page = upload(as_editor, fake).content.decode()
    assert "tools.zip: is not a zip file, or it is damaged" in page


# -- zips -------------------------------------------------------------------------------


def test_a_zip_of_an_exported_tree_is_previewed_with_member_paths(
    as_editor: Client, tmp_path: Path
) -> None:
    archive = tree_zip(
        tmp_path,
        [make_definition(name="ping", platform="network"), make_definition(name="df")],
    )
    with zipfile.ZipFile(archive.file, "a") as extra:
        extra.writestr("__MACOSX/linux/._df.yaml", b"\x00\x01junk")
        extra.writestr(".hidden/secret.yaml", b"not: [valid")
        extra.writestr("README.md", b"# readme")
        extra.writestr("linux/", b"")
    archive = SimpleUploadedFile("export.zip", archive.file.getvalue())
    page = as_editor.get(preview_url(stage(as_editor, archive))).content.decode()
    assert "2 new, 0 changed, 0 unchanged, 0 problems" in page
    assert "network/ping.yaml" in page and "linux/df.yaml" in page


def test_a_bad_member_of_a_zip_is_named_by_its_path_and_line(as_editor: Client) -> None:
    archive = zip_file("export.zip", {"linux/broken.yaml": b"name: [a\n"})
    page = upload(as_editor, archive).content.decode()
    assert "linux/broken.yaml: is not valid YAML: line 2" in page


def test_a_zip_with_too_many_entries_is_refused(as_editor: Client, settings: Any) -> None:
    settings.QUIVER_IMPORT_MAX_FILES = 5
    members = {
        f"linux/t{i}.yaml": dump_yaml([make_definition(name=f"t{i}")]).encode() for i in range(6)
    }
    page = upload(as_editor, zip_file("many.zip", members)).content.decode()
    assert "many.zip: holds 6 entries; at most 5 are accepted" in page


def test_a_zip_bomb_is_refused_before_it_is_unpacked(as_editor: Client) -> None:
    bomb = zip_file("bomb.zip", {"linux/bomb.yaml": b"#" * (4 * 1024 * 1024)})
    page = upload(as_editor, bomb).content.decode()
    assert "linux/bomb.yaml: is compressed more than 100 to 1" in page


def test_zips_that_unpack_past_the_size_limits_are_refused(
    as_editor: Client, settings: Any
) -> None:
    big_member = zip_file("big.zip", {"linux/big.yaml": b"#" * (6 * 1024 * 1024)})
    assert "linux/big.yaml: is larger than 5 MB" in upload(as_editor, big_member).content.decode()
    settings.QUIVER_IMPORT_MAX_BYTES = 10_000
    members = {
        f"linux/t{i}.yaml": dump_yaml([make_definition(name=f"t{i}")]).encode() for i in range(9)
    }
    page = upload(as_editor, zip_file("tree.zip", members)).content.decode()
    assert "tree.zip: would unpack to" in page and "the limit for one upload is" in page


# -- applying ---------------------------------------------------------------------------


def test_applying_creates_the_tools_and_import_audit_rows_with_the_reason(
    as_editor: Client, tenant: Tenant, editor: Any
) -> None:
    token = stage(
        as_editor,
        yaml_file("t.yaml", make_definition(name="ping"), make_definition(name="trace")),
        reason="quarterly refresh",
    )
    response = as_editor.post(apply_url(token), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "Imported" in fragment and "2 new, 0 changed, 0 unchanged" in fragment
    assert reverse("catalog:tool_list") in fragment and reverse("catalog:audit_list") in fragment
    assert 'hx-swap-oob="true"' in fragment and "Imported 2 tools" in fragment
    assert sorted(Tool.objects.for_tenant(tenant).values_list("name", flat=True)) == [
        "ping",
        "trace",
    ]
    entries = AuditLog.objects.filter(tenant=tenant, action=AuditAction.IMPORT)
    assert entries.count() == 2
    assert {e.reason for e in entries} == {"quarterly refresh"}
    assert {e.actor for e in entries} == {editor}


def test_applying_without_htmx_redirects_to_the_result(as_editor: Client, tenant: Tenant) -> None:
    token = stage(as_editor, yaml_file("t.yaml", make_definition(name="ping")))
    response = as_editor.post(apply_url(token))
    assert response.status_code == 302 and response.url == preview_url(token)
    page = as_editor.get(preview_url(token)).content.decode()
    assert "Imported 1 tool" in page  # the success message
    assert "See the audit log" in page and "/apply/" not in page
    assert Tool.objects.for_tenant(tenant).count() == 1


def test_a_changed_tool_is_applied_as_a_new_published_version(
    as_editor: Client, tenant: Tenant
) -> None:
    import_now(tenant, make_definition(name="ping"))
    changed = make_definition(name="ping", version="1.1.0", description="Ping, now faster.")
    token = stage(as_editor, yaml_file("p.yaml", changed))
    as_editor.post(apply_url(token), HTTP_HX_REQUEST="true")
    tool = Tool.objects.for_tenant(tenant).get(name="ping")
    assert tool.current_version is not None and tool.current_version.version == "1.1.0"
    assert tool.description == "Ping, now faster."


def test_a_second_apply_says_it_was_already_applied_and_imports_once(
    as_editor: Client, tenant: Tenant
) -> None:
    token = stage(as_editor, yaml_file("t.yaml", make_definition(name="ping")))
    as_editor.post(apply_url(token), HTTP_HX_REQUEST="true")
    after_first = counts(tenant)
    again = as_editor.post(apply_url(token), HTTP_HX_REQUEST="true").content.decode()
    assert "already imported" in again
    assert counts(tenant) == after_first


def test_an_apply_already_running_elsewhere_is_not_started_twice(
    as_editor: Client, tenant: Tenant
) -> None:
    token = stage(as_editor, yaml_file("t.yaml", make_definition(name="ping")))
    staged = StagedImport.find(token)
    assert staged is not None and staged.claim()
    response = as_editor.post(apply_url(token), HTTP_HX_REQUEST="true").content.decode()
    assert "being imported already" in response and 'id="import-progress"' in response
    assert counts(tenant) == (0, 0, 0)


def test_an_unknown_or_expired_upload_asks_to_upload_again(
    as_editor: Client, tenant: Tenant
) -> None:
    missing = "x" * 32
    response = as_editor.post(apply_url(missing), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "This upload is no longer available" in response.content.decode()
    response = as_editor.get(preview_url(missing), follow=True)
    assert response.redirect_chain[-1][0] == UPLOAD
    assert "Please upload the files again" in response.content.decode()
    # Expired: the cache dropped it.
    token = stage(as_editor, yaml_file("t.yaml", make_definition(name="ping")))
    cache.clear()
    response = as_editor.post(apply_url(token), follow=True)
    assert "This upload is no longer available" in response.content.decode()
    assert counts(tenant) == (0, 0, 0)
    assert as_editor.get(preview_url("not-a-token")).status_code == 302


def test_another_users_or_tenants_upload_is_a_404(
    client: Client, editor: Any, admin: Any, outsider: Any, tenant: Tenant
) -> None:
    client.force_login(editor)
    token = stage(client, yaml_file("t.yaml", make_definition(name="ping")))
    for other in (admin, outsider):
        client.force_login(other)
        assert client.get(preview_url(token)).status_code == 404
        assert client.post(apply_url(token), HTTP_HX_REQUEST="true").status_code == 404
        assert client.get(progress_url(token)).status_code == 404
    assert counts(tenant) == (0, 0, 0)


def test_an_apply_refused_because_the_catalog_changed_shows_why_and_saves_nothing(
    as_editor: Client, tenant: Tenant, admin: Any
) -> None:
    token = stage(as_editor, yaml_file("t.yaml", make_definition(name="ping")))
    # Meanwhile an admin imports a ping of their own, which the editor may not change.
    import_now(
        tenant, make_definition(name="ping", description="Admin's ping.", owners=["admin-acme"])
    )
    before = counts(tenant)
    fragment = as_editor.post(apply_url(token), HTTP_HX_REQUEST="true").content.decode()
    assert "Nothing was imported" in fragment
    assert "&#x27;ping&#x27; belongs to admin-acme" in fragment
    assert counts(tenant) == before
    page = as_editor.get(preview_url(token)).content.decode()
    assert "Fix these and upload again; nothing has been changed." in page
    assert "/apply/" not in page


# -- progress ---------------------------------------------------------------------------


def test_progress_reports_the_stage_in_words(as_editor: Client) -> None:
    token = stage(as_editor, yaml_file("t.yaml", make_definition(name="ping")))
    response = as_editor.get(progress_url(token), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Starting" in response.content.decode()
    staged = StagedImport.find(token)
    assert staged is not None
    staged.progress_writer()("writing", 4200, 10000)
    fragment = as_editor.get(progress_url(token), HTTP_HX_REQUEST="true").content.decode()
    assert "Writing 4,200 of 10,000 tools" in fragment
    assert 'hx-trigger="every 500ms"' in fragment
    assert '<progress max="100" value="71">' in fragment


def test_progress_stops_polling_once_the_import_is_done(as_editor: Client) -> None:
    token = stage(as_editor, yaml_file("t.yaml", make_definition(name="ping")))
    as_editor.post(apply_url(token), HTTP_HX_REQUEST="true")
    response = as_editor.get(progress_url(token), HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert "Done." in response.content.decode()
    assert "hx-trigger" not in response.content.decode()


def test_the_import_service_reports_each_stage_and_writes_in_rounds(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "WRITE_BATCH", 2)
    import_now(tenant, make_definition(name="t0"))
    seen: list[tuple[str, int, int]] = []
    definitions = [
        make_definition(name=f"t{i}", version="1.1.0", description=f"Tool {i}.") for i in range(5)
    ]
    sources = [Source(f"t{i}.yaml", None, d) for i, d in enumerate(definitions)]
    report = services.import_definitions(
        tenant, sources, actor=None, progress=lambda *step: seen.append(step)
    )
    assert report.summary() == "4 new, 1 changed, 0 unchanged, 0 problem(s)"
    assert seen[0] == ("checking", 0, 5) and ("checking", 5, 5) in seen
    assert ("comparing", 0, 5) in seen
    assert [s for s in seen if s[0] == "writing"] == [
        ("writing", 0, 5),
        ("writing", 2, 5),
        ("writing", 4, 5),
        ("writing", 5, 5),
    ]
    tools = Tool.objects.for_tenant(tenant).order_by("name")
    assert [t.description for t in tools] == [f"Tool {i}." for i in range(5)]
    assert all(t.current_version is not None for t in tools)
    assert AuditLog.objects.filter(tenant=tenant, action=AuditAction.IMPORT).count() == 6


# -- end to end -------------------------------------------------------------------------


def test_the_sample_catalog_imports_through_the_wizard(
    as_editor: Client, tenant: Tenant, tmp_path: Path
) -> None:
    files = {str(p.relative_to(SAMPLE)): p.read_bytes() for p in SAMPLE.rglob("*") if p.is_file()}
    expected = len(read_path(SAMPLE).sources)
    assert expected == 71
    token = stage(as_editor, zip_file("sample.zip", files), reason="sample catalog")
    page = as_editor.get(preview_url(token)).content.decode()
    assert f"{expected} new, 0 changed, 0 unchanged, 0 problems" in page
    assert f"Import {expected} tools" in page
    response = as_editor.post(apply_url(token), HTTP_HX_REQUEST="true")
    assert f"{expected} new, 0 changed, 0 unchanged" in response.content.decode()
    assert Tool.objects.for_tenant(tenant).count() == expected
    assert AuditLog.objects.filter(tenant=tenant, action=AuditAction.IMPORT).count() == expected
    again = as_editor.get(preview_url(stage(as_editor, zip_file("sample.zip", files))))
    assert f"0 new, 0 changed, {expected} unchanged, 0 problems" in again.content.decode()
