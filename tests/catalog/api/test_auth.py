"""API keys and sessions: who the caller is, in which tenant, with which role."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import ApiKey, Membership, Role, Tenant
from catalog.services import revoke_api_key
from tests.catalog.api.probe import PROBE, URLCONF, bearer, fresh_cache, make_key
from tests.factories import UserFactory

pytestmark = pytest.mark.urls(URLCONF)


@pytest.fixture(autouse=True)
def own_cache(settings: Any, request: Any) -> None:
    fresh_cache(settings, request.node.nodeid)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def assert_unauthorized(response: Any, code: str) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == code


def test_key_authenticates_as_its_creator_in_its_tenant(api: APIClient, editor: User) -> None:
    _, token = make_key(editor, editor.memberships.get().tenant, Role.EDITOR)
    response = api.get(PROBE, **bearer(token))
    assert response.status_code == 200
    assert response.json() == {
        "user": "editor-acme",
        "tenant": "acme",
        "role": "editor",
        "via": "key",
    }


def test_x_api_key_header_works_too(api: APIClient, tenant: Tenant, viewer: User) -> None:
    _, token = make_key(viewer, tenant)
    response = api.get(PROBE, HTTP_X_API_KEY=token)
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"


def test_key_works_for_its_tenant_even_if_the_session_is_elsewhere(
    api: APIClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    user = UserFactory(username="both")
    Membership.objects.create(user=user, tenant=tenant, role=Role.EDITOR)
    Membership.objects.create(user=user, tenant=other_tenant, role=Role.EDITOR)
    _, token = make_key(user, other_tenant, Role.VIEWER)
    api.force_login(user)  # the session would pick acme
    assert api.get(PROBE, **bearer(token)).json()["tenant"] == "globex"


def test_no_credentials_is_401(api: APIClient, db: Any) -> None:
    assert_unauthorized(api.get(PROBE), "not_authenticated")


@pytest.mark.parametrize(
    "token",
    ["", "nonsense", "qv_", "qv_abc", "qv_0000000000000000_notthesecret", "Basic x"],
)
def test_unknown_or_malformed_key_is_401(api: APIClient, token: str, db: Any) -> None:
    assert_unauthorized(api.get(PROBE, **bearer(token)), "authentication_failed")


def test_right_prefix_with_wrong_secret_is_401(
    api: APIClient, tenant: Tenant, viewer: User
) -> None:
    key, token = make_key(viewer, tenant)
    forged = f"qv_{key.prefix}_{'A' * 43}"
    assert_unauthorized(api.get(PROBE, **bearer(forged)), "authentication_failed")
    assert api.get(PROBE, **bearer(token)).status_code == 200


def test_revoked_key_is_401(api: APIClient, tenant: Tenant, viewer: User) -> None:
    key, token = make_key(viewer, tenant)
    revoke_api_key(key, actor=viewer)
    response = api.get(PROBE, **bearer(token))
    assert_unauthorized(response, "authentication_failed")
    assert "revoked" in response.json()["error"]["message"]


def test_expired_key_is_401(api: APIClient, tenant: Tenant, viewer: User) -> None:
    key, token = make_key(viewer, tenant, expires_at=timezone.now() + timedelta(hours=1))
    assert api.get(PROBE, **bearer(token)).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.get(PROBE, **bearer(token))
    assert_unauthorized(response, "authentication_failed")
    assert "expired" in response.json()["error"]["message"]


def test_key_of_a_member_who_left_the_tenant_is_401(
    api: APIClient, tenant: Tenant, editor: User
) -> None:
    _, token = make_key(editor, tenant, Role.EDITOR)
    Membership.objects.filter(user=editor, tenant=tenant).delete()
    response = api.get(PROBE, **bearer(token))
    assert_unauthorized(response, "authentication_failed")
    assert "no longer belongs" in response.json()["error"]["message"]


def test_key_of_a_deactivated_user_is_401(api: APIClient, tenant: Tenant, editor: User) -> None:
    _, token = make_key(editor, tenant)
    User.objects.filter(pk=editor.pk).update(is_active=False)
    assert_unauthorized(api.get(PROBE, **bearer(token)), "authentication_failed")


def test_viewer_key_cannot_post(api: APIClient, tenant: Tenant, editor: User) -> None:
    _, viewer_token = make_key(editor, tenant, Role.VIEWER)
    _, editor_token = make_key(editor, tenant, Role.EDITOR)
    response = api.post(PROBE, {"x": 1}, **bearer(viewer_token))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert api.post(PROBE, {"x": 1}, **bearer(editor_token)).status_code == 201


def test_key_role_is_capped_by_its_creators_current_role(
    api: APIClient, tenant: Tenant, admin: User
) -> None:
    _, token = make_key(admin, tenant, Role.ADMIN)
    assert api.get(PROBE, **bearer(token)).json()["role"] == "admin"
    # Straight in the table: the cap holds even without the service lowering the key.
    Membership.objects.filter(user=admin, tenant=tenant).update(role=Role.VIEWER)
    assert api.get(PROBE, **bearer(token)).json()["role"] == "viewer"
    assert api.post(PROBE, {}, **bearer(token)).status_code == 403


def test_key_of_tenant_a_cannot_see_tenant_b(
    api: APIClient, tenant: Tenant, other_tenant: Tenant, admin: User, outsider: User
) -> None:
    theirs, _ = make_key(outsider, other_tenant, name="globex-key")
    _, token = make_key(admin, tenant, Role.ADMIN)
    response = api.get(f"/api/v1/keys/{theirs.pk}", **bearer(token))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    listed = api.get("/api/v1/keys", **bearer(token)).json()
    assert "globex-key" not in str(listed)


def test_last_used_at_is_written_at_most_once_a_minute(
    api: APIClient, tenant: Tenant, viewer: User, django_assert_max_num_queries: Any
) -> None:
    key, token = make_key(viewer, tenant)
    assert key.last_used_at is None
    api.get(PROBE, **bearer(token))
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    with django_assert_max_num_queries(1):  # one lookup, no write
        api.get(PROBE, **bearer(token))
    key.refresh_from_db()
    assert key.last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get(PROBE, **bearer(token))
    key.refresh_from_db()
    assert key.last_used_at > first - timedelta(minutes=2)


def test_session_user_gets_their_tenant_and_role(api: APIClient, operator: User) -> None:
    api.force_login(operator)
    assert api.get(PROBE).json() == {
        "user": "operator-acme",
        "tenant": "acme",
        "role": "operator",
        "via": "session",
    }


def test_session_post_needs_the_csrf_token(editor: User) -> None:
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(editor)
    refused = api.post(PROBE, {"x": 1})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in refused.json()["error"]["message"]
    api.get("/settings/api-keys/")  # any page sets the CSRF cookie
    csrf = api.cookies["csrftoken"].value
    assert api.post(PROBE, {"x": 1}, HTTP_X_CSRFTOKEN=csrf).status_code == 201


def test_key_callers_need_no_csrf_token(tenant: Tenant, editor: User) -> None:
    api = APIClient(enforce_csrf_checks=True)
    _, token = make_key(editor, tenant, Role.EDITOR)
    assert api.post(PROBE, {"x": 1}, **bearer(token)).status_code == 201


def test_signed_in_user_without_a_tenant_is_403(api: APIClient, db: Any) -> None:
    api.force_login(UserFactory(username="nobody"))
    response = api.get(PROBE)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_superusers_key_acts_as_admin(api: APIClient, tenant: Tenant) -> None:
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    _, token = make_key(root, tenant, Role.ADMIN)
    assert api.get(PROBE, **bearer(token)).json()["role"] == "admin"
