"""In the browser: one save of the editor shows every problem at once, each at its field
(the form's own and the definition's), and required fields say so before anything; an
import's preview shows every problem of every tool at once, each naming its tool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from catalog.formats.files import dump_yaml
from catalog.models import Tool
from tests.browser.conftest import Shot, sign_in
from tests.factories import make_definition


def test_the_editor_shows_every_problem_in_one_round(page: Page, editor: Any, shot: Shot) -> None:
    sign_in(page, editor.username)
    page.goto("/tools/new/")
    about = page.locator("#section-about")
    expect(about.get_by_text("(required)").first).to_be_visible()
    about.get_by_label("Name").fill("Disk Usage!")
    about.get_by_label("Category").fill("Not a category")
    page.locator("#id_runtime_kind").select_option("script")
    page.locator("#id_script").fill("def main(path:\n    return 1\n")
    page.locator("#section-save").get_by_role("button", name="Save draft").click()

    summary = page.get_by_role("heading", name="Nothing was saved: 4 problems to fix")
    expect(summary).to_be_visible()
    for field, words in (
        ("id_name", "is not a valid tool name"),
        ("id_description", "This field is required"),
        ("id_category", "is not a valid category"),
        ("id_script", "syntax error at line 1"),
    ):
        expect(page.locator(f"#{field}-errors")).to_contain_text(words)
    shot(page, "four-problems-at-once")
    assert not Tool.objects.exists()


def test_the_import_preview_shows_every_problem_of_every_tool_at_once(
    page: Page, editor: Any, shot: Shot, tmp_path: Path
) -> None:
    first = make_definition(
        name="first_tool",
        category="Not A Category",
        script="def main(:\n",
        runtime={"kind": "script", "timeout_s": 30, "memory_mb": 256, "network": False},
    )
    del first["description"]
    second = make_definition(name="second_tool")
    second["capabilities"][0]["patterns"][0]["time_estimate_ms"] = "1 +* N"
    second["input_schema"]["properties"]["threshold_pct"]["type"] = "percent"
    path = tmp_path / "two.yaml"
    path.write_text(dump_yaml([first, second]), encoding="utf-8")

    sign_in(page, editor.username)
    page.goto("/import/")
    page.get_by_label("Definition files").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and preview").click()

    problems = page.locator(".import-problems")
    for tool, field in (
        ("first_tool", "description"),
        ("first_tool", "category"),
        ("first_tool", "script"),
        ("second_tool", "time_estimate_ms"),
        ("second_tool", "input_schema"),
    ):
        expect(
            problems.get_by_role("row").filter(has_text=tool).filter(has_text=field).first
        ).to_be_visible()
    shot(page, "import-problems-at-once")
    assert not Tool.objects.exists()
