"""The audit log viewer: filters by user, action, tool and dates, pages, entries, tenants."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog import services
from catalog.models import AuditAction, AuditLog, Tenant, Tool
from tests.factories import make_definition

pytestmark = pytest.mark.django_db

AUDIT = reverse("catalog:audit_list")


def make(tenant: Tenant, actor: Any, name: str) -> Tool:
    return services.create_tool(
        tenant, definition=make_definition(name=name), actor=actor, publish=True, ip="10.0.0.9"
    )


@pytest.fixture
def log(tenant: Tenant, editor: Any, operator: Any) -> dict[str, Tool]:
    """disk_usage created and published by the editor, then disabled by the operator;
    ping_host created by the editor ten days ago."""
    disk = make(tenant, editor, "disk_usage")
    services.disable_tool(disk, actor=operator, reason="paging too often", ip="10.0.0.5")
    ping = make(tenant, editor, "ping_host")
    AuditLog.objects.filter(tool=ping).update(created_at=timezone.now() - timedelta(days=10))
    return {"disk": disk, "ping": ping}


def rows(client: Client, **params: Any) -> str:
    response = client.get(AUDIT, params, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_audit_list_shows_who_when_where_what_and_why(
    client: Client, viewer: Any, log: dict[str, Tool]
) -> None:
    client.force_login(viewer)
    html = client.get(AUDIT).content.decode()
    assert "operator-acme" in html
    assert "from 10.0.0.5" in html
    assert "Disabled" in html
    assert "paging too often" in html
    assert reverse("catalog:tool_detail", args=["disk_usage"]) in html
    assert '<span class="path">enabled</span>' in html


def test_audit_list_is_newest_first(client: Client, viewer: Any, log: dict[str, Tool]) -> None:
    client.force_login(viewer)
    html = client.get(AUDIT).content.decode()
    assert html.index("paging too often") < html.index("ping_host")


def test_filter_by_user(client: Client, viewer: Any, log: dict[str, Tool]) -> None:
    client.force_login(viewer)
    html = rows(client, user="operator-acme")
    assert "paging too often" in html
    assert "ping_host" not in html
    assert "1 entry match" in html


def test_filter_by_action(client: Client, viewer: Any, log: dict[str, Tool]) -> None:
    client.force_login(viewer)
    html = rows(client, action=AuditAction.PUBLISH)
    assert html.count("badge-action-publish") == 2
    assert "badge-action-disable" not in html


def test_filter_by_tool(client: Client, viewer: Any, log: dict[str, Tool]) -> None:
    client.force_login(viewer)
    html = rows(client, tool="ping_host")
    assert "ping_host" in html
    assert "disk_usage" not in html


def test_filter_by_dates(client: Client, viewer: Any, log: dict[str, Tool]) -> None:
    client.force_login(viewer)
    today = timezone.localdate()
    recent = rows(client, date_from=(today - timedelta(days=1)).isoformat())
    assert "disk_usage" in recent
    assert "ping_host" not in recent
    old = rows(client, date_to=(today - timedelta(days=5)).isoformat())
    assert "ping_host" in old
    assert "disk_usage" not in old


def test_date_to_before_date_from_is_an_error_at_the_field(
    client: Client, viewer: Any, log: dict[str, Tool]
) -> None:
    client.force_login(viewer)
    html = client.get(AUDIT, {"date_from": "2025-05-02", "date_to": "2025-05-01"}).content.decode()
    assert "must be on or after the From date" in html
    assert "paging too often" not in html


def test_unknown_action_is_an_error_not_a_crash(
    client: Client, viewer: Any, log: dict[str, Tool]
) -> None:
    client.force_login(viewer)
    response = client.get(AUDIT, {"action": "explode"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_htmx_filter_returns_only_the_results_fragment(
    client: Client, viewer: Any, log: dict[str, Tool]
) -> None:
    client.force_login(viewer)
    html = rows(client, user="editor-acme")
    assert html.lstrip().startswith('<section id="audit-results"')
    assert "<html" not in html


def test_audit_list_pages_by_fifty(
    client: Client, viewer: Any, tenant: Tenant, editor: Any
) -> None:
    tool = make(tenant, editor, "busy")
    for _ in range(30):
        services.disable_tool(tool, actor=editor)
        services.enable_tool(tool, actor=editor)
    client.force_login(viewer)
    first = client.get(AUDIT).content.decode()
    assert first.count('<td class="reason">') == 50
    assert "Page 1 of 2" in first
    second = client.get(AUDIT, {"page": 2}).content.decode()
    assert second.count('<td class="reason">') == 12


def test_other_tenants_entries_are_not_listed(
    client: Client, viewer: Any, log: dict[str, Tool], other_tenant: Tenant, outsider: Any
) -> None:
    make(other_tenant, outsider, "secret_tool")
    client.force_login(viewer)
    assert "secret_tool" not in client.get(AUDIT).content.decode()


def test_audit_detail_shows_the_full_diff_and_links_back(
    client: Client, viewer: Any, log: dict[str, Tool]
) -> None:
    entry = AuditLog.objects.get(action=AuditAction.DISABLE)
    client.force_login(viewer)
    response = client.get(reverse("catalog:audit_detail", args=[entry.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "paging too often" in html
    assert '<span class="path">enabled</span>' in html
    assert AUDIT in html
    assert reverse("catalog:tool_detail", args=["disk_usage"]) in html


def test_audit_detail_of_other_tenant_is_404(
    client: Client, outsider: Any, log: dict[str, Tool]
) -> None:
    entry = AuditLog.objects.get(action=AuditAction.DISABLE)
    client.force_login(outsider)
    assert client.get(reverse("catalog:audit_detail", args=[entry.pk])).status_code == 404


def test_audit_log_needs_sign_in(client: Client, log: dict[str, Tool]) -> None:
    response = client.get(AUDIT)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_audit_list_queries_are_bounded(
    client: Client, viewer: Any, log: dict[str, Tool], django_assert_max_num_queries: Any
) -> None:
    client.force_login(viewer)
    with django_assert_max_num_queries(8):
        client.get(AUDIT)


@pytest.mark.django_db
def test_the_log_reads_in_words_not_stored_values(
    client: Client, tenant: Tenant, admin: Any, viewer: Any
) -> None:
    """No hashes, no ISO timestamps, no row ids: what a person did, in their words."""
    services.create_tool(tenant, definition=make_definition(), actor=admin)
    key, _ = services.create_api_key(tenant, name="nightly", role="viewer", actor=admin)
    services.revoke_api_key(key, actor=admin)
    services.set_sandbox_limits(
        tenant, network=False, internal_networks=None, max_memory_mb=128, revision=0, actor=admin
    )
    membership = tenant.memberships.get(user=viewer)
    services.remove_member(membership, actor=admin)
    client.force_login(admin)

    html = client.get(reverse("catalog:audit_list")).content.decode()

    assert "content_hash" not in html
    assert "revoked_at" not in html, html[
        html.find("revoked_at") - 300 : html.find("revoked_at") + 100
    ]
    assert f"script limits of {tenant.name}" in html
    assert "Removed member</span>" in html and viewer.get_username() in html
    assert "most memory a run may use (MB)" in html
    entry = AuditLog.objects.get(action=AuditAction.MEMBERSHIP, changes__role__1=None)
    detail = client.get(reverse("catalog:audit_detail", args=[entry.pk])).content.decode()
    assert f"removed member {viewer.get_username()}" in detail
