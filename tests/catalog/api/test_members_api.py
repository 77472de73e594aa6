"""/api/v1/members: every member lists; admins add, create, re-role and remove; another
tenant's member is a 404; a removed member's key stops at once."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from catalog import services
from catalog.models import AuditAction, AuditLog, Membership, Role, Tenant
from tests.catalog.api.resources import API, api_as, no_throttling  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
MEMBERS = f"{API}/members"


def test_every_member_lists_members_but_only_admins_see_emails(
    tenant: Tenant, admin: Any, viewer: Any, outsider: Any
) -> None:
    as_viewer = api_as(viewer).get(MEMBERS)
    assert as_viewer.status_code == 200
    rows = as_viewer.json()
    assert {row["username"] for row in rows} == {"admin-acme", "viewer-acme"}
    assert all(row["email"] is None for row in rows)
    as_admin = api_as(admin).get(MEMBERS).json()
    assert {row["email"] for row in as_admin} == {admin.email, viewer.email}


def test_listing_members_needs_a_caller(db: Any) -> None:
    assert APIClient().get(MEMBERS).status_code == 401


def test_admin_adds_an_existing_login(tenant: Tenant, admin: Any) -> None:
    UserFactory(username="bob")
    response = api_as(admin).post(MEMBERS, {"user": "bob", "role": "editor"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "editor" and response.json()["password"] is None
    assert Membership.objects.get(user__username="bob", tenant=tenant).role == "editor"


def test_admin_creates_a_login_with_a_password_shown_once(tenant: Tenant, admin: Any) -> None:
    response = api_as(admin).post(
        MEMBERS, {"username": "carol", "first_sign_in": "password"}, format="json"
    )
    assert response.status_code == 201
    password = response.json()["password"]
    assert APIClient().login(username="carol", password=password)
    listed = api_as(admin).get(f"{MEMBERS}/{response.json()['id']}").json()
    assert "password" not in listed


def test_creating_reports_every_problem_at_once(tenant: Tenant, admin: Any) -> None:
    response = api_as(admin).post(
        MEMBERS, {"username": "has space", "email": "nope"}, format="json"
    )
    assert response.status_code == 400
    fields = {problem["path"] for problem in response.json()["error"]["fields"]}
    assert {"username", "email"} <= fields


@pytest.mark.parametrize("role", ["editor", "operator", "viewer"])
def test_only_admins_change_members(tenant: Tenant, admin: Any, role: str) -> None:
    user = UserFactory(username=f"someone-{role}")
    services.set_membership(tenant, user=user, role=role, actor=None)
    target = Membership.objects.get(user=admin)
    client = api_as(user)
    assert client.post(MEMBERS, {"user": "x"}, format="json").status_code == 403
    assert (
        client.patch(f"{MEMBERS}/{target.pk}", {"role": "viewer"}, format="json").status_code == 403
    )
    assert client.delete(f"{MEMBERS}/{target.pk}").status_code == 403


def test_role_change_lowers_keys_is_audited_and_refuses_a_stale_etag(
    tenant: Tenant, admin: Any, editor: Any
) -> None:
    key, _ = services.create_api_key(tenant, name="sync", role=Role.EDITOR, actor=editor)
    target = Membership.objects.get(user=editor)
    client = api_as(admin)
    etag = client.get(f"{MEMBERS}/{target.pk}")["ETag"]
    changed = client.patch(
        f"{MEMBERS}/{target.pk}", {"role": "viewer"}, format="json", HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200 and changed.json()["role"] == "viewer"
    key.refresh_from_db()
    assert key.role == Role.VIEWER
    assert AuditLog.objects.filter(action=AuditAction.MEMBERSHIP, object_id=str(target.pk)).exists()
    stale = client.patch(
        f"{MEMBERS}/{target.pk}", {"role": "operator"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412


def test_last_admin_is_kept_with_a_clear_error(tenant: Tenant, admin: Any) -> None:
    own = Membership.objects.get(user=admin)
    response = api_as(admin).delete(f"{MEMBERS}/{own.pk}")
    assert response.status_code == 400
    assert "last admin of Acme" in response.json()["error"]["message"]
    demote = api_as(admin).patch(f"{MEMBERS}/{own.pk}", {"role": "viewer"}, format="json")
    assert demote.status_code == 400


def test_removing_a_member_stops_their_key_at_once(tenant: Tenant, admin: Any, editor: Any) -> None:
    _, token = services.create_api_key(tenant, name="sync", role=Role.EDITOR, actor=editor)
    as_key = APIClient()
    as_key.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert as_key.get(MEMBERS).status_code == 200
    target = Membership.objects.get(user=editor)
    assert api_as(admin).delete(f"{MEMBERS}/{target.pk}").status_code == 204
    assert as_key.get(MEMBERS).status_code == 401


def test_a_key_capped_below_admin_cannot_manage_members(tenant: Tenant, admin: Any) -> None:
    _, token = services.create_api_key(tenant, name="ro", role=Role.VIEWER, actor=admin)
    as_key = APIClient()
    as_key.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert as_key.post(MEMBERS, {"username": "zed"}, format="json").status_code == 403


def test_another_tenants_member_is_a_404(tenant: Tenant, admin: Any, outsider: Any) -> None:
    theirs = Membership.objects.get(user=outsider)
    client = api_as(admin)
    assert client.get(f"{MEMBERS}/{theirs.pk}").status_code == 404
    assert (
        client.patch(f"{MEMBERS}/{theirs.pk}", {"role": "viewer"}, format="json").status_code == 404
    )
    assert client.delete(f"{MEMBERS}/{theirs.pk}").status_code == 404
    assert Membership.objects.filter(pk=theirs.pk, role="editor").exists()


def test_admin_gets_a_new_link_only_for_an_unused_login(
    tenant: Tenant, admin: Any, editor: Any, viewer: Any
) -> None:
    created = api_as(admin).post(MEMBERS, {"username": "hal"}, format="json").json()
    renewed = api_as(admin).post(f"{MEMBERS}/{created['id']}/sign-in-link")
    assert renewed.status_code == 200
    assert renewed.json()["set_password_url"] != created["set_password_url"]
    assert "/account/set-password/" in renewed.json()["set_password_url"]
    target = Membership.objects.get(user=editor)
    assert api_as(admin).post(f"{MEMBERS}/{target.pk}/sign-in-link").status_code == 400
    refused = api_as(viewer).post(f"{MEMBERS}/{created['id']}/sign-in-link")
    assert refused.status_code == 403
