"""A new admin's first hour, in the browser: sign in, build a tool with the visual
parameter builder, publish, edit, roll back, import the sample catalog, filter the list
and find every change in the audit log."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import REPO, Shot, sign_in

SAMPLE_CATALOG = REPO / "catalog" / "sample_catalog"
SAMPLE_FILES = sorted(SAMPLE_CATALOG.rglob("*.yaml"))  # one tool per file
TOOL = "backup_freshness"


def sample_catalog_zip(folder: Path) -> Path:
    """The sample catalog as a zip of its folder tree, as an admin would upload it."""
    path = folder / "sample_catalog.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in SAMPLE_FILES:
            archive.write(file, file.relative_to(SAMPLE_CATALOG).as_posix())
    return path


def fill_parameter(row: Locator, name: str, kind: str, *, required: bool, description: str) -> None:
    row.get_by_label("Name").fill(name)
    row.get_by_label("Type").select_option(kind)
    row.get_by_label("Required").set_checked(required)
    row.get_by_label("Description").fill(description)


def confirm_dialog(page: Page, title: str | re.Pattern[str], reason: str, button: str) -> None:
    """Fill the reason in an open dialog and press its confirming button."""
    dialog = page.get_by_role("dialog", name=title)
    expect(dialog).to_be_visible()
    dialog.get_by_label("Why?").fill(reason)
    with page.expect_navigation():
        dialog.get_by_role("button", name=button).click()


def test_a_new_admin_builds_publishes_edits_rolls_back_imports_and_audits(
    page: Page, admin: Any, shot: Shot, tmp_path: Path
) -> None:
    messages = page.locator("#messages")
    main = page.get_by_role("main")

    # Sign in and land on the dashboard.
    sign_in(page, admin.username)
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    shot(page, "dashboard-empty")

    # Create a tool with two parameters through the visual builder.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tools").click()
    expect(page.get_by_role("heading", name="Tools", level=1)).to_be_visible()
    shot(page, "tool-list-empty")
    page.get_by_role("link", name="+ New tool").first.click()
    expect(page.get_by_role("heading", name="New tool", level=1)).to_be_visible()

    about = page.locator("#section-about")
    about.get_by_label("Name").fill(TOOL)
    about.get_by_label("Description").fill(
        "Check that last night's backups finished and are recent enough."
    )
    about.get_by_label("Platform").select_option("linux")
    about.get_by_label("Category").fill("monitoring")

    inputs = page.locator("#section-inputs")
    add_parameter = inputs.get_by_role("button", name="+ Add a parameter")
    rows = inputs.locator("[data-param]")
    add_parameter.click()
    fill_parameter(
        rows.nth(0), "path", "string", required=True, description="Folder that holds the backups."
    )
    add_parameter.click()
    fill_parameter(
        rows.nth(1),
        "max_age_hours",
        "integer",
        required=False,
        description="Oldest acceptable backup, in hours.",
    )
    rows.nth(1).get_by_label("Smallest").fill("1")
    expect(rows).to_have_count(2)
    shot(page, "new-tool-parameters")

    # The advanced tab shows the JSON Schema the rows wrote.
    inputs.get_by_role("tab", name="Advanced: JSON Schema").click()
    schema = inputs.get_by_label("Inputs as JSON Schema")
    expect(schema).to_have_value(re.compile(r'"max_age_hours"'))
    expect(schema).to_have_value(re.compile(r'"required":\s*\[\s*"path"\s*\]'))
    expect(schema).to_have_value(re.compile(r'"minimum":\s*1\b'))
    inputs.get_by_role("tab", name="Parameters").click()

    page.get_by_label("Reason for this change").fill("Our first tool")
    shot(page, "new-tool-filled")
    with page.expect_navigation():
        page.locator("#section-save").get_by_role("button", name="Save draft").click()

    expect(page).to_have_url(re.compile(rf"/tools/{TOOL}/$"))
    expect(messages).to_contain_text(f"Created '{TOOL}' as draft version 1.0.0")
    expect(page.get_by_role("heading", name=TOOL, level=1)).to_be_visible()
    parameters = main.get_by_role("region", name="Inputs")
    expect(parameters.get_by_role("row", name=re.compile(r"^path text required"))).to_be_visible()
    expect(
        parameters.get_by_role("row", name=re.compile(r"^max_age_hours .* optional"))
    ).to_be_visible()
    shot(page, "created-draft")

    # Publish it, with a reason.
    page.locator(".draft-banner").get_by_role("button", name="Publish").click()
    shot(page, "publish-dialog")
    confirm_dialog(page, "Publish version 1.0.0?", "Ready for the agents", "Publish 1.0.0")
    expect(messages).to_contain_text("1.0.0")
    expect(main.get_by_text("Current version 1.0.0")).to_be_visible()
    shot(page, "published")

    # Edit it: a new description and a changed parameter, saved as a draft, then published.
    main.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", name=f"Edit {TOOL}", level=1)).to_be_visible()
    page.locator("#section-about").get_by_label("Description").fill(
        "Check that the latest backups finished and are no older than allowed."
    )
    inputs = page.locator("#section-inputs")
    age = inputs.locator("[data-param]").nth(1)
    expect(age.get_by_label("Name")).to_have_value("max_age_hours")
    age.get_by_label("Description").fill("Oldest acceptable backup, in hours (default a day).")
    age.get_by_label("Required").check()
    page.get_by_label("Reason for this change").fill("Say what the age limit means")
    shot(page, "edit-changed")
    with page.expect_navigation():
        page.locator("#section-save").get_by_role("button", name="Save draft").click()

    expect(messages).to_contain_text(re.compile(rf"Saved draft version (\S+) of '{TOOL}'"))
    draft = re.search(r"Saved draft version (\S+) of", messages.inner_text())
    assert draft is not None
    new_version = draft.group(1)
    assert new_version != "1.0.0"
    expect(page.locator(".draft-banner")).to_contain_text(f"Draft {new_version}")
    shot(page, "edited-draft")

    page.locator(".draft-banner").get_by_role("button", name="Publish").click()
    confirm_dialog(
        page, f"Publish version {new_version}?", "Clearer wording", f"Publish {new_version}"
    )
    expect(main.get_by_text(f"Current version {new_version}")).to_be_visible()
    expect(main).to_contain_text("no older than allowed")
    shot(page, "edit-published")

    # The two versions side by side: the timeline preselects the last two.
    page.get_by_role("button", name="Compare selected versions").click()
    diff = page.locator("#diff-result")
    expect(diff).to_contain_text(f"1.0.0 → {new_version}")
    expect(diff).to_contain_text("no older than allowed")
    shot(page, "diff")

    # Roll it back to the first version.
    page.locator("#version-1\\.0\\.0").get_by_role("button", name="Roll back to this").click()
    shot(page, "rollback-dialog")
    confirm_dialog(
        page, "Roll back to version 1.0.0?", "The new wording confused people", "Roll back to 1.0.0"
    )
    expect(main.get_by_text("Current version 1.0.0")).to_be_visible()
    expect(main).to_contain_text("last night's backups")
    shot(page, "rolled-back")

    # Import the sample catalog through the wizard.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import tools", level=1)).to_be_visible()
    page.get_by_label("Definition files").set_input_files(sample_catalog_zip(tmp_path))
    page.get_by_label("Reason").fill("Start from the sample catalog")
    shot(page, "import-upload")
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", name="Review the import", level=1)).to_be_visible()
    expect(page.locator(".import-counts")).to_contain_text(f"{len(SAMPLE_FILES)}")
    items = page.locator("#import-items")
    expect(items.get_by_role("row", name=re.compile(r"^disk_usage new"))).to_be_visible()
    expect(page.get_by_role("heading", name="Ready to import")).to_be_visible()
    shot(page, "import-preview")
    page.get_by_role("button", name=f"Import {len(SAMPLE_FILES)} tools").click()
    outcome = page.locator("#import-outcome")
    expect(outcome.get_by_role("heading", name="Imported")).to_be_visible(timeout=30_000)
    expect(outcome).to_contain_text(f"{len(SAMPLE_FILES)} new")
    shot(page, "import-done")

    # Filter the list: live search, then a platform.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tools").click()
    tool_rows = page.locator("#tool-rows")
    expect(tool_rows).to_contain_text(f"{len(SAMPLE_FILES) + 1} tools")
    page.get_by_role("searchbox", name="Search").press_sequentially("disk", delay=30)
    expect(page).to_have_url(re.compile(r"[?&]q=disk"))
    expect(tool_rows.get_by_role("link", name="disk_usage", exact=True)).to_be_visible()
    expect(tool_rows.get_by_role("link", name="windows_disk_space", exact=True)).to_be_visible()
    expect(tool_rows.get_by_role("link", name="ping_host", exact=True)).to_have_count(0)
    shot(page, "list-searched")
    page.get_by_role("combobox", name="Platform").select_option("linux")
    expect(page).to_have_url(re.compile(r"[?&]platform=linux"))
    expect(tool_rows.get_by_role("link", name="windows_disk_space", exact=True)).to_have_count(0)
    expect(tool_rows.get_by_role("link", name="disk_usage", exact=True)).to_be_visible()
    for platform in tool_rows.locator("tbody td.col-platform").all_inner_texts():
        assert platform == "Linux"
    shot(page, "list-filtered")

    # Find each change in the audit log.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    shot(page, "audit-all")
    results = page.locator("#audit-results")
    page.get_by_role("searchbox", name="Tool").fill(TOOL)
    expect(results).to_contain_text("5 entries match")
    for action, reason in [
        ("Created", "Our first tool"),
        ("Published", "Ready for the agents"),
        ("Edited", "Say what the age limit means"),
        ("Published", "Clearer wording"),
        ("Rolled back", "The new wording confused people"),
    ]:
        expect(
            results.get_by_role("row").filter(has_text=action).filter(has_text=reason)
        ).to_have_count(1)
    shot(page, "audit-tool")

    page.get_by_role("searchbox", name="Tool").fill("disk_usage")
    expect(results).to_contain_text("1 entry matches")
    imported = results.get_by_role("row").filter(has_text="Imported")
    expect(imported).to_contain_text("Start from the sample catalog")
    shot(page, "audit-import")

    # One entry on its own page, and the dashboard now that the catalog is full.
    with page.expect_navigation():
        imported.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("imported disk_usage")
    shot(page, "audit-entry")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="By platform")).to_be_visible()
    shot(page, "dashboard-full")
