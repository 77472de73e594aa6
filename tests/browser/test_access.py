"""Roles in the browser: a viewer cannot edit, and another tenant's tool stays invisible."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from catalog.models import Tenant
from catalog.services import create_tool
from tests.browser.conftest import Shot, sign_in
from tests.factories import make_definition

CHANGING_ACTIONS = re.compile(
    r"^\s*(Edit|Publish|Roll back|Discard|Enable|Disable|Deprecate|Archive|Mark as)\b",
    re.IGNORECASE,
)


def test_a_viewer_cannot_edit(page: Page, tenant: Tenant, viewer: Any, shot: Shot) -> None:
    create_tool(tenant, definition=make_definition(name="disk_usage"), actor=None, publish=True)
    sign_in(page, viewer.username)

    page.goto("/tools/disk_usage/")
    expect(page.get_by_role("heading", name="disk_usage", level=1)).to_be_visible()
    main = page.get_by_role("main")
    expect(main.get_by_role("button", name=CHANGING_ACTIONS)).to_have_count(0)
    expect(main.get_by_role("link", name=CHANGING_ACTIONS)).to_have_count(0)
    shot(page, "detail-as-viewer")

    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("link", name="Tools").click()
    expect(main.get_by_role("link", name="disk_usage")).to_be_visible()
    expect(main.get_by_role("link", name="+ New tool")).to_have_count(0)
    expect(navigation.get_by_role("link", name="Import")).to_have_count(0)
    shot(page, "list-as-viewer")

    response = page.goto("/tools/disk_usage/edit/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You can't do that here")).to_be_visible()
    shot(page, "editor-refused")


def test_a_user_of_another_tenant_cannot_see_the_tool_even_by_typing_its_url(
    page: Page, tenant: Tenant, other_tenant: Tenant, outsider: Any, shot: Shot
) -> None:
    create_tool(tenant, definition=make_definition(name="disk_usage"), actor=None, publish=True)
    probe = make_definition(name="globex_probe", description="Check that a web service answers.")
    create_tool(other_tenant, definition=probe, actor=None, publish=True)
    sign_in(page, outsider.username)

    for path in ("/tools/disk_usage/", "/tools/disk_usage/edit/"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", name="We couldn't find that page")).to_be_visible()
        expect(page.get_by_role("main")).not_to_contain_text("Report disk usage")
    shot(page, "typed-url-not-found")

    page.goto("/tools/")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="globex_probe")).to_be_visible()
    expect(main.get_by_role("link", name="disk_usage")).to_have_count(0)
    shot(page, "own-list")

    page.get_by_role("searchbox", name="Search").press_sequentially("disk_usage", delay=20)
    expect(page).to_have_url(re.compile(r"[?&]q=disk_usage"))
    expect(main.get_by_role("heading", name="No tools match these filters")).to_be_visible()
    expect(main.get_by_role("link", name="disk_usage")).to_have_count(0)
    shot(page, "search-finds-nothing")

    for path in ("/", "/audit/"):
        page.goto(path)
        expect(main.get_by_role("heading", level=1)).to_be_visible()
        expect(main).not_to_contain_text("disk_usage")
    shot(page, "audit-log-of-own-tenant")
