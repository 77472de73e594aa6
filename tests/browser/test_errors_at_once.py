"""In the browser: one save of the editor shows every problem at once, each at its field
(the form's own and the definition's), and required fields say so before anything."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from catalog.models import Tool
from tests.browser.conftest import Shot, sign_in


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
