"""In the browser: a member makes, copies and revokes an API key; the API reference
(Swagger UI and Redoc) renders from our own files under the Content Security Policy."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Shot, sign_in


def api_status(base_url: str, token: str) -> int:
    request = urllib.request.Request(
        f"{base_url}/api/v1/keys", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_member_creates_copies_and_revokes_a_key(
    page: Page, live_server: Any, editor: Any, shot: Shot
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, editor.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    expect(page.get_by_label("Role").locator("option")).to_have_text(
        ["Viewer", "Operator", "Editor"]
    )

    page.get_by_label("Name").fill("nightly-sync")
    page.get_by_role("button", name="Create key").click()
    token_field = page.get_by_label("Your new API key")
    expect(token_field).to_have_value(re.compile(r"^qv_[0-9a-f]{16}_\S{43}$"))
    token = token_field.input_value()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token
    shot(page, "key-created")
    assert api_status(live_server.url, token) == 200

    page.goto("/settings/api-keys/")
    expect(page.get_by_label("Your new API key")).to_have_count(0)
    expect(page.get_by_text(token)).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Revoked the key")).to_be_visible()
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    shot(page, "key-revoked")
    assert api_status(live_server.url, token) == 401


def test_swagger_ui_renders_from_our_own_files(page: Page, live_server: Any, shot: Shot) -> None:
    external: list[str] = []
    page.on(
        "request",
        lambda request: (
            external.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name="Quiver API")).to_be_visible()
    expect(page.locator(".opblock-tag", has_text="keys")).to_be_visible()
    shot(page, "swagger-ui")
    assert external == []


def test_redoc_renders_from_our_own_files(page: Page, live_server: Any, shot: Shot) -> None:
    external: list[str] = []
    page.on(
        "request",
        lambda request: (
            external.append(request.url)
            if not request.url.startswith((live_server.url, "blob:", "data:"))
            else None
        ),
    )
    page.goto("/api/redoc/")
    expect(page.get_by_role("heading", name="Quiver API").first).to_be_visible()
    expect(page.get_by_role("heading", name="Create an API key")).to_be_visible()
    shot(page, "redoc")
    assert external == []
