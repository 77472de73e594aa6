"""Rate limits per user (whichever key they use), reads and writes apart, in the shared cache."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from catalog.models import Role, Tenant
from config.api import throttling
from config.api.throttling import parse_rate
from tests.catalog.api.probe import PROBE, URLCONF, bearer, fresh_cache, make_key

pytestmark = pytest.mark.urls(URLCONF)


# 15 s into a minute: a window boundary never falls between a test's requests.
NOW = 60 * 28_000_000 + 15.25


@pytest.fixture(autouse=True)
def tiny_limits(settings: Any, request: Any, monkeypatch: Any) -> None:
    fresh_cache(settings, request.node.nodeid)
    settings.API_THROTTLE_READ = "3/min"
    settings.API_THROTTLE_WRITE = "2/min"
    monkeypatch.setattr(throttling, "clock", lambda: NOW)


def test_reads_over_the_limit_get_429_with_retry_after(tenant: Tenant, viewer: User) -> None:
    _, token = make_key(viewer, tenant)
    api = APIClient()
    assert [api.get(PROBE, **bearer(token)).status_code for _ in range(3)] == [200] * 3
    refused = api.get(PROBE, **bearer(token))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"  # the rest of the minute, rounded up
    error = refused.json()["error"]
    assert error["code"] == "throttled"
    assert error["fields"] == []
    assert f"{refused['Retry-After']} s" in error["message"]


def test_writes_have_their_own_budget(tenant: Tenant, editor: User) -> None:
    _, token = make_key(editor, tenant, Role.EDITOR)
    api = APIClient()
    assert [api.post(PROBE, {}, **bearer(token)).status_code for _ in range(3)] == [201, 201, 429]
    assert api.get(PROBE, **bearer(token)).status_code == 200


def test_a_users_keys_and_session_share_the_users_budget(
    tenant: Tenant, viewer: User, operator: User
) -> None:
    _, first = make_key(viewer, tenant, name="first")
    _, second = make_key(viewer, tenant, name="second")
    _, theirs = make_key(operator, tenant, name="theirs")
    api = APIClient()
    for _ in range(3):
        api.get(PROBE, **bearer(first))
    assert api.get(PROBE, **bearer(first)).status_code == 429
    assert api.get(PROBE, **bearer(second)).status_code == 429  # a new key is no new budget
    signed_in = APIClient()
    signed_in.force_login(viewer)
    assert signed_in.get(PROBE).status_code == 429
    assert api.get(PROBE, **bearer(theirs)).status_code == 200


def test_the_budget_comes_back_in_the_next_window(
    monkeypatch: Any, tenant: Tenant, viewer: User
) -> None:
    _, token = make_key(viewer, tenant)
    api = APIClient()
    for _ in range(4):
        api.get(PROBE, **bearer(token))
    monkeypatch.setattr(throttling, "clock", lambda: NOW + 45)
    assert api.get(PROBE, **bearer(token)).status_code == 200


def test_signed_in_users_are_limited_per_user(viewer: User, operator: User) -> None:
    api = APIClient()
    api.force_login(viewer)
    for _ in range(3):
        api.get(PROBE)
    assert api.get(PROBE).status_code == 429
    other = APIClient()
    other.force_login(operator)
    assert other.get(PROBE).status_code == 200


def test_a_limit_can_be_switched_off(settings: Any, tenant: Tenant, viewer: User) -> None:
    settings.API_THROTTLE_READ = "off"
    _, token = make_key(viewer, tenant)
    api = APIClient()
    assert {api.get(PROBE, **bearer(token)).status_code for _ in range(5)} == {200}


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("600/min", (600, 60)), ("10/s", (10, 1)), ("5/hour", (5, 3600)), ("1/day", (1, 86400))],
)
def test_rates_read_like_drfs(rate: str, parsed: tuple[int, int]) -> None:
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "off", "none"])
def test_an_empty_rate_means_no_limit(rate: str) -> None:
    assert parse_rate(rate) is None


def test_a_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="Bad rate"):
        parse_rate("fast")
