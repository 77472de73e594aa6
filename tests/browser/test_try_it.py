"""Trying a tool in the browser: from its page to the form, a mistake shown next to its
field, then a run whose result appears below the form."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from catalog.models import Tenant
from tests.browser.conftest import Shot, sign_in
from tests.planner.test_try_it_lists import make_tool as make_list_tool
from tests.planner.test_try_it_page import make_tool


@pytest.mark.usefixtures("eager_runs")  # the run happens in the request
def test_an_admin_tries_a_script_tool_and_sees_its_result(
    page: Page, tenant: Tenant, admin: Any, shot: Shot
) -> None:
    make_tool(tenant)
    sign_in(page, admin.username)

    page.goto("/tools/disk_usage/")
    page.get_by_role("main").get_by_role("link", name="Try it").click()
    expect(page.get_by_role("heading", name="Try disk_usage", level=1)).to_be_visible()
    expect(page.get_by_label("Threshold pct")).to_have_value("80")
    expect(page.get_by_text("Fill in the inputs and press")).to_be_visible()
    shot(page, "form")

    # A host name the schema does not allow: the error is next to the field.
    form = page.locator("form.try-form")
    page.get_by_label("Host name").fill("Not A Host!")
    form.get_by_role("button", name="Run disk_usage").click()
    expect(page.locator("#id_arg-host-errors")).to_contain_text(
        "use only lower-case letters, digits"
    )
    expect(page.get_by_label("Host name")).to_have_value("Not A Host!")
    expect(page.locator("#try-running")).to_have_css("opacity", "0")  # not running now
    shot(page, "error-next-to-field")

    page.get_by_label("Host name").fill("web1")
    page.get_by_label("Threshold pct").fill("90")
    form.get_by_role("button", name="Run disk_usage").click()
    result = page.locator("#try-result")
    expect(result).to_contain_text("web1")
    expect(result).to_contain_text("90")
    expect(page.get_by_role("link", name="Open the run's page")).to_be_visible()
    expect(page.locator("#try-running")).to_have_css("opacity", "0")
    shot(page, "result")


@pytest.mark.usefixtures("eager_runs")
def test_lists_are_typed_as_rows_or_as_json_and_bad_items_are_named(
    page: Page, tenant: Tenant, admin: Any, shot: Shot
) -> None:
    make_list_tool(tenant)
    sign_in(page, admin.username)
    page.goto("/tools/list_taker/try/")
    ports = page.get_by_label("Ports, item 1", exact=True)
    expect(ports).to_be_visible()
    expect(page.locator("#id_arg-ports")).to_be_hidden()  # the JSON box waits behind a toggle
    expect(page.get_by_text("for example 1, 2, 3")).to_be_visible()

    ports.fill("22")
    ports_editor = page.locator(".field", has=page.locator("#id_arg-ports"))
    ports_editor.get_by_role("button", name="Add a row").click()
    page.get_by_label("Ports, item 2", exact=True).fill("x")
    ports_editor.get_by_role("button", name="Add a row").click()
    page.get_by_label("Ports, item 3", exact=True).fill("443")
    page.get_by_label("Flags, item 1", exact=True).select_option("no")
    page.get_by_label("Units, item 1", exact=True).select_option("TB")
    shot(page, "rows")

    form = page.locator("form.try-form")
    form.get_by_role("button", name="Run list_taker").click()
    errors = page.locator("#id_arg-ports-errors")
    expect(errors).to_contain_text("item 2: 'x' is not a whole number")
    expect(page.get_by_label("Ports, item 2", exact=True)).to_have_value("x")  # nothing lost
    shot(page, "bad-item-named")

    page.get_by_role("button", name="Remove Ports, item 2").click()
    expect(page.get_by_label("Ports, item 2", exact=True)).to_have_value("443")
    ports_editor.get_by_label("Type as JSON").check()
    expect(page.locator("#id_arg-ports")).to_have_value("[22,443]")
    shot(page, "as-json")
    page.locator("#id_arg-ports").fill("[22, 443, 8080]")
    ports_editor.get_by_label("Type as JSON").uncheck()
    expect(page.get_by_label("Ports, item 3", exact=True)).to_have_value("8080")

    form.get_by_role("button", name="Run list_taker").click()
    result = page.locator("#try-result")
    expect(result).to_contain_text("8080")
    expect(result).to_contain_text("TB")
    shot(page, "result")


def test_a_viewer_sees_list_rows_but_cannot_change_them(
    page: Page, tenant: Tenant, viewer: Any, shot: Shot
) -> None:
    make_list_tool(tenant)
    sign_in(page, viewer.username)
    page.goto("/tools/list_taker/try/")
    expect(page.get_by_label("Tags, item 1", exact=True)).to_have_value("a")
    expect(page.get_by_label("Tags, item 1", exact=True)).to_be_disabled()
    tags = page.locator(".field", has=page.locator("#id_arg-tags"))
    expect(tags.get_by_role("button", name="Add a row")).to_be_disabled()
    shot(page, "viewer")
