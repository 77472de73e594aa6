"""A tool's state in one vocabulary: the same word and sentence on every page, never
"Disabled" next to "Enabled", and an archived tool offers no run."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.models import Tenant, Tool, ToolStatus
from tests.factories import make_definition
from tests.pages import with_slots

pytestmark = pytest.mark.django_db

SCRIPT = "def main(**kwargs):\n    return 1\n"


@pytest.fixture
def tool(tenant: Tenant, admin: Any) -> Tool:
    definition = make_definition(
        runtime={"kind": "script", "timeout_s": 5, "memory_mb": 128, "network": False},
        script=SCRIPT,
    )
    return services.create_tool(tenant, definition=definition, actor=admin, publish=True)


def detail(client: Client, user: Any, tool: Tool) -> str:
    """The tool page as a person sees it once htmx has filled its slots."""
    client.force_login(user)
    return with_slots(client, client.get(reverse("catalog:tool_detail", args=[tool.name])))


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_an_archived_tool_says_archived_and_offers_no_run(
    client: Client, admin: Any, tool: Tool
) -> None:
    services.archive_tool(tool, actor=admin)
    html = detail(client, admin, tool)
    text = visible_text(html)
    assert "Archived" in text
    assert "Agents cannot see or run it: it is archived." in text
    assert "Enabled" not in text
    assert "can use it" not in text
    assert reverse("planner:try_it", args=[tool.name]) not in html


def test_an_archived_tool_with_a_draft_does_not_say_agents_still_get_a_version(
    client: Client, admin: Any, tool: Tool
) -> None:
    base = tool.current_version
    definition = make_definition(
        description="Changed.",
        runtime={"kind": "script", "timeout_s": 5, "memory_mb": 128, "network": False},
        script=SCRIPT,
    )
    definition.pop("version")
    services.edit_tool(tool, definition=definition, base_version=base, actor=admin)
    services.archive_tool(tool, actor=admin)
    text = visible_text(detail(client, admin, tool))
    assert "still get" not in text
    assert "Agents cannot see or run it: it is archived." in text


def test_a_tool_disabled_by_its_status_is_disabled_everywhere(
    client: Client, admin: Any, tool: Tool
) -> None:
    services.set_tool_status(tool, status=ToolStatus.DISABLED, actor=admin)
    text = visible_text(detail(client, admin, tool))
    assert "Agents cannot see or run it: it is disabled." in text
    assert "Enabled" not in text
    client.force_login(admin)
    rows = client.get(reverse("catalog:tool_list")).content.decode()
    row = re.search(r'<td class="col-status">.*?<td class="col-enabled">[^<]*', rows, re.S)
    assert row and "Disabled" in row.group(0) and row.group(0).endswith("No")
    try_page = client.get(reverse("planner:try_it", args=[tool.name])).content.decode()
    assert "is disabled, so it cannot be run" in try_page


def test_a_switched_off_tool_reads_disabled_in_the_list_not_active(
    client: Client, admin: Any, tool: Tool
) -> None:
    services.disable_tool(tool, actor=admin)
    client.force_login(admin)
    rows = client.get(reverse("catalog:tool_list")).content.decode()
    row = re.search(r'<td class="col-status">.*?</td>', rows, re.S)
    assert row and "Disabled" in row.group(0) and "Active" not in row.group(0)
    assert "Agents can use it" in rows  # the column says what it means


def test_an_active_tool_says_agents_can_use_it(client: Client, admin: Any, tool: Tool) -> None:
    text = visible_text(detail(client, admin, tool))
    assert "Agents can use it." in text
    assert reverse("planner:try_it", args=[tool.name]) in detail(client, admin, tool)


def test_a_tool_disabled_by_its_status_is_not_run(tenant: Tenant, admin: Any, tool: Tool) -> None:
    from planner.services import RunRefused, resolve_version

    services.set_tool_status(tool, status=ToolStatus.DISABLED, actor=admin)
    with pytest.raises(RunRefused, match="is disabled"):
        resolve_version(tenant, tool.name)
