"""Members: admins add, create, re-role and remove people; the last admin stays; a removed
or demoted member's open session and API keys follow at once; every change audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import AuditAction, AuditLog, Membership, Role, Tenant
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "correct-horse-battery"  # tests/factories.py's


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def key_status(token: str) -> int:
    return Client().get("/api/v1/tools", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


# -- services ---------------------------------------------------------------------------


def test_admin_adds_an_existing_login_by_email_and_it_is_audited(
    tenant: Tenant, admin: Any
) -> None:
    bob = UserFactory(username="bob", email="Bob@Example.org")
    membership = services.add_member(
        tenant, user=services.find_login("bob@example.org"), role=Role.EDITOR, actor=admin
    )
    assert membership.user == bob and membership.role == Role.EDITOR
    entry = AuditLog.objects.get(action=AuditAction.MEMBERSHIP, object_id=str(membership.pk))
    assert entry.actor == admin and entry.changes["role"] == [None, "editor"]


def test_adding_someone_already_a_member_says_so(tenant: Tenant, admin: Any, editor: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        services.add_member(tenant, user=editor, role=Role.VIEWER, actor=admin)
    assert "already a member, as Editor" in refused.value.message_dict["user"][0]


@pytest.mark.parametrize("role", [Role.EDITOR, Role.OPERATOR, Role.VIEWER])
def test_only_admins_manage_members(tenant: Tenant, role: str) -> None:
    user = UserFactory(username=f"someone-{role}")
    MembershipFactory(user=user, tenant=tenant, role=role)
    target = MembershipFactory(tenant=tenant, role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.change_member_role(target, role=Role.ADMIN, actor=user)
    with pytest.raises(PermissionDenied):
        services.remove_member(target, actor=user)
    with pytest.raises(PermissionDenied):
        services.create_member(tenant, username="new", role=Role.ADMIN, actor=user)


def test_creating_a_login_reports_every_problem_at_once(tenant: Tenant, admin: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        services.create_member(
            tenant,
            username="has space",
            email="not-an-email",
            role="boss",
            first_sign_in="carrier pigeon",
            actor=admin,
        )
    assert set(refused.value.message_dict) == {"username", "email", "role", "first_sign_in"}
    assert not User.objects.filter(username="has space").exists()


def test_a_taken_username_is_refused_ignoring_case(tenant: Tenant, admin: Any) -> None:
    UserFactory(username="Carol")
    with pytest.raises(ValidationError) as refused:
        services.create_member(tenant, username="carol", role=Role.VIEWER, actor=admin)
    assert "taken" in refused.value.message_dict["username"][0]


def test_a_new_login_with_a_password_can_sign_in(tenant: Tenant, admin: Any) -> None:
    new = services.create_member(
        tenant, username="dora", role=Role.OPERATOR, first_sign_in="password", actor=admin
    )
    assert new.password and not new.token
    assert Client().login(username="dora", password=new.password)
    assert Membership.objects.get(user__username="dora", tenant=tenant).role == Role.OPERATOR


def test_the_last_admin_can_be_neither_demoted_nor_removed(tenant: Tenant, admin: Any) -> None:
    own = Membership.objects.get(user=admin, tenant=tenant)
    with pytest.raises(ValidationError, match="last admin of Acme"):
        services.change_member_role(own, role=Role.EDITOR, actor=admin)
    with pytest.raises(ValidationError, match="last admin of Acme"):
        services.remove_member(own, actor=admin)
    own.refresh_from_db()
    assert own.role == Role.ADMIN
    second = MembershipFactory(tenant=tenant, role=Role.ADMIN)
    services.change_member_role(own, role=Role.EDITOR, actor=admin)
    with pytest.raises(ValidationError, match="last admin"):
        services.remove_member(second, actor=second.user)


def test_another_tenants_admin_cannot_touch_our_members(
    tenant: Tenant, other_tenant: Tenant, editor: Any
) -> None:
    foreign_admin = UserFactory(username="globex-admin")
    MembershipFactory(user=foreign_admin, tenant=other_tenant, role=Role.ADMIN)
    ours = Membership.objects.get(user=editor, tenant=tenant)
    with pytest.raises(PermissionDenied):
        services.remove_member(ours, actor=foreign_admin)


# -- effects at once: sessions and keys -----------------------------------------------------


def test_removing_a_member_ends_their_open_session_and_revokes_their_keys(
    tenant: Tenant, admin: Any, editor: Any
) -> None:
    browser = signed_in(editor)
    assert browser.get("/tools/").status_code == 200
    key, token = services.create_api_key(tenant, name="sync", role=Role.EDITOR, actor=editor)
    assert key_status(token) == 200

    services.remove_member(Membership.objects.get(user=editor), actor=admin, reason="left")

    assert browser.get("/tools/").status_code == 403  # the same session cookie
    assert browser.get("/api/v1/tools").status_code == 403
    assert key_status(token) == 401
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == admin
    entry = AuditLog.objects.filter(action=AuditAction.MEMBERSHIP).latest("pk")
    assert entry.changes["role"] == ["editor", None]
    assert entry.changes["api_keys"] == ["sync", "revoked"]
    assert entry.reason == "left"


def test_demoting_a_member_narrows_their_session_and_lowers_their_keys(
    tenant: Tenant, admin: Any, editor: Any
) -> None:
    browser = signed_in(editor)
    assert browser.get("/tools/new/").status_code == 200
    key, token = services.create_api_key(tenant, name="sync", role=Role.EDITOR, actor=editor)
    weak, _ = services.create_api_key(tenant, name="reader", role=Role.VIEWER, actor=editor)
    membership = Membership.objects.get(user=editor)

    services.change_member_role(membership, role=Role.VIEWER, actor=admin)

    assert browser.get("/tools/new/").status_code == 403
    assert browser.get("/tools/").status_code == 200
    key.refresh_from_db()
    assert key.role == Role.VIEWER and key.revoked_at is None
    api = Client()
    created = api.post(
        "/api/v1/tools", {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert created.status_code == 403
    # Promoting them again does not widen the lowered key.
    services.change_member_role(membership, role=Role.EDITOR, actor=admin)
    key.refresh_from_db()
    assert key.role == Role.VIEWER
    entry = AuditLog.objects.filter(action=AuditAction.MEMBERSHIP).order_by("pk")[0]
    assert entry.changes["api_keys"] == ["sync (editor)", "lowered to viewer"]
    weak.refresh_from_db()
    assert weak.role == Role.VIEWER


# -- the page ----------------------------------------------------------------------------


def test_members_page_lists_people_with_role_and_last_sign_in(
    tenant: Tenant, admin: Any, editor: Any, outsider: Any
) -> None:
    page = signed_in(admin).get("/settings/members/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "editor-acme" in html and "admin-acme" in html
    assert outsider.username not in html
    assert 'href="/settings/members/"' in html  # in the navigation, for admins


def test_non_admins_see_the_list_without_emails_or_buttons(
    tenant: Tenant, admin: Any, viewer: Any
) -> None:
    page = signed_in(viewer).get("/settings/members/")
    html = page.content.decode()
    assert page.status_code == 200 and "admin-acme" in html
    assert admin.email not in html and "Remove" not in html and "Create login" not in html
    refused = signed_in(viewer).post("/settings/members/", {"form": "add", "add-user": "x"})
    assert refused.status_code == 403


def test_page_creates_a_login_and_shows_its_one_time_link_once(tenant: Tenant, admin: Any) -> None:
    browser = signed_in(admin)
    page = browser.post(
        "/settings/members/",
        {"form": "new", "new-username": "erin", "new-role": "editor", "new-first_sign_in": "link"},
    )
    html = page.content.decode()
    link = re.search(r'value="(http://testserver/account/set-password/[^"]+)"', html)
    assert link, html
    assert "no-store" in page["Cache-Control"]
    assert "set-password" not in browser.get("/settings/members/").content.decode()

    visitor = Client()
    path = link.group(1).removeprefix("http://testserver")
    assert visitor.get(path).status_code == 200
    done = visitor.post(
        path, {"new_password1": "a long new secret", "new_password2": "a long new secret"}
    )
    assert done.status_code == 302
    assert visitor.login(username="erin", password="a long new secret")
    assert Client().get(path).status_code == 400  # used: it works once


def test_page_reports_every_problem_of_a_new_login_by_field(tenant: Tenant, admin: Any) -> None:
    page = signed_in(admin).post(
        "/settings/members/",
        {
            "form": "new",
            "new-username": "",
            "new-email": "nope",
            "new-role": "viewer",
            "new-first_sign_in": "link",
        },
    )
    html = page.content.decode()
    assert 'id="id_new-username-errors"' in html and 'id="id_new-email-errors"' in html


def test_page_changes_a_role_and_refuses_to_demote_the_last_admin(
    tenant: Tenant, admin: Any, editor: Any
) -> None:
    browser = signed_in(admin)
    target = Membership.objects.get(user=editor)
    response = browser.post(f"/settings/members/{target.pk}/role/", {"role": "viewer"}, follow=True)
    assert "editor-acme is now viewer" in response.content.decode()
    target.refresh_from_db()
    assert target.role == Role.VIEWER
    own = Membership.objects.get(user=admin)
    response = browser.post(f"/settings/members/{own.pk}/role/", {"role": "viewer"}, follow=True)
    assert "last admin of Acme" in response.content.decode()
    own.refresh_from_db()
    assert own.role == Role.ADMIN


def test_page_removes_a_member(tenant: Tenant, admin: Any, editor: Any) -> None:
    target = Membership.objects.get(user=editor)
    response = signed_in(admin).post(f"/settings/members/{target.pk}/remove/", follow=True)
    assert "Removed editor-acme from Acme" in response.content.decode()
    assert not Membership.objects.filter(pk=target.pk).exists()


def test_another_tenants_member_is_a_404_on_the_page(
    tenant: Tenant, admin: Any, outsider: Any
) -> None:
    theirs = Membership.objects.get(user=outsider)
    browser = signed_in(admin)
    assert browser.post(f"/settings/members/{theirs.pk}/remove/").status_code == 404
    assert (
        browser.post(f"/settings/members/{theirs.pk}/role/", {"role": "viewer"}).status_code == 404
    )
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_non_admins_cannot_change_or_remove_on_the_page(
    tenant: Tenant, admin: Any, editor: Any
) -> None:
    own = Membership.objects.get(user=admin)
    browser = signed_in(editor)
    assert browser.post(f"/settings/members/{own.pk}/remove/").status_code == 403
    assert browser.post(f"/settings/members/{own.pk}/role/", {"role": "viewer"}).status_code == 403


# -- the account page --------------------------------------------------------------------


def test_account_page_changes_the_password_and_keeps_the_session(
    tenant: Tenant, editor: Any
) -> None:
    browser = signed_in(editor)
    page = browser.get("/account/")
    assert page.status_code == 200
    assert "Acme" in page.content.decode() and "Editor" in page.content.decode()
    response = browser.post(
        "/account/",
        {
            "old_password": PASSWORD,
            "new_password1": "a fresh long one",
            "new_password2": "a fresh long one",
        },
    )
    assert response.status_code == 302
    assert browser.get("/tools/").status_code == 200  # still signed in
    assert Client().login(username=editor.username, password="a fresh long one")


def test_account_page_says_what_is_wrong_with_a_new_password(editor: Any) -> None:
    response = signed_in(editor).post(
        "/account/", {"old_password": "wrong", "new_password1": "short", "new_password2": "other"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_old_password-errors"' in html and 'id="id_new_password2-errors"' in html
    # The new password's own problem shows in the same round, next to it.
    assert 'id="id_new_password1-errors"' in html and "too short" in html


def test_account_page_needs_sign_in(db: Any) -> None:
    assert Client().get("/account/").status_code == 302


def test_set_membership_follows_the_same_rules(tenant: Tenant, admin: Any) -> None:
    with pytest.raises(ValidationError, match="last admin"):
        services.set_membership(tenant, user=admin, role=Role.VIEWER, actor=None)
    newcomer = UserFactory(username="newcomer")
    services.set_membership(tenant, user=newcomer, role=Role.EDITOR, actor=admin)
    assert Membership.objects.get(user=newcomer).role == Role.EDITOR


# -- a new link for someone who never used theirs ------------------------------------------


def test_a_new_link_replaces_an_unused_one(tenant: Tenant, admin: Any) -> None:
    first = services.create_member(tenant, username="fay", role=Role.VIEWER, actor=admin)
    browser = signed_in(admin)
    page = browser.get("/settings/members/").content.decode()
    assert "New sign-in link" in page
    renewed = browser.post(f"/settings/members/{first.membership.pk}/link/")
    link = re.search(
        r'value="http://testserver(/account/set-password/[^"]+)"', renewed.content.decode()
    )
    assert link
    old_path = f"/account/set-password/{first.uid}/{first.token}/"
    assert Client().get(old_path).status_code == 400  # the old link stopped working
    assert Client().get(link.group(1)).status_code == 200
    assert AuditLog.objects.filter(
        action=AuditAction.MEMBERSHIP, changes__login__1="new one-time link made"
    ).exists()


def test_no_new_link_for_a_login_that_signed_in_or_works_elsewhere(
    tenant: Tenant, other_tenant: Tenant, admin: Any, editor: Any
) -> None:
    # editor has a password: a new link would let an admin take over their login.
    with pytest.raises(ValidationError, match="has signed in or set a password"):
        services.renew_sign_in_link(Membership.objects.get(user=editor), actor=admin)
    new = services.create_member(tenant, username="gus", role=Role.VIEWER, actor=admin)
    MembershipFactory(user=new.membership.user, tenant=other_tenant, role=Role.ADMIN)
    with pytest.raises(ValidationError):
        services.renew_sign_in_link(new.membership, actor=admin)
    page = signed_in(admin).get("/settings/members/").content.decode()
    assert "New sign-in link" not in page


def test_a_server_administrator_is_not_pretended_away(tenant: Tenant, admin: Any) -> None:
    root = UserFactory(username="root", is_superuser=True)
    membership = MembershipFactory(user=root, tenant=tenant, role=Role.ADMIN)
    with pytest.raises(ValidationError, match="administers this whole Quiver server"):
        services.change_member_role(membership, role=Role.VIEWER, actor=admin)
    with pytest.raises(ValidationError, match="administers this whole Quiver server"):
        services.remove_member(membership, actor=admin)


def test_the_members_page_and_list_take_the_same_queries_for_3_or_60_members(
    tenant: Tenant, admin: Any
) -> None:
    browser = signed_in(admin)
    api = signed_in(admin)

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as page:
            assert browser.get("/settings/members/").status_code == 200
        with CaptureQueriesContext(connection) as listed:
            assert api.get("/api/v1/members").status_code == 200
        return len(page), len(listed)

    for n in range(2):
        MembershipFactory(tenant=tenant, user=UserFactory(username=f"few{n}"))
    few = counts()
    for n in range(57):
        MembershipFactory(tenant=tenant, user=UserFactory(username=f"many{n}"))
    assert counts() == few, few


def test_member_changes_need_the_csrf_token(tenant: Tenant, admin: Any, editor: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    target = Membership.objects.get(user=editor)
    assert browser.post(f"/settings/members/{target.pk}/remove/").status_code == 403
    assert (
        browser.post("/settings/members/", {"form": "new", "new-username": "x"}).status_code == 403
    )
    assert Membership.objects.filter(pk=target.pk).exists()
