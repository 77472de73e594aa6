"""Shared fixtures: a tenant with one user per role, and an outsider in another tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.models import Role, Tenant
from tests.factories import MembershipFactory, TenantFactory, UserFactory


@pytest.fixture
def tenant(db: Any) -> Tenant:
    return TenantFactory(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db: Any) -> Tenant:
    return TenantFactory(slug="globex", name="Globex")


def _member(tenant: Tenant, role: str) -> Any:
    user = UserFactory(username=f"{role}-{tenant.slug}")
    MembershipFactory(user=user, tenant=tenant, role=role)
    return user


@pytest.fixture
def admin(tenant: Tenant) -> Any:
    return _member(tenant, Role.ADMIN)


@pytest.fixture
def editor(tenant: Tenant) -> Any:
    return _member(tenant, Role.EDITOR)


@pytest.fixture
def operator(tenant: Tenant) -> Any:
    return _member(tenant, Role.OPERATOR)


@pytest.fixture
def viewer(tenant: Tenant) -> Any:
    return _member(tenant, Role.VIEWER)


@pytest.fixture
def outsider(other_tenant: Tenant) -> Any:
    """An editor of another tenant."""
    return _member(other_tenant, Role.EDITOR)


@pytest.fixture(autouse=True)
def fresh_cache(settings: Any) -> None:
    """Each test gets its own empty cache: catalog revisions, sign-in and API throttling
    counts and cached exports of an earlier test (whose tenant may have had the same id),
    or of a test running at the same time in another xdist worker, must not leak in."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def eager_runs() -> Iterator[None]:
    """Queued runs execute at once in this process (Celery's eager mode), once the
    transaction that queued them commits; the real worker is tested in tests/integration."""
    from config.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def queued_tasks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of runs queued for a worker (instead of sending them to a broker); the
    planner's and telemetry's tests share it."""
    from planner import services as planner_services

    sent: list[int] = []
    monkeypatch.setattr(
        planner_services, "enqueue_execution", lambda execution: sent.append(execution.pk)
    )
    return sent
