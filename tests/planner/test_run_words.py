"""The words around deciding runs: the menu's approvals count after a decision, the
queue's own count, and costs with their unit on Try it and the tool's page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import Tenant, ToolVersion
from tests.planner.test_run_decisions import QUEUE
from tests.telemetry.test_run_pages import queued, version_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(tenant: Tenant) -> ToolVersion:
    return version_of(tenant)


def nav_count(html: str) -> str:
    found = re.search(r'<a id="nav-approvals"[^>]*>Approvals(.*?)</a>', html, re.S)
    assert found, "no Approvals link"
    count = re.search(r"data-approvals-count>(\d+)<", found.group(1))
    return count.group(1) if count else "none"


def test_approving_in_place_updates_the_menus_count(
    client: Client, admin: Any, version: ToolVersion
) -> None:
    first = queued(version, requires_approval=True)
    queued(version, requires_approval=True)
    client.force_login(admin)
    assert nav_count(client.get(QUEUE).content.decode()) == "2"

    response = client.post(
        reverse("planner:run_decide", args=[first.pk]),
        {"decision": "approve", "back": "queue"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert '<a id="nav-approvals" href="' in html and 'hx-swap-oob="true"' in html
    assert nav_count(html) == "1"


def test_rejecting_the_last_run_in_place_removes_the_count(
    client: Client, admin: Any, version: ToolVersion
) -> None:
    run = queued(version, requires_approval=True)
    client.force_login(admin)
    response = client.post(
        reverse("planner:run_decide", args=[run.pk]),
        {"decision": "reject", "reason": "not now", "back": "queue"},
        HTTP_HX_REQUEST="true",
    )
    assert nav_count(response.content.decode()) == "none"


def test_the_page_after_a_decision_without_htmx_shows_the_new_count(
    client: Client, admin: Any, version: ToolVersion
) -> None:
    run = queued(version, requires_approval=True)
    client.force_login(admin)
    response = client.post(
        reverse("planner:run_decide", args=[run.pk]),
        {"decision": "approve", "back": "queue"},
        follow=True,
    )
    assert nav_count(response.content.decode()) == "none"


def test_costs_carry_their_unit_on_try_it_and_the_tool_page(
    client: Client, tenant: Tenant, operator: Any
) -> None:
    from tests.planner.test_try_it_page import make_tool

    make_tool(tenant)
    client.force_login(operator)
    try_it = client.get(reverse("planner:try_it", args=["disk_usage"])).content.decode()
    assert "about 5 cost units" in try_it
    assert "above 10 cost units" in try_it
    page = client.get(reverse("catalog:tool_detail", args=["disk_usage"])).content.decode()
    assert "≈ 5 cost units" in page


def test_the_queues_own_count_follows_a_decision_made_in_place(
    client: Client, admin: Any, version: ToolVersion
) -> None:
    first = queued(version, requires_approval=True)
    queued(version, requires_approval=True)
    client.force_login(admin)
    assert "2 runs waiting, oldest first." in client.get(QUEUE).content.decode()
    response = client.post(
        reverse("planner:run_decide", args=[first.pk]),
        {"decision": "approve", "back": "queue"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert '<p id="queue-count" class="muted small" hx-swap-oob="true">1 run waiting' in html
