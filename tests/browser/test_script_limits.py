"""In the browser: an admin narrows the tenant's script limits, is told next to the field
what the server does not allow, and saves; an editor only reads them."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from catalog import services
from tests.browser.conftest import Shot, sign_in


def test_an_admin_narrows_the_script_limits(
    page: Page, live_server: Any, admin: Any, tenant: Any, settings: Any, shot: Shot
) -> None:
    settings.SANDBOX_INTERNAL_NETWORKS = ["10.20.0.0/16"]
    settings.SANDBOX_MAX_MEMORY_MB = 1024
    sign_in(page, admin.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Script limits").click()
    expect(page.get_by_role("heading", name="Script limits", level=1)).to_be_visible()
    expect(page.get_by_text("At most 1024 MB for a whole run")).to_be_visible()

    page.get_by_label("Only the ones listed below").check()
    page.get_by_label("Only these").fill("10.20.4.0/24\n192.168.1.0/24")
    page.get_by_label("Most memory a run may use (MB)").fill("2048")
    page.get_by_role("button", name="Save limits").click()
    expect(page.get_by_text("192.168.1.0/24 is not inside the internal networks")).to_be_visible()
    expect(page.get_by_text("must be between 16 and 1024 MB")).to_be_visible()
    expect(page.get_by_label("Only these")).to_have_value("10.20.4.0/24\n192.168.1.0/24")
    shot(page, "refused")

    page.get_by_label("Only these").fill("10.20.4.0/24")
    page.get_by_label("Most memory a run may use (MB)").fill("256")
    page.get_by_label("Scripts may use the network").check()
    page.get_by_role("button", name="Save limits").click()
    expect(page.get_by_text("Saved the script limits")).to_be_visible()
    expect(page.get_by_text("and the internal networks 10.20.4.0/24")).to_be_visible()
    shot(page, "saved")
    limits = services.sandbox_limits_of(tenant)
    assert (limits.internal_networks, limits.max_memory_mb) == (["10.20.4.0/24"], 256)


def test_an_editor_reads_the_limits_only(
    page: Page, live_server: Any, editor: Any, shot: Shot
) -> None:
    sign_in(page, editor.username)
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Script limits")
    ).to_have_count(0)
    page.goto("/settings/script-limits/")
    expect(page.get_by_role("heading", name="What runs get now")).to_be_visible()
    expect(page.get_by_role("button", name="Save limits")).to_have_count(0)
    shot(page, "read-only")
