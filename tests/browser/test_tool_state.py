"""A tool's state read in the browser: one word and one sentence, and no run offered for
an archived tool."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from catalog import services
from catalog.models import Tenant
from tests.browser.conftest import Shot, sign_in
from tests.factories import make_definition

RUNTIME = {"kind": "script", "timeout_s": 5, "memory_mb": 128, "network": False}


def test_an_archived_tool_reads_archived_everywhere_on_its_page(
    page: Page, tenant: Tenant, admin: Any, shot: Shot
) -> None:
    definition = make_definition(runtime=RUNTIME, script="def main(**kw):\n    return 1\n")
    tool = services.create_tool(tenant, definition=definition, actor=admin, publish=True)
    sign_in(page, admin.username)

    page.goto(f"/tools/{tool.name}/")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Try it")).to_be_visible()
    expect(main.get_by_text("Agents can use it.").first).to_be_visible()
    shot(page, "active")

    services.archive_tool(tool, actor=admin, reason="replaced")
    page.reload()
    expect(main.locator(".tool-state")).to_have_text("Archived")
    expect(main.get_by_role("link", name="Try it")).to_have_count(0)
    expect(main.get_by_text("Enabled", exact=True)).to_have_count(0)
    expect(main.get_by_text("Agents cannot see or run it: it is archived.")).to_be_visible()
    shot(page, "archived")
