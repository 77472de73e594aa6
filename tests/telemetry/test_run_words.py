"""A run's words: the audit log says what happened to a run in plain words, and the time
it took is said against its estimate, with a unit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import AuditAction, AuditLog, Tenant, ToolVersion
from telemetry.in_words import against_estimate
from telemetry.models import Execution
from telemetry.services import approve_execution
from tests.telemetry.test_run_pages import finished, queued, version_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(tenant: Tenant) -> ToolVersion:
    return version_of(tenant)


def test_the_audit_log_says_what_happened_to_a_run_in_words(
    client: Client, admin: Any, version: ToolVersion
) -> None:
    run = queued(version, requires_approval=True)
    approve_execution(run, actor=admin, reason="fine")
    entry = AuditLog.objects.get(action=AuditAction.APPROVE)
    client.force_login(admin)
    for page in (reverse("catalog:audit_list"), reverse("catalog:audit_detail", args=[entry.pk])):
        html = client.get(page).content.decode()
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
        assert "awaiting_approval" not in html
        assert "Awaiting approval → Queued" in text
        assert "run run" not in text.lower()
        assert f"#{run.pk} of disk_usage" in text


@pytest.mark.parametrize(
    ("took", "estimate", "words"),
    [
        (72, 1, "about as estimated"),
        (1_000, 1, "999 ms longer than estimated"),
        (9_000, 3_000, "6 s longer than estimated"),
        (1_000, 3_000, "2 s shorter than estimated"),
        (3_100, 3_000, "about as estimated"),
    ],
)
def test_time_against_the_estimate_is_said_with_a_unit(
    version: ToolVersion, took: int, estimate: int, words: str
) -> None:
    run = finished(version, duration_ms=took)
    Execution.objects.filter(pk=run.pk).update(estimated_time_ms=estimate)
    run.refresh_from_db()
    assert against_estimate(run) == words


def test_a_run_of_a_1_ms_estimate_is_not_called_many_times_as_long(
    client: Client, viewer: Any, version: ToolVersion
) -> None:
    run = finished(version, duration_ms=72)
    Execution.objects.filter(pk=run.pk).update(estimated_time_ms=1)
    client.force_login(viewer)
    html = client.get(reverse("telemetry:run_detail", args=[run.pk])).content.decode()
    assert "times as long" not in html
    assert "about as estimated" in html
