"""Importing a public-style tool list in the wizard: names kept, collisions suffixed,
the tools with problems left out when asked, and an edited export as the next version."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from catalog import services
from catalog.formats.files import dump_yaml
from catalog.models import Tool
from catalog.selectors import export_definitions
from tests.browser.conftest import Shot, sign_in
from tests.catalog.public_style import UNREADABLE, public_style_tools
from tests.factories import make_definition


def upload(page: Page, path: Path, *, partial: bool) -> None:
    page.goto("/import/")
    page.get_by_label("Definition files").set_input_files(str(path))
    if partial:
        page.get_by_label("Import the tools without problems, and leave out the others").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and preview").click()


def test_a_public_list_with_two_bad_tools_imports_the_rest_when_asked(
    page: Page, editor: Any, shot: Shot, tmp_path: Path
) -> None:
    path = tmp_path / "public.json"
    path.write_text(json.dumps(public_style_tools(64) + UNREADABLE), encoding="utf-8")
    sign_in(page, editor.username)

    upload(page, path, partial=False)
    errors = page.locator(".field.has-error, .errorlist, [role=alert]").first
    expect(errors).to_contain_text("noDescription")
    shot(page, "refused-without-the-box")

    upload(page, path, partial=True)
    expect(page.get_by_role("heading", name="Review the import", level=1)).to_be_visible()
    expect(page.locator("#import-summary")).to_contain_text("64 new")
    expect(page.get_by_role("heading", name="Left out (2 tools)")).to_be_visible()
    expect(page.locator("#import-outcome")).to_contain_text(
        "2 tools with problems will be left out"
    )
    items = page.locator("#import-items")
    expect(items.get_by_role("row", name=re.compile(r"^noDescription left out"))).to_be_visible()
    expect(items.get_by_role("row", name=re.compile(r"^getWeather0 new"))).to_be_visible()
    warnings = page.get_by_role("region", name=re.compile("Warnings"))
    expect(warnings).to_contain_text("imported as 'calculate_bmi_2'")
    shot(page, "preview-partial")

    page.get_by_role("button", name="Import 64 tools").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    shot(page, "imported")
    assert Tool.objects.filter(name="getWeather0").exists()
    assert Tool.objects.count() == 64


def test_an_edited_export_is_previewed_as_the_next_version(
    page: Page, editor: Any, shot: Shot, tmp_path: Path
) -> None:
    tenant = editor.memberships.first().tenant
    definition = make_definition(name="diskUsage")
    services.create_tool(tenant, definition=definition, actor=editor, publish=True)
    exported = dump_yaml(export_definitions(tenant, Tool.objects.for_tenant(tenant)))
    path = tmp_path / "export.yaml"
    path.write_text(exported.replace("largest first", "biggest first"), encoding="utf-8")
    sign_in(page, editor.username)

    upload(page, path, partial=False)
    row = page.locator("#import-items").get_by_role("row", name=re.compile(r"^diskUsage changed"))
    expect(row).to_contain_text("will be saved as 1.0.1 (your file said 1.0.0")
    expect(page.get_by_role("heading", name="Ready to import")).to_be_visible()
    shot(page, "edited-export")
