"""In the browser: an admin adds, creates, re-roles and removes members (the last admin
is kept); a new member sets a password with the one-time link; anyone changes their
password on the Account page and signs in with the new one."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from catalog.models import Membership
from tests.browser.conftest import PASSWORD, Shot, sign_in
from tests.factories import UserFactory


def row_of(page: Page, username: str) -> Any:
    return page.locator(f'tr[data-member="{username}"]')


def test_an_admin_manages_the_members(page: Page, admin: Any, editor: Any, shot: Shot) -> None:
    UserFactory(username="bob", email="bob@example.org")
    sign_in(page, admin.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()
    shot(page, "members")

    # Add someone who already has a login, by email.
    adding = page.get_by_role("region", name="Add someone who has a login")
    adding.get_by_label("Username or email").fill("bob@example.org")
    adding.get_by_label("Role").select_option("operator")
    adding.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("Added bob as operator.")).to_be_visible()
    expect(row_of(page, "bob")).to_be_visible()

    # A new login: every problem at once, next to its field.
    creating = page.get_by_role("region", name="Create a new login")
    creating.get_by_label("Email").fill("not an email")
    creating.get_by_role("button", name="Create login").click()
    creating = page.get_by_role("region", name="Create a new login")
    expect(creating.locator("#id_new-username-errors")).to_contain_text("Give the new login")
    expect(creating.locator("#id_new-email-errors")).to_contain_text("is not an email address")
    shot(page, "new-login-problems")
    creating.get_by_label("Username").fill("erin")
    creating.get_by_label("Email").fill("erin@example.org")
    creating.get_by_label("Role").select_option("editor")
    creating.get_by_role("button", name="Create login").click()
    link_field = page.get_by_label("Their one-time link")
    expect(link_field).to_have_value(re.compile(r"/account/set-password/"))
    link = link_field.input_value()
    shot(page, "new-login-link")

    # Change a role.
    row_of(page, editor.username).get_by_label(f"Role of {editor.username}").select_option("viewer")
    row_of(page, editor.username).get_by_role("button", name="Change role").click()
    expect(page.get_by_text(f"{editor.username} is now viewer")).to_be_visible()
    expect(page.get_by_label("Their one-time link")).to_have_count(0)  # shown once

    # The last admin is kept.
    row_of(page, admin.username).get_by_label(f"Role of {admin.username}").select_option("editor")
    row_of(page, admin.username).get_by_role("button", name="Change role").click()
    expect(page.get_by_role("alert").filter(has_text="last admin of Acme")).to_be_visible()
    shot(page, "last-admin-kept")
    page.once("dialog", lambda dialog: dialog.accept())
    row_of(page, admin.username).get_by_role("button", name="Remove").click()
    expect(page.get_by_role("alert").filter(has_text="last admin of Acme")).to_be_visible()
    assert Membership.objects.filter(user=admin, role="admin").exists()

    # Remove a member.
    page.once("dialog", lambda dialog: dialog.accept())
    row_of(page, "bob").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Removed bob from Acme")).to_be_visible()
    expect(row_of(page, "bob")).to_have_count(0)
    shot(page, "after-remove")

    # The new member opens the link, chooses a password and signs in.
    page.get_by_role("button", name="Sign out").click()
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    shot(page, "set-password")
    page.get_by_label("New password", exact=True).fill("erin's own long secret")
    page.get_by_label("New password confirmation").fill("erin's own long secret")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("Your password is set")).to_be_visible()
    sign_in(page, "erin", "erin's own long secret")
    expect(page.get_by_role("link", name=re.compile(r"erin · editor"))).to_be_visible()
    page.goto(link)
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()


def test_a_member_changes_their_password_on_the_account_page(
    page: Page, editor: Any, shot: Shot
) -> None:
    sign_in(page, editor.username)
    page.get_by_role("link", name=re.compile(rf"{editor.username} · editor")).click()
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name="Acme")).to_be_visible()
    expect(page.get_by_role("link", name="Your API keys in Acme")).to_be_visible()
    shot(page, "account")

    page.get_by_label("Old password").fill("wrong")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password confirmation").fill("different")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#id_old_password-errors")).to_be_visible()
    expect(page.locator("#id_new_password2-errors")).to_be_visible()
    expect(page.locator("#id_new_password1-errors")).to_contain_text("too short")
    shot(page, "account-problems")

    page.get_by_label("Old password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a brand new long secret")
    page.get_by_label("New password confirmation").fill("a brand new long secret")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    page.goto("/tools/")  # still signed in
    expect(page.get_by_role("heading", name="Tools", level=1)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, editor.username, "a brand new long secret")
    expect(
        page.get_by_role("link", name=re.compile(rf"{editor.username} · editor"))
    ).to_be_visible()
