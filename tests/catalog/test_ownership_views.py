"""The pages follow the ownership rule: an editor who does not own a tool sees no button
that changes it, and the pages refuse the change (403); enabling and disabling stay open."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.models import AuditLog, Tenant, Tool
from catalog.selectors import definition_of, with_content
from tests.factories import MembershipFactory, UserFactory, make_definition

pytestmark = pytest.mark.django_db

CHANGE_BUTTONS = ('data-dialog="publish-', 'data-dialog="rollback-', "Edit</a>")
OWNER_ONLY_STATES = ("testing", "deprecate", "archive")


@pytest.fixture
def second_editor(tenant: Tenant) -> Any:
    user = UserFactory(username="editor2-acme")
    MembershipFactory(user=user, tenant=tenant, role="editor")
    return user


@pytest.fixture
def tool(tenant: Tenant, editor: Any) -> Tool:
    """Owned by ``editor``: 1.0.0 published, 1.0.1 published (current), a draft 1.0.2."""
    tool = services.create_tool(tenant, definition=make_definition(), actor=editor, publish=True)
    for description, publish in (("Second, published.", True), ("Third, a draft.", False)):
        tool.refresh_from_db()
        head = with_content(tool.versions.filter(pk=tool.head_version_id)).get()
        definition = definition_of(head) | {"description": description}
        definition.pop("version")
        version = services.edit_tool(tool, definition=definition, base_version=head, actor=editor)
        if publish:
            services.publish_version(version, actor=editor)
    tool.refresh_from_db()
    return tool


def html_for(client: Client, user: Any, tool: Tool) -> str:
    client.force_login(user)
    return client.get(reverse("catalog:tool_detail", args=[tool.name])).content.decode()


def test_owner_sees_the_buttons_that_change_the_tool(
    client: Client, editor: Any, tool: Tool
) -> None:
    html = html_for(client, editor, tool)
    for button in (*CHANGE_BUTTONS, *(f'data-dialog="state-{s}"' for s in OWNER_ONLY_STATES)):
        assert button in html


def test_editor_who_does_not_own_the_tool_sees_only_enable_and_disable(
    client: Client, second_editor: Any, tool: Tool
) -> None:
    html = html_for(client, second_editor, tool)
    for button in (*CHANGE_BUTTONS, *(f'data-dialog="state-{s}"' for s in OWNER_ONLY_STATES)):
        assert button not in html
    assert 'data-dialog="state-disable"' in html
    assert "Only its owners or an admin can change this tool." in html


def test_admin_sees_the_buttons_on_any_tool(client: Client, admin: Any, tool: Tool) -> None:
    html = html_for(client, admin, tool)
    assert 'data-dialog="publish-1.0.2"' in html
    assert 'data-dialog="state-archive"' in html


def test_a_tool_nobody_owns_can_be_changed_by_any_editor(
    client: Client, second_editor: Any, tool: Tool
) -> None:
    tool.owners.clear()
    html = html_for(client, second_editor, tool)
    assert 'data-dialog="publish-1.0.2"' in html


def test_editor_page_is_403_for_a_tool_the_editor_does_not_own(
    client: Client, second_editor: Any, tool: Tool
) -> None:
    client.force_login(second_editor)
    url = reverse("catalog:tool_edit", args=[tool.name])
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


@pytest.mark.parametrize(
    ("url_name", "args", "data"),
    [
        ("version_publish", ["1.0.2"], {"reason": "mine now"}),
        ("version_discard", ["1.0.2"], {}),
        ("tool_rollback", [], {"to_version": "1.0.0", "reason": "back"}),
        ("tool_state", [], {"action": "deprecate", "reason": "old"}),
        ("tool_state", [], {"action": "archive", "reason": "gone"}),
    ],
)
def test_changes_to_a_tool_the_editor_does_not_own_are_refused(
    client: Client, second_editor: Any, tool: Tool, url_name: str, args: list[str], data: dict
) -> None:
    client.force_login(second_editor)
    before = AuditLog.objects.count()
    response = client.post(reverse(f"catalog:{url_name}", args=[tool.name, *args]), data)
    assert response.status_code == 403
    assert AuditLog.objects.count() == before


def test_editor_who_does_not_own_the_tool_may_still_disable_it(
    client: Client, second_editor: Any, tool: Tool
) -> None:
    client.force_login(second_editor)
    url = reverse("catalog:tool_state", args=[tool.name])
    response = client.post(url, {"action": "disable", "reason": "flaky"})
    assert response.status_code == 302
    assert not Tool.objects.get(pk=tool.pk).enabled
