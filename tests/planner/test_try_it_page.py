"""The "Try it" page: a form made from the tool's input schema, its patterns and policy in
plain words, errors next to their fields, refusals above the form, and a recorded run."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from catalog.models import Tenant, Tool
from catalog.services import create_tool
from planner.forms import ArgumentsForm, JSONTextField
from planner.views import try_it as try_it_view
from telemetry.models import Execution, ExecutionSource, ExecutionStatus
from tests.factories import make_definition
from tests.pages import with_slots

SCRIPT = textwrap.dedent(
    """
    def main(host, threshold_pct=80, **rest):
        print("checking", host)
        return {"mounts": [{"host": host, "used_pct": threshold_pct}]}
    """
).lstrip()

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "host": {
            "type": "string",
            "title": "Host name",
            "description": "Which machine to check.",
            "pattern": "^[a-z0-9.-]+$",
        },
        "threshold_pct": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
            "default": 80,
            "description": "Only report mounts at least this full.",
        },
        "ratio": {"type": "number"},
        "verbose": {"type": "boolean", "default": True},
        "unit": {"type": "string", "enum": ["GB", "TB"], "default": "GB"},
        "notes": {"type": "string", "maxLength": 2000},
        "mounts": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["host"],
    "additionalProperties": False,
}

QUICK = {
    "name": "quick",
    "description": "Look at the mounts once.",
    "context_variables": {"N": {"description": "mounts", "sample": 10}},
    "time_estimate_ms": "200 + 2 * N",
    "cost_estimate": "0.5 * N",
    "policy": {"max_cost": 10},
}
DEEP = {
    "name": "deep",
    "description": "Walk every directory.",
    "context_variables": {"N": {"description": "mounts", "sample": 3}},
    "time_estimate_ms": "5000 * N",
    "cost_estimate": "1",
    "policy": {"requires_approval": True, "production_safe": False},
}


def make_tool(tenant: Tenant, name: str = "disk_usage", **overrides: Any) -> Tool:
    definition = {
        "input_schema": SCHEMA,
        "runtime": {"kind": "script", "timeout_s": 10, "memory_mb": 256, "network": False},
        "script": SCRIPT,
        "capabilities": [
            {"name": "disk_check", "description": "Check disks.", "patterns": [QUICK, DEEP]}
        ],
        **overrides,
    }
    return create_tool(
        tenant, definition=make_definition(name=name, **definition), actor=None, publish=True
    )


def url(name: str = "disk_usage") -> str:
    return reverse("planner:try_it", args=[name])


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, *, htmx: bool = False, **fields: Any) -> Any:
    data = {"arg-host": "web1", "arg-threshold_pct": "80", "arg-unit": '"GB"'}
    data |= {"pattern": "disk_check/quick", "environment": "development", "ctx0-N": "10"}
    data |= fields
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url(), {k: v for k, v in data.items() if v is not None}, headers=headers)


@pytest.fixture
def eager(eager_runs: None, django_capture_on_commit_callbacks: Any) -> Any:
    """Runs happen in the request: queued on commit, run by Celery in-process."""
    return django_capture_on_commit_callbacks


def field_html(html: str, name: str) -> str:
    """The tag of the form control named ``arg-<name>``."""
    found = re.search(rf"<(input|select|textarea)[^>]*name=\"arg-{name}\"[^>]*>", html)
    assert found, f"no control for {name}"
    return found.group(0)


# -- the form ----------------------------------------------------------------------------


def test_form_has_a_field_per_property_chosen_by_type() -> None:
    form = ArgumentsForm(SCHEMA)

    kinds = {name: type(field).__name__ for name, field in form.fields.items()}
    assert kinds == {
        "host": "CharField",
        "threshold_pct": "IntegerField",
        "ratio": "FloatField",
        "verbose": "BooleanField",
        "unit": "TypedChoiceField",
        "notes": "CharField",
        "mounts": "ListField",
    }
    assert form.fields["host"].label == "Host name"
    assert form.fields["threshold_pct"].label == "Threshold pct"
    assert form.fields["threshold_pct"].help_text == "Only report mounts at least this full."
    assert form.fields["host"].required and not form.fields["ratio"].required
    assert isinstance(form.fields["notes"].widget, forms.Textarea)
    assert isinstance(form.fields["mounts"], JSONTextField)


def test_page_shows_inputs_with_defaults_limits_and_required_marks(
    tenant: Tenant, operator: Any
) -> None:
    make_tool(tenant)

    response = signed_in(operator).get(url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Try disk_usage</h1>" in html
    assert "Report disk usage per mount point, largest first." in html
    host = field_html(html, "host")
    assert 'type="text"' in host and "required" in host
    threshold = field_html(html, "threshold_pct")
    for attr in ['type="number"', 'step="1"', 'min="0"', 'max="100"', 'value="80"']:
        assert attr in threshold
    assert 'step="any"' in field_html(html, "ratio")
    verbose = field_html(html, "verbose")
    assert 'type="checkbox"' in verbose and "checked" in verbose
    assert field_html(html, "unit").startswith("<select")
    assert '<option value="&quot;GB&quot;" selected>GB</option>' in html
    assert field_html(html, "notes").startswith("<textarea")
    assert field_html(html, "mounts").startswith("<textarea")
    assert "Host name" in html and "Which machine to check." in html
    assert "(0 to 100)" in html
    assert html.count('badge-primary req">required</span>') == 1


def test_page_offers_each_pattern_with_estimates_policy_and_context(
    tenant: Tenant, operator: Any
) -> None:
    make_tool(tenant)

    html = signed_in(operator).get(url()).content.decode()

    assert 'type="radio" name="pattern" value="disk_check/quick"' in html
    assert re.search(r'value="disk_check/quick"[^>]*checked', html)
    assert "Look at the mounts once." in html and "Walk every directory." in html
    assert "about 220 ms" in html and "about 15 s" in html
    assert "Refused when the estimated cost is above 10 cost units" in html
    assert "Needs an admin&#x27;s approval before it runs" in html
    assert "Not safe to run in production" in html
    assert re.search(r'name="ctx0-N"[^>]*value="10"|value="10"[^>]*name="ctx0-N"', html)
    assert re.search(r'<option value="development" selected>', html)


@pytest.mark.parametrize(
    ("level", "says"),
    [
        ("bubblewrap", "Scripts run in a locked-down sandbox: no network"),
        ("rlimits-only", "Weaker isolation on this server."),
    ],
)
def test_page_says_how_runs_are_isolated(
    tenant: Tenant, operator: Any, monkeypatch: pytest.MonkeyPatch, level: str, says: str
) -> None:
    monkeypatch.setattr(try_it_view, "isolation_level", lambda: level)
    make_tool(tenant)

    assert says in signed_in(operator).get(url()).content.decode()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"enabled": False}, "is disabled, so it cannot be run"),
        ({"runtime": {"kind": "none"}, "script": ""}, "is only described in Quiver"),
    ],
)
def test_a_tool_that_cannot_run_says_why_instead_of_a_form(
    tenant: Tenant, operator: Any, change: dict[str, Any], says: str
) -> None:
    tool = make_tool(tenant, **{k: v for k, v in change.items() if k != "enabled"})
    if "enabled" in change:
        Tool.objects.filter(pk=tool.pk).update(enabled=False)

    html = signed_in(operator).get(url()).content.decode()

    assert says in html
    assert 'name="arg-host"' not in html


# -- errors ------------------------------------------------------------------------------


def test_invalid_json_is_shown_next_to_its_field_and_nothing_is_recorded(
    tenant: Tenant, operator: Any
) -> None:
    make_tool(tenant)

    response = post(signed_in(operator), **{"arg-mounts": '["/", oops', "arg-host": ""})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_arg-mounts-errors"' in html
    assert "This is not valid JSON" in html
    assert 'id="id_arg-host-errors"' in html
    assert "[&quot;/&quot;, oops</textarea>" in html  # what was typed is kept
    assert Execution.objects.count() == 0


def test_json_with_a_lone_surrogate_is_shown_next_to_its_field_and_nothing_is_recorded(
    tenant: Tenant, operator: Any
) -> None:
    make_tool(tenant)

    response = post(signed_in(operator), **{"arg-mounts": '["/", "\\ud800"]', "arg-host": "h"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_arg-mounts-errors"' in html
    assert "This cannot be used (at [1]): it contains a lone UTF-16 surrogate" in html
    assert Execution.objects.count() == 0


def test_a_schema_error_from_the_run_check_is_shown_next_to_its_field(
    tenant: Tenant, operator: Any
) -> None:
    make_tool(tenant)

    response = post(signed_in(operator), **{"arg-host": "Not A Host!"}, htmx=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="try-panel"')  # the fragment alone
    errors = re.search(r'<ul class="field-errors" id="id_arg-host-errors".*?</ul>', html, re.S)
    assert errors and "Host name" not in errors.group(0)
    assert 'value="Not A Host!"' in html
    assert Execution.objects.count() == 0


def test_a_pattern_not_safe_for_production_is_refused_above_the_form(
    tenant: Tenant, operator: Any
) -> None:
    make_tool(tenant)

    response = post(
        signed_in(operator), pattern="disk_check/deep", environment="production", **{"ctx1-N": "3"}
    )

    html = response.content.decode()
    assert "This run was not started" in html and "not marked safe for production" in html
    assert re.search(r'<option value="production" selected>', html)
    assert Execution.objects.count() == 0


def test_a_run_estimated_above_the_cost_limit_is_refused(tenant: Tenant, operator: Any) -> None:
    make_tool(tenant)

    response = post(signed_in(operator), **{"ctx0-N": "100"})

    html = response.content.decode()
    assert "This run was not started" in html
    assert "the estimated cost 50 is above the limit of 10 cost units (max_cost)" in html
    assert "of pattern &#x27;quick&#x27;" in html
    assert Execution.objects.count() == 0


# -- runs --------------------------------------------------------------------------------


def test_a_run_is_recorded_from_the_ui_with_defaults_filled_and_its_result_loaded(
    tenant: Tenant, operator: Any, eager: Any
) -> None:
    make_tool(tenant)

    with eager(execute=True):
        response = post(signed_in(operator), htmx=True)

    run = Execution.objects.get()
    assert run.source == ExecutionSource.UI
    assert run.arguments == {"host": "web1", "threshold_pct": 80, "unit": "GB", "verbose": False}
    assert run.context == {"N": 10}
    assert run.caller == operator
    assert run.status == ExecutionStatus.SUCCEEDED
    assert run.result == {"mounts": [{"host": "web1", "used_pct": 80}]}
    html = response.content.decode()
    live = reverse("telemetry:run_live", args=[run.pk])
    assert f'hx-get="{live}" hx-trigger="load"' in html
    assert reverse("telemetry:run_detail", args=[run.pk]) in html


def test_a_run_that_needs_approval_waits_and_says_so(
    tenant: Tenant, operator: Any, eager: Any
) -> None:
    make_tool(tenant)

    with eager(execute=True):
        response = post(signed_in(operator), pattern="disk_check/deep", **{"ctx1-N": "3"})

    run = Execution.objects.get()
    assert run.status == ExecutionStatus.AWAITING_APPROVAL
    html = response.content.decode()
    assert "An admin must approve this run before it starts." in html
    assert reverse("telemetry:run_detail", args=[run.pk]) in html
    assert reverse("telemetry:run_live", args=[run.pk]) not in html


def test_without_javascript_the_post_renders_the_whole_page(
    tenant: Tenant, operator: Any, eager: Any
) -> None:
    make_tool(tenant)

    with eager(execute=True):
        response = post(signed_in(operator))

    assert "<h1>Try disk_usage</h1>" in response.content.decode()
    assert Execution.objects.count() == 1


# -- access ------------------------------------------------------------------------------


def test_viewer_sees_the_form_disabled_and_why(tenant: Tenant, viewer: Any) -> None:
    make_tool(tenant)

    html = signed_in(viewer).get(url()).content.decode()

    assert "running it needs the operator role" in html
    assert "disabled" in field_html(html, "host")
    assert re.search(r'<button type="submit" class="btn btn-primary" disabled>', html)


def test_viewer_cannot_submit(tenant: Tenant, viewer: Any) -> None:
    make_tool(tenant)

    assert post(signed_in(viewer)).status_code == 403
    assert Execution.objects.count() == 0


def test_other_tenant_gets_404(tenant: Tenant, outsider: Any) -> None:
    make_tool(tenant)

    client = signed_in(outsider)

    assert client.get(url()).status_code == 404
    assert post(client).status_code == 404


def test_tool_page_links_operators_to_try_it(tenant: Tenant, operator: Any, viewer: Any) -> None:
    make_tool(tenant)
    detail = reverse("catalog:tool_detail", args=["disk_usage"])

    # The button is the planner's slot on the tool page: read the page as htmx fills it.
    link = f'href="{url()}"'
    as_operator, as_viewer = signed_in(operator), signed_in(viewer)
    assert link in with_slots(as_operator, as_operator.get(detail))
    assert link not in with_slots(as_viewer, as_viewer.get(detail))
