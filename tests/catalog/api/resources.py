"""Helpers of the resource endpoints' tests: clients signed in as a role, tools with a
history, and the URLs. Fixtures here are imported by the test modules that use them."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from catalog import services
from catalog.models import Tenant, Tool, ToolVersion
from catalog.selectors import definition_of, with_content
from tests.factories import make_definition

API = "/api/v1"


@pytest.fixture(autouse=True)
def no_throttling(settings: Any) -> None:
    """Rate limits are tested with the throttling itself, not here."""
    settings.API_THROTTLE_READ = "off"
    settings.API_THROTTLE_WRITE = "off"


def api_as(user: Any | None) -> APIClient:
    """A client signed in (by session) as ``user``, or anonymous."""
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def tool_url(name: str = "", suffix: str = "") -> str:
    return f"{API}/tools" + (f"/{name}" if name else "") + (f"/{suffix}" if suffix else "")


def published(tenant: Tenant, owner: Any, name: str = "disk_usage", **overrides: Any) -> Tool:
    """A tool with version 1.0.0 published, owned by ``owner`` (nobody when None)."""
    return services.create_tool(
        tenant, definition=make_definition(name=name, **overrides), actor=owner, publish=True
    )


def head_definition(tool: Tool, **changes: Any) -> dict[str, Any]:
    """The head's definition without its version number, with top-level fields changed."""
    tool.refresh_from_db()
    head = with_content(ToolVersion.objects.filter(pk=tool.head_version_id)).get()
    definition = definition_of(head, tool_fields=False)
    definition.pop("version")
    definition.update(changes)
    return definition


def new_version(tool: Tool, actor: Any, *, publish: bool, **changes: Any) -> ToolVersion:
    tool.refresh_from_db()
    version = services.edit_tool(
        tool,
        definition=head_definition(tool, **changes),
        base_version=tool.head_version,
        actor=actor,
    )
    if publish:
        services.publish_version(version, actor=actor)
    tool.refresh_from_db()
    return version


def with_history(tenant: Tenant, owner: Any, name: str = "disk_usage") -> Tool:
    """1.0.0 and 1.0.1 published (1.0.1 current), and a draft 1.0.2 waiting."""
    tool = published(tenant, owner, name=name)
    new_version(tool, owner, publish=True, description="The second published version.")
    new_version(tool, owner, publish=False, description="A draft after the second version.")
    return tool


def error_of(response: Any) -> dict[str, Any]:
    """The error body, after checking it has the one error shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "fields"} <= set(error), error
    for field in error["fields"]:
        assert set(field) == {"path", "message"}, field
    return error
