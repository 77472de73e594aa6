"""Stale edits are refused, never silently overwritten: the tool's ETag names its head
version; an edit without If-Match (or base_version) is 428, with an old one 412."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import AuditLog, Tenant, Tool, ToolVersion
from tests.catalog.api.resources import (
    api_as,
    error_of,
    head_definition,
    no_throttling,  # noqa: F401  (autouse fixture)
    published,
    tool_url,
)

pytestmark = pytest.mark.django_db
URL = tool_url("disk_usage")


@pytest.fixture
def tool(tenant: Tenant, editor: Any) -> Tool:
    return published(tenant, editor)


def snapshot() -> tuple[int, int]:
    return ToolVersion.objects.count(), AuditLog.objects.count()


def put(client: Any, tool: Tool, description: str, **extra: Any) -> Any:
    body = {"definition": head_definition(tool, description=description)}
    body.update(extra.pop("body", {}))
    return client.put(URL, body, format="json", **extra)


def test_etag_names_the_head_version_and_its_content(tool: Tool, viewer: Any) -> None:
    response = api_as(viewer).get(URL)
    head = ToolVersion.objects.get()
    assert response["ETag"] == f'"{head.pk}-{head.content_hash[:12]}"'


def test_etag_changes_with_each_edit_but_not_with_publishing_it(tool: Tool, editor: Any) -> None:
    client = api_as(editor)
    first = client.get(URL)["ETag"]
    edited = put(client, tool, "A new description here.", HTTP_IF_MATCH=first)
    assert edited["ETag"] != first
    published_now = client.post(tool_url("disk_usage", "publish"))
    assert published_now["ETag"] == edited["ETag"]
    assert client.get(URL)["ETag"] == edited["ETag"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_edit_without_if_match_or_base_version_is_428(
    tool: Tool, editor: Any, method: str
) -> None:
    before = snapshot()
    body = {"definition": head_definition(tool, description="Who knows what I based this on.")}
    response = getattr(api_as(editor), method)(URL, body, format="json")
    assert response.status_code == 428
    assert error_of(response)["code"] == "precondition_required"
    assert snapshot() == before


def test_if_match_star_is_not_accepted(tool: Tool, editor: Any) -> None:
    response = put(api_as(editor), tool, "Overwrite whatever is there.", HTTP_IF_MATCH="*")
    assert response.status_code == 428
    assert "ETag" in error_of(response)["message"]


def test_a_stale_if_match_is_412_with_the_current_state(
    tenant: Tenant, tool: Tool, editor: Any, admin: Any
) -> None:
    mine, theirs = api_as(editor), api_as(admin)
    read_by_both = mine.get(URL)["ETag"]
    assert theirs.get(URL)["ETag"] == read_by_both
    first = put(theirs, tool, "The admin got there first.", HTTP_IF_MATCH=read_by_both)
    assert first.status_code == 200
    before = snapshot()

    late = put(mine, tool, "My change, based on what I read.", HTTP_IF_MATCH=read_by_both)

    assert late.status_code == 412
    error = error_of(late)
    assert error["code"] == "stale_edit"
    assert "admin-acme" in error["message"]
    current = error["current"]
    assert (current["base_version"], current["head_version"]) == ("1.0.0", "1.0.1")
    assert current["changed_by"] == "admin-acme"
    assert current["changes"]["description"][1] == "The admin got there first."
    assert snapshot() == before
    # Read again, then apply the change on top of theirs.
    fresh = mine.get(URL)["ETag"]
    retried = put(mine, tool, "My change, on top of theirs.", HTTP_IF_MATCH=fresh)
    assert retried.status_code == 200
    assert retried.json()["head_version"] == "1.0.2"


def test_a_stale_base_version_in_the_body_is_412(tool: Tool, editor: Any) -> None:
    client = api_as(editor)
    first = put(client, tool, "First edit of the day.", body={"base_version": "1.0.0"})
    assert first.status_code == 200
    before = snapshot()
    response = put(client, tool, "Based on the old one.", body={"base_version": "1.0.0"})
    assert response.status_code == 412
    assert error_of(response)["current"]["head_version"] == "1.0.1"
    assert snapshot() == before


def test_a_base_version_that_does_not_exist_is_412(tool: Tool, editor: Any) -> None:
    response = put(api_as(editor), tool, "Based on nothing.", body={"base_version": "3.1.4"})
    assert response.status_code == 412
    assert error_of(response)["code"] == "stale_edit"


@pytest.mark.parametrize("header", ['"999999-abcdef012345"', '"garbage"', "no quotes", '"1-zz"'])
def test_an_etag_that_names_no_version_of_the_tool_is_412(
    tool: Tool, editor: Any, header: str
) -> None:
    before = snapshot()
    response = put(api_as(editor), tool, "Whatever this is based on.", HTTP_IF_MATCH=header)
    assert response.status_code == 412
    assert error_of(response)["code"] == "stale_edit"
    assert snapshot() == before


def test_another_tools_etag_does_not_match(tenant: Tenant, tool: Tool, editor: Any) -> None:
    published(tenant, editor, "ping")
    client = api_as(editor)
    other = client.get(tool_url("ping"))["ETag"]
    assert put(client, tool, "With the wrong tool's ETag.", HTTP_IF_MATCH=other).status_code == 412


def test_a_weak_etag_or_a_list_of_etags_is_accepted(tool: Tool, editor: Any) -> None:
    client = api_as(editor)
    etag = client.get(URL)["ETag"]
    response = put(client, tool, "Weakly matched edit.", HTTP_IF_MATCH=f'"1-0", W/{etag}')
    assert response.status_code == 200


def test_if_match_and_base_version_must_agree(tool: Tool, editor: Any) -> None:
    client = api_as(editor)
    etag = client.get(URL)["ETag"]
    put(client, tool, "Second version of the tool.", HTTP_IF_MATCH=etag)
    response = put(
        client, tool, "Third.", HTTP_IF_MATCH=etag, body={"base_version": "1.0.1"}
    )  # the ETag names 1.0.0
    assert response.status_code == 400
    assert [f["path"] for f in error_of(response)["fields"]] == ["base_version"]


def test_a_patch_based_on_an_old_version_is_412(tool: Tool, editor: Any) -> None:
    client = api_as(editor)
    etag = client.get(URL)["ETag"]
    put(client, tool, "Someone else's edit.", HTTP_IF_MATCH=etag)
    response = client.patch(
        URL, {"definition": {"tags": ["late"]}}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 412


def test_the_etag_of_an_edit_response_is_good_for_the_next_edit(tool: Tool, editor: Any) -> None:
    client = api_as(editor)
    etag = client.get(URL)["ETag"]
    for number in range(1, 4):
        response = put(client, tool, f"Edit number {number} in a row.", HTTP_IF_MATCH=etag)
        assert response.status_code == 200
        etag = response["ETag"]
    assert response.json()["head_version"] == "1.0.3"
