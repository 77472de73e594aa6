"""How a tool runs, shown on its page: telemetry's slot, filled with htmx from telemetry's
own URL, counting the tool's recent runs and listing its newest."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.display.slots import slots_for
from catalog.models import Tenant
from telemetry.models import Execution
from tests.pages import with_slots
from tests.telemetry.test_run_pages import S, finished, queued, version_of

pytestmark = pytest.mark.django_db


def fragment(client: Client, user: Any, name: str = "disk_usage") -> str:
    client.force_login(user)
    response = client.get(reverse("telemetry:tool_runs", args=[name]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_telemetry_fills_a_section_of_the_tool_page() -> None:
    urls = [slot.url for slot in slots_for("disk_usage")["sections"]]
    assert reverse("telemetry:tool_runs", args=["disk_usage"]) in urls


def test_the_tool_page_shows_how_it_runs_once_its_slots_are_filled(
    client: Client, viewer: Any, tenant: Tenant
) -> None:
    version = version_of(tenant)
    finished(version, result={"ok": True}, duration_ms=1200)
    client.force_login(viewer)
    page = client.get(reverse("catalog:tool_detail", args=["disk_usage"]))
    assert "tool-runs-title" not in page.content.decode()  # the catalog does not know it
    assert "tool-runs-title" in with_slots(client, page)


def test_it_counts_the_last_30_days_and_lists_the_newest_runs(
    client: Client, viewer: Any, tenant: Tenant
) -> None:
    version = version_of(tenant)
    for _ in range(3):
        finished(version, result={"ok": True}, duration_ms=1000)
    finished(version, status=S.FAILED, error="boom", duration_ms=3000)
    old = finished(version, result={"ok": True}, duration_ms=9000)
    Execution.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(days=40))
    waiting = queued(version)
    other = finished(version_of(tenant, "other_tool"), result={"ok": True}, duration_ms=5)

    html = fragment(client, viewer)
    assert "<strong>5</strong> runs" in html  # 4 finished and 1 queued this month
    assert "<strong>75%</strong> of those that finished succeeded" in html
    assert "taking 1 s on average" in html
    assert f"#{waiting.pk}<" in html
    assert f"#{other.pk}<" not in html
    assert html.count('<tr class="') == 5  # the newest five
    assert f"?tool={version.tool.name}" in html


def test_a_tool_that_never_ran_says_so(client: Client, viewer: Any, tenant: Tenant) -> None:
    version_of(tenant)
    html = fragment(client, viewer)
    assert "has not run yet" in html and "All its runs" not in html


def test_another_tenants_tool_is_not_found(client: Client, outsider: Any, tenant: Tenant) -> None:
    version_of(tenant)
    client.force_login(outsider)
    assert client.get(reverse("telemetry:tool_runs", args=["disk_usage"])).status_code == 404
