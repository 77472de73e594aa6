"""Lists on the "Try it" page: typed as rows, one per line, separated by commas or as
JSON, each item read by the item schema, and every item that cannot be read named."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import Tenant, Tool
from catalog.services import create_tool
from telemetry.models import Execution
from tests.factories import make_definition

SCRIPT = textwrap.dedent(
    """
    def main(**kwargs):
        return kwargs
    """
).lstrip()

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ports": {"type": "array", "items": {"type": "integer"}},
        "weights": {"type": "array", "items": {"type": "number"}},
        "hosts": {"type": "array", "items": {"type": "string"}},
        "flags": {"type": "array", "items": {"type": "boolean"}},
        "units": {"type": "array", "items": {"type": "string", "enum": ["GB", "TB"]}},
        "tags": {"type": "array", "default": ["a", "b"]},
        "rules": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": False,
}


def make_tool(tenant: Tenant) -> Tool:
    definition = make_definition(
        name="list_taker",
        input_schema=SCHEMA,
        runtime={"kind": "script", "timeout_s": 10, "memory_mb": 256, "network": False},
        script=SCRIPT,
        capabilities=[],
    )
    return create_tool(tenant, definition=definition, actor=None, publish=True)


URL = reverse("planner:try_it", args=["list_taker"])


@pytest.fixture
def client(tenant: Tenant, operator: Any, eager_runs: None) -> Client:
    make_tool(tenant)
    client = Client()
    client.force_login(operator)
    return client


def run_with(client: Client, **fields: str) -> Any:
    data = {"environment": "development"} | {f"arg-{k}": v for k, v in fields.items()}
    return client.post(URL, data)


def arguments_of_run(client: Client, django_capture_on_commit_callbacks: Any, **fields: str) -> Any:
    with django_capture_on_commit_callbacks(execute=True):
        response = run_with(client, **fields)
    assert response.status_code == 200
    return Execution.objects.get().arguments


def test_comma_separated_integers_become_a_list_of_numbers(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    arguments = arguments_of_run(client, django_capture_on_commit_callbacks, ports="1, 2, 3")
    assert arguments["ports"] == [1, 2, 3]


def test_every_kind_of_item_is_read_by_its_type(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    arguments = arguments_of_run(
        client,
        django_capture_on_commit_callbacks,
        ports="[22, 80]",
        weights="0.5, 2",
        hosts="web1, eu\ndb 2, us",
        flags="yes, no, true",
        units='["TB", "GB"]',
        tags="x, 3",
    )
    assert arguments["ports"] == [22, 80]
    assert arguments["weights"] == [0.5, 2]
    assert arguments["hosts"] == ["web1, eu", "db 2, us"]  # one per line keeps commas
    assert arguments["flags"] == [True, False, True]
    assert arguments["units"] == ["TB", "GB"]
    assert arguments["tags"] == ["x", 3]


def test_rows_sent_as_json_text_are_read_by_the_item_type(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    arguments = arguments_of_run(
        client, django_capture_on_commit_callbacks, ports='["8080", 443]', flags='["no"]'
    )
    assert arguments["ports"] == [8080, 443]
    assert arguments["flags"] == [False]


def test_every_bad_item_is_named_at_once_and_nothing_runs(client: Client) -> None:
    response = run_with(client, ports="1, x, 3.5", weights="1, many", units="GB, PB")

    html = response.content.decode()
    assert "item 2: &#x27;x&#x27; is not a whole number" in html
    assert "item 3: &#x27;3.5&#x27; is not a whole number" in html
    assert "item 2: &#x27;many&#x27; is not a number" in html
    assert "item 2: &#x27;PB&#x27; is not one of the allowed values: GB, TB" in html
    assert "1, x, 3.5</textarea>" in html  # what was typed is kept
    assert "Extra data" not in html
    assert Execution.objects.count() == 0


def test_the_hint_shows_an_example_of_the_item_type(client: Client) -> None:
    html = client.get(URL).content.decode()
    assert "for example <code>1, 2, 3</code>; or as JSON, <code>[1, 2, 3]</code>" in html
    assert "for example <code>1.5, 2, 3</code>; or as JSON, <code>[1.5, 2, 3]</code>" in html
    assert "for example <code>yes, no</code>; or as JSON, <code>[true, false]</code>" in html
    assert "for example <code>GB, TB</code>" in html
    assert "a, b</textarea>" in html  # a default list, as values separated by commas


def test_a_list_of_objects_is_still_written_as_json(client: Client) -> None:
    html = client.get(URL).content.decode()
    assert 'class="json-input" id="id_arg-rules"' in html or (
        'id="id_arg-rules"' in html and "Written as JSON" in html
    )
    response = run_with(client, rules="1, 2")
    assert "This is not valid JSON" in response.content.decode()
