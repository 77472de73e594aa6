"""Signing in and out, throttling of failed sign-ins, tenant switching, security headers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from catalog.accounts.tenancy import SESSION_KEY
from tests.factories import MembershipFactory, UserFactory

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def clear_cache() -> None:
    cache.clear()


@pytest.fixture
def member(tenant: Any) -> Any:
    user = UserFactory(username="alice")
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(user=user, tenant=tenant, role="editor")
    return user


def _sign_in(client: Client, password: str, username: str = "alice") -> Any:
    return client.post("/login/", {"username": username, "password": password})


def test_anonymous_visitor_is_sent_to_sign_in(client: Client, db: Any) -> None:
    response = client.get("/tools/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/tools/"


def test_sign_in_lands_on_the_dashboard(client: Client, member: Any) -> None:
    response = _sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_sign_in_follows_a_local_next_but_not_another_site(client: Client, member: Any) -> None:
    response = client.post(
        "/login/", {"username": "alice", "password": PASSWORD, "next": "/audit/"}
    )
    assert response["Location"] == "/audit/"
    client.logout()
    response = client.post(
        "/login/", {"username": "alice", "password": PASSWORD, "next": "https://evil.test/"}
    )
    assert response["Location"] == "/"


def test_wrong_password_says_so_and_does_not_sign_in(client: Client, member: Any) -> None:
    response = _sign_in(client, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_repeated_failures_are_slowed_then_locked(
    client: Client, member: Any, settings: Any
) -> None:
    settings.SIGNIN_SLOW_AFTER = 2
    settings.SIGNIN_LOCK_AFTER = 4
    _sign_in(client, "wrong")
    response = _sign_in(client, "wrong")
    assert b"Please wait" in response.content
    # Even the right password is refused while the wait lasts, with Retry-After.
    response = _sign_in(client, PASSWORD)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "_auth_user_id" not in client.session


def test_lockout_lasts_and_names_its_length(client: Client, member: Any, settings: Any) -> None:
    from catalog.accounts import signin

    settings.SIGNIN_SLOW_AFTER = 100
    settings.SIGNIN_LOCK_AFTER = 3
    settings.SIGNIN_LOCK_SECONDS = 600
    for _ in range(3):
        signin.record_failure("alice", "127.0.0.1")
    response = _sign_in(client, PASSWORD)
    assert response.status_code == 429
    assert b"locked for 10 minutes" in response.content
    assert 590 <= int(response["Retry-After"]) <= 600


def test_a_successful_sign_in_clears_the_failures(
    client: Client, member: Any, settings: Any
) -> None:
    settings.SIGNIN_SLOW_AFTER = 3
    _sign_in(client, "wrong")
    _sign_in(client, "wrong")
    assert _sign_in(client, PASSWORD).status_code == 302
    client.logout()
    _sign_in(client, "wrong")
    response = _sign_in(client, PASSWORD)
    assert response.status_code == 302


def test_sign_out_needs_post(client: Client, member: Any) -> None:
    client.force_login(member)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_pages_carry_security_headers(client: Client, db: Any) -> None:
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_user_in_two_tenants_can_switch(
    client: Client, member: Any, other_tenant: Any, tenant: Any
) -> None:
    MembershipFactory(user=member, tenant=other_tenant, role="viewer")
    client.force_login(member)
    response = client.post("/tenant/", {"tenant": "globex"})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == "globex"
    page = client.get("/")
    assert page.context["current_tenant"] == other_tenant
    assert page.context["current_role"] == "viewer"
    assert page.context["can_edit"] is False


def test_user_cannot_switch_into_a_tenant_they_are_not_in(
    client: Client, member: Any, other_tenant: Any
) -> None:
    client.force_login(member)
    client.post("/tenant/", {"tenant": "globex"})
    assert client.session.get(SESSION_KEY) is None


def test_user_without_a_tenant_is_told_so(client: Client, db: Any) -> None:
    lonely = UserFactory(username="lonely")
    client.force_login(lonely)
    response = client.get("/tools/")
    assert response.status_code == 403
    assert b"not a member of any tenant" in response.content
