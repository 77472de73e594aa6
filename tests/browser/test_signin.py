"""Signing in and out, throttled failures, security headers and the tenant switcher."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from catalog.accounts import signin
from catalog.models import Role, Tenant
from tests.browser.conftest import Shot, sign_in
from tests.factories import MembershipFactory


def test_signing_in_with_the_real_form_lands_on_the_dashboard_with_the_tenant_shown(
    page: Page, live_server: Any, admin: Any, shot: Shot
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in to Quiver")).to_be_visible()
    shot(page, "sign-in")

    sign_in(page, admin.username)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    banner = page.get_by_role("banner")
    expect(banner).to_contain_text("Acme")
    expect(banner).to_contain_text(f"{admin.username} · admin")
    expect(banner.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("contentinfo")).to_contain_text("Acme")
    shot(page, "dashboard")


def test_a_wrong_password_shows_an_error(page: Page, admin: Any, shot: Shot) -> None:
    sign_in(page, admin.username, "not-the-password")

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value(admin.username)
    expect(page.get_by_role("banner")).to_have_count(0)
    shot(page, "wrong-password")


class FrozenClock:
    """Stands in for the ``time`` module in catalog.accounts.signin, so waits do not depend on how
    fast the machine runs the test."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


def test_repeated_failures_are_slowed_then_locked(
    page: Page, admin: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, shot: Shot
) -> None:
    settings.SIGNIN_SLOW_AFTER = 2
    settings.SIGNIN_LOCK_AFTER = 3
    clock = FrozenClock()
    monkeypatch.setattr(signin, "time", clock)
    alert = page.get_by_role("alert")

    sign_in(page, admin.username, "wrong-1")
    expect(alert).to_contain_text("correct username and password")

    sign_in(page, admin.username, "wrong-2")
    expect(alert).to_contain_text("Please wait 1 second")
    shot(page, "slowed")

    # Even the right password is refused until the wait is over.
    sign_in(page, admin.username)
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(alert).to_contain_text("Please wait 1 second")

    clock.now += 2
    sign_in(page, admin.username, "wrong-3")
    expect(alert).to_contain_text("locked for 15 minutes")
    shot(page, "locked")

    clock.now += 60
    sign_in(page, admin.username)
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(alert).to_contain_text("locked for 14 minutes")
    shot(page, "still-locked")


def test_pages_carry_a_content_security_policy_and_deny_framing(page: Page, admin: Any) -> None:
    response = page.goto("/login/")
    assert response is not None
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"

    sign_in(page, admin.username)
    response = page.goto("/")
    assert response is not None and response.status == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_signing_out_returns_to_the_sign_in_page(page: Page, admin: Any, shot: Shot) -> None:
    sign_in(page, admin.username)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    shot(page, "signed-out")
    page.goto("/tools/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/tools/$"))


def test_a_user_in_two_tenants_switches_with_the_switcher(
    page: Page, admin: Any, other_tenant: Tenant, shot: Shot
) -> None:
    MembershipFactory(user=admin, tenant=other_tenant, role=Role.VIEWER)
    sign_in(page, admin.username)
    switcher = page.get_by_label("Tenant")
    expect(switcher).to_have_value("acme")
    shot(page, "in-acme")

    with page.expect_navigation():
        switcher.select_option("globex")

    expect(page.get_by_role("status")).to_contain_text("You are now working in Globex.")
    expect(page.get_by_label("Tenant")).to_have_value("globex")
    expect(page.get_by_role("banner")).to_contain_text(f"{admin.username} · viewer")
    expect(page.get_by_role("contentinfo")).to_contain_text("Globex")
    shot(page, "in-globex")
