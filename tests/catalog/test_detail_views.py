"""The tool page: the definition in words, versions and diff, publish, roll back, discard
and state changes, each for the roles allowed and refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.models import AuditAction, AuditLog, Tenant, Tool, ToolStatus, VersionState
from catalog.selectors import definition_of, with_content
from tests.factories import make_definition

pytestmark = pytest.mark.django_db

NEW_DESCRIPTION = "Report disk usage per mount point, fullest first, with inode counts too."


def published(tenant: Tenant, actor: Any, **overrides: Any) -> Tool:
    return services.create_tool(
        tenant, definition=make_definition(**overrides), actor=actor, publish=True
    )


def draft_of(tool: Tool, actor: Any, **changes: Any) -> Any:
    """A new draft of the tool's head with top-level fields changed."""
    tool.refresh_from_db()
    base = with_content(tool.versions.filter(pk=tool.head_version_id)).get()
    definition = definition_of(base)
    definition.pop("version")
    definition.update(changes)
    return services.edit_tool(tool, definition=definition, base_version=base, actor=actor)


@pytest.fixture
def tool(tenant: Tenant, editor: Any) -> Tool:
    return published(tenant, editor)


@pytest.fixture
def history(tool: Tool, editor: Any) -> Tool:
    """Versions 1.0.0 and 1.0.1 published (1.0.1 current), and draft 1.0.2 pending."""
    services.publish_version(draft_of(tool, editor, description=NEW_DESCRIPTION), actor=editor)
    draft_of(tool, editor, description=NEW_DESCRIPTION + " Now faster.")
    tool.refresh_from_db()
    return tool


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def page(tool: Tool) -> str:
    return reverse("catalog:tool_detail", args=[tool.name])


# -- the page ----------------------------------------------------------------------------


def test_detail_shows_parameters_in_words_not_json(client: Client, viewer: Any, tool: Tool) -> None:
    response = signed_in(client, viewer).get(page(tool))
    assert response.status_code == 200
    html = response.content.decode()
    assert "threshold_pct" in html
    assert "whole number" in html
    assert "0 to 100" in html
    assert "Only report mounts at least this full." in html
    assert '"type": "integer"' not in html


def test_detail_says_how_the_tool_runs(client: Client, viewer: Any, tool: Tool) -> None:
    response = signed_in(client, viewer).get(page(tool))
    assert (
        "Python script run in the sandbox, 30 s timeout, 256 MB memory, no network access"
        in response.content.decode()
    )
    assert 'class="code-listing"' in response.content.decode()


def test_detail_shows_nested_parameters_indented(
    client: Client, viewer: Any, tenant: Tenant, editor: Any
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "targets": {
                "type": "array",
                "description": "Hosts to check.",
                "items": {
                    "type": "object",
                    "properties": {"host": {"type": "string", "description": "Name."}},
                    "required": ["host"],
                },
            }
        },
    }
    tool = published(
        tenant, editor, name="fleet_check", input_schema=schema, runtime={"kind": "none"}, script=""
    )
    html = signed_in(client, viewer).get(page(tool)).content.decode()
    assert "list of objects" in html
    assert 'class="param-name depth-1"' in html


def test_detail_shows_capabilities_with_estimates_and_policy(
    client: Client, viewer: Any, tool: Tool
) -> None:
    html = signed_in(client, viewer).get(page(tool)).content.decode()
    assert "disk_capacity_check" in html
    assert "200 + 2 * N" in html
    assert "≈ 220 ms for N=10" in html
    assert "Refused when the estimated cost is above 5 cost units" in html
    assert '<svg class="barchart prefs"' in html


def test_other_tenants_tool_is_404(client: Client, outsider: Any, tool: Tool) -> None:
    assert signed_in(client, outsider).get(page(tool)).status_code == 404


def test_anonymous_user_is_sent_to_sign_in(client: Client, tool: Tool) -> None:
    response = client.get(page(tool))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_detail_shows_draft_banner_with_publish_discard_and_edit(
    client: Client, editor: Any, history: Tool
) -> None:
    html = signed_in(client, editor).get(page(history)).content.decode()
    assert "Draft 1.0.2 is waiting to be published" in html
    assert 'data-dialog="publish-1.0.2"' in html
    assert reverse("catalog:version_discard", args=[history.name, "1.0.2"]) in html
    assert reverse("catalog:tool_edit", args=[history.name]) in html
    assert "Agents will get version 1.0.2 instead of 1.0.1." in html
    assert "Agents will get version 1.0.0 again instead of 1.0.1." in html


