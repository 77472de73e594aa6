"""Cancelling a run and deciding runs from the pages: the cancel button, the approval
queue, and approving or rejecting from the queue or a run's page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import REASON_MAX_LENGTH, AuditAction, AuditLog, Tenant, ToolVersion
from telemetry.models import ExecutionStatus
from tests.telemetry.test_run_pages import finished, queued, version_of

pytestmark = pytest.mark.django_db
S = ExecutionStatus
QUEUE = reverse("planner:approval_queue")


@pytest.fixture
def version(tenant: Tenant) -> ToolVersion:
    return version_of(tenant)


def test_operator_cancels_an_unfinished_run(
    client: Client, operator: Any, version: ToolVersion
) -> None:
    run = queued(version)
    client.force_login(operator)
    response = client.post(
        reverse("planner:run_cancel", args=[run.pk]), {"reason": "wrong host"}, follow=True
    )
    run.refresh_from_db()
    assert run.status == S.CANCELLED and run.decision_reason == "wrong host"
    assert "was cancelled" in response.content.decode()


def test_cancelling_a_finished_run_is_a_message_and_changes_nothing(
    client: Client, operator: Any, version: ToolVersion
) -> None:
    run = finished(version)
    client.force_login(operator)
    response = client.post(reverse("planner:run_cancel", args=[run.pk]), follow=True)
    assert response.status_code == 200
    assert "can no longer be cancelled" in response.content.decode()
    run.refresh_from_db()
    assert run.status == S.SUCCEEDED


def test_viewer_cannot_cancel(client: Client, viewer: Any, version: ToolVersion) -> None:
    run = queued(version)
    client.force_login(viewer)
    assert client.post(reverse("planner:run_cancel", args=[run.pk])).status_code == 403
    assert client.get(reverse("planner:run_cancel", args=[run.pk])).status_code == 405


def test_admin_approves_from_the_queue_and_the_item_updates(
    client: Client, admin: Any, version: ToolVersion
) -> None:
    run = queued(version, requires_approval=True)
    client.force_login(admin)
    assert f"Run #{run.pk}" in client.get(QUEUE).content.decode()
    response = client.post(
        reverse("planner:run_decide", args=[run.pk]),
        {"decision": "approve", "back": "queue"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<article id="queue-run-{run.pk}"') and "Approved" in body
    run.refresh_from_db()
    assert run.status == S.QUEUED and run.decided_by == admin
    assert "Nothing is waiting for approval" in client.get(QUEUE).content.decode()


def test_reject_needs_a_reason_shown_next_to_the_field(
    client: Client, admin: Any, version: ToolVersion
) -> None:
    run = queued(version, requires_approval=True)
    client.force_login(admin)
    decide = reverse("planner:run_decide", args=[run.pk])
    response = client.post(decide, {"decision": "reject", "back": "queue"})
    assert response.status_code == 200
    assert f'id="reason-{run.pk}-errors"' in response.content.decode()
    run.refresh_from_db()
    assert run.status == S.AWAITING_APPROVAL
    response = client.post(decide, {"decision": "reject", "reason": "too risky", "back": "queue"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == S.REJECTED
    assert AuditLog.objects.filter(action=AuditAction.REJECT, reason="too risky").exists()


def test_reject_without_reason_on_the_detail_page_shows_the_error_there(
    client: Client, admin: Any, version: ToolVersion
) -> None:
    run = queued(version, requires_approval=True)
    client.force_login(admin)
    response = client.post(reverse("planner:run_decide", args=[run.pk]), {"decision": "reject"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="decision-reason-errors"' in body


def test_non_admins_get_403_on_the_queue_and_on_decide(
    client: Client, operator: Any, version: ToolVersion
) -> None:
    run = queued(version, requires_approval=True)
    client.force_login(operator)
    assert client.get(QUEUE).status_code == 403
    decide = reverse("planner:run_decide", args=[run.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 403


def test_a_reason_has_the_same_limit_on_the_page_as_in_the_api(
    client: Client, admin: Any, version: ToolVersion
) -> None:
    """One limit for a reason everywhere (the audit log's): a page took twice the API's."""
    run = queued(version, requires_approval=True)
    client.force_login(admin)
    decide = reverse("planner:run_decide", args=[run.pk])
    too_long = "x" * (REASON_MAX_LENGTH + 1)
    response = client.post(decide, {"decision": "reject", "reason": too_long, "back": "queue"})
    assert (
        response.status_code == 200 and f'id="reason-{run.pk}-errors"' in response.content.decode()
    )
    run.refresh_from_db()
    assert run.status == S.AWAITING_APPROVAL
    api = APIClient()
    api.force_login(admin)
    refused = api.post(f"/api/v1/executions/{run.pk}/reject", {"reason": too_long}, format="json")
    assert refused.status_code == 400
    fitting = "x" * REASON_MAX_LENGTH
    response = client.post(decide, {"decision": "reject", "reason": fitting, "back": "queue"})
    assert response.status_code == 302
