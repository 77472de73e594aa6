"""Room on a tool's page for the apps above the catalog: slots they register on their
AppConfig and fill with htmx fragments from their own URLs."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.display.slots import slots_for
from catalog.models import Tenant, Tool
from tests.factories import make_definition
from tests.pages import LOADED_SLOT, with_slots

pytestmark = pytest.mark.django_db


@pytest.fixture
def tool(tenant: Tenant, admin: Any) -> Tool:
    definition = make_definition(
        runtime={"kind": "script", "timeout_s": 5, "memory_mb": 128, "network": False},
        script="def main(**kwargs):\n    return 1\n",
    )
    return services.create_tool(tenant, definition=definition, actor=admin, publish=True)


def test_the_planner_fills_the_actions_slot_with_try_it(tool: Tool) -> None:
    urls = [slot.url for slot in slots_for(tool.name)["actions"]]
    assert reverse("planner:try_it_button", args=[tool.name]) in urls


def test_the_page_leaves_a_placeholder_htmx_fills_after_loading(
    client: Client, operator: Any, tool: Tool
) -> None:
    client.force_login(operator)
    page = client.get(reverse("catalog:tool_detail", args=[tool.name]))
    html = page.content.decode()
    placeholders = LOADED_SLOT.findall(html)
    assert ("span", reverse("planner:try_it_button", args=[tool.name])) in placeholders
    assert 'href="' + reverse("planner:try_it", args=[tool.name]) + '"' not in html
    filled = with_slots(client, page)
    assert 'href="' + reverse("planner:try_it", args=[tool.name]) + '">Try it</a>' in filled


def test_a_viewer_gets_an_empty_fragment_and_the_placeholder_goes(
    client: Client, viewer: Any, tool: Tool
) -> None:
    client.force_login(viewer)
    fragment = client.get(reverse("planner:try_it_button", args=[tool.name]))
    assert fragment.status_code == 200 and fragment.content.decode().strip() == ""


def test_a_fragment_is_scoped_to_the_tenant(client: Client, outsider: Any, tool: Tool) -> None:
    client.force_login(outsider)
    assert client.get(reverse("planner:try_it_button", args=[tool.name])).status_code == 404


def test_a_fragment_after_the_session_ended_sends_the_browser_to_sign_in(
    client: Client, tool: Tool
) -> None:
    page = reverse("catalog:tool_detail", args=[tool.name])
    fragment = client.get(
        reverse("planner:try_it_button", args=[tool.name]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{page}",
    )
    # Not the sign-in page swapped into the tool page: htmx sends the browser there.
    assert fragment.status_code == 200
    assert fragment["HX-Redirect"] == f"{reverse('login')}?next={page}"
    assert fragment.content == b""
    plain = client.get(page)
    assert plain.status_code == 302 and plain["Location"].startswith(reverse("login"))