def test_viewer_sees_no_publish_rollback_or_state_buttons(
    client: Client, viewer: Any, history: Tool
) -> None:
    html = signed_in(client, viewer).get(page(history)).content.decode()
    assert "Draft 1.0.2 is waiting to be published" in html
    for absent in ('data-dialog="publish-', 'data-dialog="rollback-', 'data-dialog="state-'):
        assert absent not in html
    assert reverse("catalog:tool_edit", args=[history.name]) not in html


def test_detail_can_show_an_earlier_version(client: Client, viewer: Any, history: Tool) -> None:
    html = signed_in(client, viewer).get(page(history), {"version": "1.0.0"}).content.decode()
    assert "You are looking at version 1.0.0" in html


def test_detail_lists_the_tools_audit_trail(client: Client, viewer: Any, history: Tool) -> None:
    html = signed_in(client, viewer).get(page(history)).content.decode()
    assert "Published" in html
    assert f"?tool={history.name}" in html


def test_detail_page_queries_are_bounded(
    client: Client, editor: Any, history: Tool, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        services.disable_tool(history, actor=editor)
        services.enable_tool(history, actor=editor)
    signed_in(client, editor)
    with django_assert_max_num_queries(14):
        assert client.get(page(history)).status_code == 200


# -- publish and discard -----------------------------------------------------------------


def publish_url(tool: Tool, version: str) -> str:
    return reverse("catalog:version_publish", args=[tool.name, version])


def test_publish_makes_the_draft_current_and_writes_audit(
    client: Client, editor: Any, history: Tool
) -> None:
    response = signed_in(client, editor).post(
        publish_url(history, "1.0.2"), {"reason": "reviewed"}, REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 302
    history.refresh_from_db()
    assert history.current_version.version == "1.0.2"
    entry = AuditLog.objects.filter(tool=history, action=AuditAction.PUBLISH).first()
    assert (entry.reason, entry.ip, entry.actor) == ("reviewed", "10.1.2.3", editor)
    assert "is now current" in client.get(page(history)).content.decode()


def test_publish_without_a_reason_reopens_the_dialog_and_changes_nothing(
    client: Client, editor: Any, history: Tool
) -> None:
    response = signed_in(client, editor).post(publish_url(history, "1.0.2"), {"reason": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="publish-1.0.2" aria-labelledby="publish-1.0.2-title" open' in html
    assert "Say why in a few words" in html
    history.refresh_from_db()
    assert history.current_version.version == "1.0.1"


def test_publishing_a_published_version_is_refused_with_a_message(
    client: Client, editor: Any, history: Tool
) -> None:
    response = signed_in(client, editor).post(
        publish_url(history, "1.0.0"), {"reason": "again"}, follow=True
    )
    assert "Nothing was changed" in response.content.decode()
    assert "already published" in response.content.decode()
    history.refresh_from_db()
    assert history.current_version.version == "1.0.1"


def test_viewer_gets_403_posting_publish(client: Client, viewer: Any, history: Tool) -> None:
    response = signed_in(client, viewer).post(publish_url(history, "1.0.2"), {"reason": "x"})
    assert response.status_code == 403
    history.refresh_from_db()
    assert history.current_version.version == "1.0.1"


def test_publish_of_other_tenants_tool_is_404(client: Client, outsider: Any, history: Tool) -> None:
    response = signed_in(client, outsider).post(publish_url(history, "1.0.2"), {"reason": "x"})
    assert response.status_code == 404


def test_publish_is_post_only(client: Client, editor: Any, history: Tool) -> None:
    assert signed_in(client, editor).get(publish_url(history, "1.0.2")).status_code == 405


def test_discarding_a_draft_deletes_it_and_keeps_current(
    client: Client, editor: Any, history: Tool
) -> None:
    url = reverse("catalog:version_discard", args=[history.name, "1.0.2"])
    assert signed_in(client, editor).post(url).status_code == 302
    history.refresh_from_db()
    assert not history.versions.filter(version="1.0.2").exists()
    assert history.head_version == history.current_version
    assert AuditLog.objects.filter(tool=history, action=AuditAction.DISCARD).exists()


def test_discarding_a_published_version_is_refused(
    client: Client, editor: Any, history: Tool
) -> None:
    url = reverse("catalog:version_discard", args=[history.name, "1.0.0"])
    response = signed_in(client, editor).post(url, follow=True)
    assert "only drafts can be discarded" in response.content.decode()
    assert history.versions.filter(version="1.0.0").exists()


# -- roll back ---------------------------------------------------------------------------


def rollback_url(tool: Tool) -> str:
    return reverse("catalog:tool_rollback", args=[tool.name])


def test_rollback_with_a_reason_makes_the_earlier_version_current(
    client: Client, editor: Any, history: Tool
) -> None:
    response = signed_in(client, editor).post(
        rollback_url(history), {"to_version": "1.0.0", "reason": "1.0.1 confused agents"}
    )
    assert response.status_code == 302
    history.refresh_from_db()
    assert history.current_version.version == "1.0.0"
    entry = AuditLog.objects.filter(tool=history, action=AuditAction.ROLLBACK).get()
    assert entry.reason == "1.0.1 confused agents"
    assert entry.changes["current_version"] == ["1.0.1", "1.0.0"]


def test_rollback_to_a_draft_is_refused_with_a_message_and_nothing_changes(
    client: Client, editor: Any, history: Tool
) -> None:
    before = AuditLog.objects.count()
    response = signed_in(client, editor).post(
        rollback_url(history), {"to_version": "1.0.2", "reason": "try"}, follow=True
    )
    assert "1.0.2 was never published" in response.content.decode()
    history.refresh_from_db()
    assert history.current_version.version == "1.0.1"
    assert AuditLog.objects.count() == before


def test_rollback_without_reason_reopens_its_dialog(
    client: Client, editor: Any, history: Tool
) -> None:
    response = signed_in(client, editor).post(rollback_url(history), {"to_version": "1.0.0"})
    assert response.status_code == 200
    assert 'id="rollback-1.0.0" aria-labelledby="rollback-1.0.0-title" open' in (
        response.content.decode()
    )
    history.refresh_from_db()
    assert history.current_version.version == "1.0.1"


def test_rollback_to_an_unknown_version_is_an_error(
    client: Client, editor: Any, history: Tool
) -> None:
    response = signed_in(client, editor).post(
        rollback_url(history), {"to_version": "9.9.9", "reason": "x"}, follow=True
    )
    assert "this tool has no version 9.9.9" in response.content.decode()
    history.refresh_from_db()
    assert history.current_version.version == "1.0.1"


def test_operator_cannot_roll_back(client: Client, operator: Any, history: Tool) -> None:
    response = signed_in(client, operator).post(
        rollback_url(history), {"to_version": "1.0.0", "reason": "x"}
    )
    assert response.status_code == 403
    history.refresh_from_db()
    assert history.current_version.version == "1.0.1"


# -- diff --------------------------------------------------------------------------------


def diff_url(tool: Tool) -> str:
    return reverse("catalog:tool_diff", args=[tool.name])


def test_diff_shows_the_changed_lines_of_both_versions(
    client: Client, viewer: Any, history: Tool
) -> None:
    response = signed_in(client, viewer).get(diff_url(history), {"a": "1.0.0", "b": "1.0.1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<td class="chg-old">' in html
    assert "Report disk usage per mount point, largest first." in html
    assert '<td class="chg-new">' in html
    assert NEW_DESCRIPTION in html
    assert '<span class="path">description</span>' in html
    assert "<html" in html


def test_diff_for_htmx_is_only_the_fragment(client: Client, viewer: Any, history: Tool) -> None:
    response = signed_in(client, viewer).get(
        diff_url(history), {"a": "1.0.0", "b": "1.0.2"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="diff-result"')
    assert "<html" not in html
    assert "1.0.0 → 1.0.2" in html


def test_diff_of_an_unknown_version_says_so(client: Client, viewer: Any, history: Tool) -> None:
    response = signed_in(client, viewer).get(diff_url(history), {"a": "0.0.1", "b": "1.0.1"})
    assert response.status_code == 200
    assert "this tool has no version 0.0.1" in response.content.decode()


def test_diff_of_other_tenants_tool_is_404(client: Client, outsider: Any, history: Tool) -> None:
    response = signed_in(client, outsider).get(diff_url(history), {"a": "1.0.0", "b": "1.0.1"})
    assert response.status_code == 404


# -- state -------------------------------------------------------------------------------


def state(client: Client, tool: Tool, action: str, reason: str = "") -> Any:
    url = reverse("catalog:tool_state", args=[tool.name])
    return client.post(url, {"action": action, "reason": reason})


def test_operator_can_disable_but_not_deprecate(client: Client, operator: Any, tool: Tool) -> None:
    signed_in(client, operator)
    assert state(client, tool, "disable", "noisy").status_code == 302
    assert state(client, tool, "deprecate").status_code == 403
    tool.refresh_from_db()
    assert (tool.enabled, tool.status) == (False, ToolStatus.ACTIVE)
    entry = AuditLog.objects.get(tool=tool, action=AuditAction.DISABLE)
    assert entry.reason == "noisy"


def test_operator_sees_disable_but_not_deprecate_or_archive(
    client: Client, operator: Any, tool: Tool
) -> None:
    html = signed_in(client, operator).get(page(tool)).content.decode()
    assert 'data-dialog="state-disable"' in html
    assert 'data-dialog="state-deprecate"' not in html
    assert 'data-dialog="state-archive"' not in html


def test_editor_can_deprecate_mark_testing_archive_and_restore(
    client: Client, editor: Any, tool: Tool
) -> None:
    signed_in(client, editor)
    state(client, tool, "deprecate", "replaced by disk_usage_v2")
    tool.refresh_from_db()
    assert tool.status == ToolStatus.DEPRECATED
    state(client, tool, "testing")
    tool.refresh_from_db()
    assert tool.status == ToolStatus.TESTING
    state(client, tool, "archive")
    tool.refresh_from_db()
    assert tool.is_archived
    html = client.get(page(tool)).content.decode()
    assert "This tool was archived" in html
    assert 'data-dialog="state-restore"' in html
    assert 'data-dialog="state-disable"' not in html
    state(client, tool, "restore")
    tool.refresh_from_db()
    assert not tool.is_archived


def test_viewer_cannot_change_state(client: Client, viewer: Any, tool: Tool) -> None:
    assert state(signed_in(client, viewer), tool, "disable").status_code == 403
    tool.refresh_from_db()
    assert tool.enabled


def test_unknown_state_action_changes_nothing(client: Client, editor: Any, tool: Tool) -> None:
    response = state(signed_in(client, editor), tool, "explode")
    assert response.status_code == 302
    tool.refresh_from_db()
    assert (tool.enabled, tool.status) == (True, ToolStatus.ACTIVE)


def test_state_change_on_other_tenants_tool_is_404(
    client: Client, outsider: Any, tool: Tool
) -> None:
    assert state(signed_in(client, outsider), tool, "disable").status_code == 404


def test_never_published_tool_shows_its_draft(
    client: Client, viewer: Any, tenant: Tenant, editor: Any
) -> None:
    tool = services.create_tool(tenant, definition=make_definition(), actor=editor)
    assert tool.head_version.state == VersionState.DRAFT
    html = signed_in(client, viewer).get(page(tool)).content.decode()
    assert "Not published yet" in html
    assert "Never published" in html
    assert "threshold_pct" in html


@pytest.mark.django_db
def test_a_draft_older_than_the_current_version_cannot_be_published(
    client: Client, tenant: Tenant, editor: Any
) -> None:
    """Saved as a draft, edited, then the edit published: the first draft stays, but
    publishing it would take agents back, so it is refused and not offered."""
    tool = services.create_tool(tenant, definition=make_definition(), actor=editor)
    first = tool.head_version
    definition = make_definition(description="Report disk usage, the largest mounts first.")
    definition.pop("name")
    definition.pop("version", None)
    newer = services.edit_tool(tool, definition=definition, base_version=first, actor=editor)
    services.publish_version(newer, actor=editor)

    with pytest.raises(ValidationError, match="older than the current version"):
        services.publish_version(first, actor=editor)
    client.force_login(editor)
    html = client.get(reverse("catalog:tool_detail", args=[tool.name])).content.decode()
    assert "Older than the current version: edit that one instead." in html
    assert f'data-dialog="publish-{first.version}"' not in html
