"""API keys: created in the API and the page, shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.test import Client
from rest_framework.test import APIClient

from catalog.models import ApiKey, AuditAction, AuditLog, Role, Tenant
from catalog.services import create_api_key, revoke_api_key
from tests.catalog.api.probe import PROBE, URLCONF, bearer, fresh_cache, make_key

pytestmark = pytest.mark.urls(URLCONF)
KEYS = "/api/v1/keys"
PAGE = "/settings/api-keys/"


@pytest.fixture(autouse=True)
def own_cache(settings: Any, request: Any) -> None:
    fresh_cache(settings, request.node.nodeid)


def client_of(user: User) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


def names(response: Any) -> list[str]:
    data = response.json()
    items = data["results"] if isinstance(data, dict) else data
    return sorted(item["name"] for item in items)


# -- the API ---------------------------------------------------------------------------------


def test_created_key_is_shown_once_and_stored_only_as_a_hash(editor: User) -> None:
    api = client_of(editor)
    response = api.post(KEYS, {"name": "ci", "role": "editor"})
    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert token.startswith(f"qv_{body['prefix']}_")
    secret = token.split("_", 2)[2]
    key = ApiKey.objects.get(pk=body["id"])
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(v) for v in ApiKey.objects.filter(pk=key.pk).values().get().values()]
    assert not any(secret in value for value in stored)
    assert secret not in str(AuditLog.objects.values_list("changes", "object_repr"))
    assert secret not in api.get(KEYS).content.decode()
    assert secret not in api.get(f"{KEYS}/{key.pk}").content.decode()
    assert "token" not in api.get(f"{KEYS}/{key.pk}").json()
    assert APIClient().get(PROBE, **bearer(token)).json()["role"] == "editor"


def test_key_creation_and_revocation_are_audited(tenant: Tenant, editor: User) -> None:
    api = client_of(editor)
    key_id = api.post(KEYS, {"name": "ci"}).json()["id"]
    api.post(f"{KEYS}/{key_id}/revoke")
    entries = AuditLog.objects.for_tenant(tenant).order_by("id")
    assert [e.action for e in entries] == [AuditAction.KEY_CREATE, AuditAction.KEY_REVOKE]
    assert entries[0].actor == editor
    assert entries[0].changes["role"] == [None, "viewer"]
    assert entries[0].ip == "127.0.0.1"


def test_key_role_cannot_exceed_the_callers_role(editor: User) -> None:
    response = client_of(editor).post(KEYS, {"name": "too strong", "role": "admin"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert [f["path"] for f in error["fields"]] == ["role"]
    assert not ApiKey.objects.exists()


def test_a_key_cannot_make_a_key_stronger_than_itself(tenant: Tenant, admin: User) -> None:
    _, token = make_key(admin, tenant, Role.EDITOR)
    api = APIClient()
    assert api.post(KEYS, {"name": "x", "role": "admin"}, **bearer(token)).status_code == 400
    made = api.post(KEYS, {"name": "y", "role": "editor"}, **bearer(token))
    assert made.status_code == 201
    assert ApiKey.objects.get(pk=made.json()["id"]).created_by == admin


def test_creating_a_key_validates_its_fields(editor: User) -> None:
    response = client_of(editor).post(
        KEYS, {"name": "", "role": "boss", "expires_at": "2001-01-01T00:00:00Z"}
    )
    assert response.status_code == 400
    paths = sorted(f["path"] for f in response.json()["error"]["fields"])
    assert paths == ["name", "role"]
    past = client_of(editor).post(KEYS, {"name": "old", "expires_at": "2001-01-01T00:00:00Z"})
    assert [f["path"] for f in past.json()["error"]["fields"]] == ["expires_at"]


def test_members_list_only_their_own_keys_and_admins_all(
    tenant: Tenant, admin: User, editor: User, viewer: User
) -> None:
    make_key(editor, tenant, name="editor-key")
    make_key(viewer, tenant, name="viewer-key")
    assert names(client_of(viewer).get(KEYS)) == ["viewer-key"]
    assert names(client_of(editor).get(KEYS)) == ["editor-key"]
    assert names(client_of(admin).get(KEYS)) == ["editor-key", "viewer-key"]


def test_a_member_cannot_see_or_revoke_another_members_key(
    tenant: Tenant, editor: User, viewer: User
) -> None:
    key, token = make_key(viewer, tenant)
    api = client_of(editor)
    assert api.get(f"{KEYS}/{key.pk}").status_code == 404
    assert api.post(f"{KEYS}/{key.pk}/revoke").status_code == 404
    assert api.delete(f"{KEYS}/{key.pk}").status_code == 404
    assert APIClient().get(PROBE, **bearer(token)).status_code == 200


def test_admin_revokes_any_key_of_the_tenant_at_once(
    tenant: Tenant, admin: User, viewer: User
) -> None:
    key, token = make_key(viewer, tenant)
    response = client_of(admin).post(f"{KEYS}/{key.pk}/revoke")
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert response.json()["revoked_by"] == "admin-acme"
    assert APIClient().get(PROBE, **bearer(token)).status_code == 401


def test_delete_revokes_and_keeps_the_record(tenant: Tenant, viewer: User) -> None:
    key, token = make_key(viewer, tenant)
    assert client_of(viewer).delete(f"{KEYS}/{key.pk}").status_code == 204
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert APIClient().get(PROBE, **bearer(token)).status_code == 401


def test_another_tenants_key_is_404_even_for_an_admin(
    other_tenant: Tenant, admin: User, outsider: User
) -> None:
    key, _ = make_key(outsider, other_tenant)
    api = client_of(admin)
    assert api.get(f"{KEYS}/{key.pk}").status_code == 404
    assert api.post(f"{KEYS}/{key.pk}/revoke").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_listing_keys_needs_a_caller(db: Any) -> None:
    assert APIClient().get(KEYS).status_code == 401


# -- the services ------------------------------------------------------------------------------


def test_revoking_twice_changes_nothing_more(tenant: Tenant, viewer: User) -> None:
    key, _ = make_key(viewer, tenant)
    first = revoke_api_key(key, actor=viewer).revoked_at
    assert revoke_api_key(key, actor=viewer).revoked_at == first
    assert AuditLog.objects.filter(action=AuditAction.KEY_REVOKE).count() == 1


def test_only_members_create_keys(tenant: Tenant, outsider: User) -> None:
    with pytest.raises(PermissionDenied):
        create_api_key(tenant, name="x", role=Role.VIEWER, actor=outsider)


def test_only_the_creator_or_an_admin_revokes(
    tenant: Tenant, admin: User, editor: User, viewer: User
) -> None:
    key, _ = make_key(viewer, tenant)
    with pytest.raises(PermissionDenied):
        revoke_api_key(key, actor=editor)
    assert revoke_api_key(key, actor=admin).revoked_by == admin


# -- the page ------------------------------------------------------------------------------------


def test_page_creates_a_key_and_shows_its_token_once(client: Client, editor: User) -> None:
    client.force_login(editor)
    created = client.post(PAGE, {"name": "nightly", "role": "operator", "expires_in": "30"})
    assert created.status_code == 200
    token = created.context["token"]
    assert token.startswith("qv_") and token in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    key = ApiKey.objects.get()
    assert key.role == Role.OPERATOR and key.expires_at is not None
    again = client.get(PAGE)
    assert token not in again.content.decode()
    assert key.masked in again.content.decode()


def test_page_offers_roles_up_to_the_members_own(client: Client, viewer: User) -> None:
    client.force_login(viewer)
    page = client.get(PAGE)
    assert [value for value, _ in page.context["form"].fields["role"].choices] == ["viewer"]
    refused = client.post(PAGE, {"name": "x", "role": "admin"})
    assert refused.context["form"].errors["role"]
    assert not ApiKey.objects.exists()


def test_page_lists_every_key_for_admins_and_own_keys_for_others(
    client: Client, tenant: Tenant, admin: User, viewer: User
) -> None:
    make_key(viewer, tenant, name="viewer-key")
    make_key(admin, tenant, name="admin-key")
    client.force_login(viewer)
    page = client.get(PAGE).content.decode()
    assert "viewer-key" in page and "admin-key" not in page
    client.force_login(admin)
    page = client.get(PAGE).content.decode()
    assert "viewer-key" in page and "admin-key" in page


def test_page_revokes_a_key(client: Client, tenant: Tenant, viewer: User) -> None:
    key, _ = make_key(viewer, tenant)
    client.force_login(viewer)
    response = client.post(f"{PAGE}{key.pk}/revoke/", follow=True)
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "Revoked" in response.content.decode()


def test_page_cannot_revoke_another_members_or_tenants_key(
    client: Client, tenant: Tenant, other_tenant: Tenant, editor: User, viewer: User, outsider: User
) -> None:
    mine, _ = make_key(viewer, tenant)
    theirs, _ = make_key(outsider, other_tenant)
    client.force_login(editor)
    assert client.post(f"{PAGE}{mine.pk}/revoke/").status_code == 404
    assert client.post(f"{PAGE}{theirs.pk}/revoke/").status_code == 404
    assert client.get(f"{PAGE}{mine.pk}/revoke/").status_code == 405


def test_page_needs_sign_in_and_is_linked_from_the_navigation(client: Client, viewer: User) -> None:
    assert client.get(PAGE).status_code == 302
    client.force_login(viewer)
    assert f'href="{PAGE}"' in client.get("/audit/").content.decode()
