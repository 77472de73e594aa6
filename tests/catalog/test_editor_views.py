"""The tool editor: creating and editing through the form as a browser posts it, every
error shown at its field with nothing saved, stale edits refused, roles, and the live
checks the page calls."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from catalog import services
from catalog.definitions.format import canonical_json, content_of, normalize
from catalog.editor.state import ToolEditor
from catalog.models import AuditAction, AuditLog, Tenant, Tool, ToolVersion, VersionState
from catalog.selectors import definition_of, with_content
from tests.factories import make_definition

pytestmark = pytest.mark.django_db

SAMPLES = sorted((Path(__file__).parents[2] / "catalog" / "sample_catalog").rglob("*.yaml"))
TWO_PARAMETERS = {
    "type": "object",
    "properties": {
        "host": {"type": "string", "description": "The machine to ask."},
        "port": {"type": "integer", "description": "TCP port.", "default": 443, "minimum": 1},
    },
    "required": ["host"],
    "additionalProperties": False,
}


class FormReader(HTMLParser):
    """What a browser would post from the editor's form: text, hidden and range inputs,
    ticked boxes, textareas and selected options; never the rows of <template>s."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self.in_form = False
        self.textarea: str | None = None
        self.text = ""
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "tool-form":
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value") or "on"))
            elif kind not in ("submit", "button", "file"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self.textarea, self.text = a["name"], ""
        elif tag == "select" and a.get("name"):
            self.select, self.options = a["name"], []
        elif tag == "option" and self.select is not None:
            self.options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None
        elif tag == "select" and self.select is not None:
            chosen = [v for v, selected in self.options if selected] or [self.options[0][0]]
            self.fields.append((self.select, chosen[0]))
            self.select = None


def form_data(html: str, **changes: Any) -> dict[str, Any]:
    reader = FormReader()
    reader.feed(html)
    data: dict[str, Any] = {}
    for name, value in reader.fields:
        data.setdefault(name, []).append(value)
    data = {k: v[0] if len(v) == 1 else v for k, v in data.items()}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def field_errors(html: str, field_id: str) -> str:
    """The text of the error list shown under one field (``id_<field>-errors``)."""
    match = re.search(
        rf'<ul class="field-errors" id="{re.escape(field_id)}-errors"[^>]*>(.*?)</ul>', html, re.S
    )
    assert match, f"no errors shown at {field_id}"
    return match[1]


def counts() -> tuple[int, int, int]:
    return Tool.objects.count(), ToolVersion.objects.count(), AuditLog.objects.count()


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def create_page(client: Client) -> str:
    response = client.get(reverse("catalog:tool_create"))
    assert response.status_code == 200
    return response.content.decode()


def new_tool_data(client: Client, **changes: Any) -> dict[str, Any]:
    fields = {
        "name": "port_probe",
        "description": "Check whether a TCP port answers on a host.",
        "platform": "network",
        "category": "network",
        "tags": "tcp, probe",
        "input_schema": json.dumps(TWO_PARAMETERS, indent=2),
        "reason": "A first probe tool",
        "action": "save",
    }
    return form_data(create_page(client), **{**fields, **changes})


def with_pattern(data: dict[str, Any], **pattern: str) -> dict[str, Any]:
    """Form data with one capability holding one pattern (as the page's Add buttons make)."""
    p = "cap-0-pat-0"
    rows = {
        "cap-0-name": "probe",
        "cap-0-description": "Probe one port.",
        f"{p}-name": "single",
        f"{p}-description": "One connection attempt.",
        f"{p}-var-0-name": "N",
        f"{p}-var-0-description": "ports",
        f"{p}-var-0-sample": "300",
        f"{p}-time_estimate_ms": "650 + 5 * N",
        f"{p}-cost_estimate": "1",
        f"{p}-complexity_score": "0.2",
        f"{p}-production_safe": "on",
        **{
            f"{p}-pref_{k}": "0.5"
            for k in ("speed", "accuracy", "cost", "complexity", "completeness")
        },
    }
    rows.update({f"{p}-{k}": v for k, v in pattern.items()})
    return {**data, **rows}


@pytest.fixture
def tool(tenant: Tenant, editor: Any) -> Tool:
    return services.create_tool(tenant, definition=make_definition(), actor=editor, publish=True)


def edit_page(client: Client, tool: Tool) -> str:
    response = client.get(reverse("catalog:tool_edit", args=[tool.name]))
    assert response.status_code == 200
    return response.content.decode()


# -- creating ------------------------------------------------------------------------


def test_create_page_has_a_field_for_every_part_of_a_definition(
    client: Client, editor: Any
) -> None:
    html = create_page(signed_in(client, editor))
    for name in (
        "name", "version", "description", "platform", "category", "status", "tags", "enabled",
        "input_schema", "output_schema", "runtime_kind", "timeout_s", "memory_mb", "network",
        "callable_name", "script", "reason",
    ):  # fmt: skip
        assert f'name="{name}"' in html, name
    for template in ("capability", "pattern", "var", "default", "metadata", "dependency"):
        assert f'id="tpl-{template}"' in html
    assert 'name="owners"' in html and "editor-acme" in html
    assert "js/editor.js" in html and "<script>" not in html and 'style="' not in html


def test_create_with_two_parameters_saves_a_draft_and_an_audit_row(
    client: Client, editor: Any, tenant: Tenant
) -> None:
    data = new_tool_data(signed_in(client, editor))
    response = client.post(reverse("catalog:tool_create"), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:tool_detail", args=["port_probe"])
    tool = Tool.objects.get(tenant=tenant, name="port_probe")
    version = tool.head_version
    assert version is not None and version.state == VersionState.DRAFT
    assert version.version == "1.0.0" and tool.current_version is None
    assert version.input_schema == TWO_PARAMETERS
    assert version.tags == ["probe", "tcp"]
    assert list(tool.owners.all()) == [editor]
    entry = AuditLog.objects.get(tool=tool)
    assert entry.action == AuditAction.CREATE and entry.reason == "A first probe tool"
    assert entry.actor == editor


def test_save_and_publish_makes_the_first_version_current(client: Client, editor: Any) -> None:
    data = new_tool_data(signed_in(client, editor), action="publish")
    response = client.post(reverse("catalog:tool_create"), data, follow=True)
    tool = Tool.objects.get(name="port_probe")
    assert tool.current_version is not None
    assert tool.current_version.state == VersionState.PUBLISHED
    assert "published version 1.0.0" in response.content.decode()
    actions = set(AuditLog.objects.filter(tool=tool).values_list("action", flat=True))
    assert actions == {AuditAction.CREATE, AuditAction.PUBLISH}


def test_create_keeps_capabilities_patterns_and_rows(client: Client, editor: Any) -> None:
    data = with_pattern(
        new_tool_data(signed_in(client, editor)),
        typical_use_cases="is the port open\nis the service up",
        required_inputs="host, port",
        max_cost="5",
    )
    data.update(
        {
            "defaults-0-key": "port",
            "defaults-0-value": "443",
            "meta-0-key": "author",
            "meta-0-value": "ops-team",
            "dep-0-name": "nc",
            "dep-0-type": "binary",
            "dep-0-required": "on",
            "dep-1-name": "",  # a row added and left empty is ignored
            "dep-1-type": "binary",
        }
    )
    response = client.post(reverse("catalog:tool_create"), data)
    assert response.status_code == 302
    version = with_content(ToolVersion.objects.filter(tool__name="port_probe")).get()
    d = definition_of(version)
    assert d["defaults"] == {"port": 443} and d["metadata"] == {"author": "ops-team"}
    assert d["dependencies"] == [{"name": "nc", "type": "binary", "required": True}]
    pattern = d["capabilities"][0]["patterns"][0]
    assert pattern["time_estimate_ms"] == "650 + 5 * N"
    assert pattern["context_variables"] == {"N": {"description": "ports", "sample": 300}}
    assert pattern["typical_use_cases"] == ["is the port open", "is the service up"]
    assert pattern["required_inputs"] == ["host", "port"]
    assert pattern["policy"]["max_cost"] == 5


# -- editing -------------------------------------------------------------------------


def test_edit_form_opens_on_the_head_and_saves_a_new_draft_based_on_it(
    client: Client, editor: Any, tool: Tool
) -> None:
    html = edit_page(signed_in(client, editor), tool)
    assert 'name="base_version" value="1.0.0"' in html
    assert 'name="name"' not in html  # the name cannot change
    data = form_data(html, description="Disk usage per mount, fullest first.", reason="Clearer")
    response = client.post(reverse("catalog:tool_edit", args=[tool.name]), data)
    assert response.status_code == 302
    tool.refresh_from_db()
    draft = tool.head_version
    assert draft is not None and draft.state == VersionState.DRAFT
    assert draft.parent == tool.current_version and draft.version == "1.0.1"
    assert draft.description == "Disk usage per mount, fullest first."
    entry = AuditLog.objects.filter(tool=tool, action=AuditAction.UPDATE).get()
    assert entry.changes["description"][1] == "Disk usage per mount, fullest first."
    assert entry.reason == "Clearer"
    # The next edit opens on that draft.
    assert 'name="base_version" value="1.0.1"' in edit_page(client, tool)


def test_edit_save_and_publish_makes_the_new_version_current(
    client: Client, editor: Any, tool: Tool
) -> None:
    data = form_data(edit_page(signed_in(client, editor), tool), description="Changed.")
    data["action"] = "publish"
    assert client.post(reverse("catalog:tool_edit", args=[tool.name]), data).status_code == 302
    tool.refresh_from_db()
    assert tool.current_version == tool.head_version
    assert tool.current_version is not None and tool.current_version.version == "1.0.1"


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_tool_goes_through_the_form_unchanged(
    client: Client, editor: Any, tenant: Tenant, path: Path
) -> None:
    definition = yaml.safe_load(path.read_text())
    definition.pop("owners", None)  # people of another organisation
    tool = services.create_tool(tenant, definition=definition, actor=editor)
    data = form_data(edit_page(signed_in(client, editor), tool))
    editor_forms = ToolEditor.from_post(QueryDict(urlencode(data, doseq=True)), creating=False)
    assert editor_forms.is_valid(), editor_forms.error_summary()
    stored = with_content(ToolVersion.objects.filter(tool=tool)).get()
    posted = content_of(normalize({**editor_forms.definition(), "name": tool.name}))
    assert canonical_json(posted) == canonical_json(content_of(normalize(definition_of(stored))))


# -- errors, each at its field, with nothing saved --------------------------------------


def test_invalid_schema_is_shown_at_the_inputs_and_nothing_is_saved(
    client: Client, editor: Any
) -> None:
    schema = {"type": "object", "properties": {"port": {"type": "strng"}}}
    data = new_tool_data(signed_in(client, editor), input_schema=json.dumps(schema))
    before = counts()
    response = client.post(reverse("catalog:tool_create"), data)
    assert response.status_code == 200
    html = response.content.decode()
    errors = field_errors(html, "id_input_schema")
    assert 'data-path="properties.port.type"' in errors and "not a type JSON Schema knows" in errors
    assert 'href="#id_input_schema-editor"' in html  # the summary links to it
    assert counts() == before
    assert "Check whether a TCP port answers on a host." in html  # the input is kept


def test_schema_that_is_not_json_is_shown_at_the_inputs(client: Client, editor: Any) -> None:
    data = new_tool_data(signed_in(client, editor), input_schema='{"type": "object",')
    before = counts()
    html = client.post(reverse("catalog:tool_create"), data).content.decode()
    assert "This is not valid JSON" in field_errors(html, "id_input_schema")
    assert "{&quot;type&quot;: &quot;object&quot;," in html
    assert counts() == before


def test_script_syntax_error_is_shown_at_the_script(client: Client, editor: Any) -> None:
    data = new_tool_data(
        signed_in(client, editor), runtime_kind="script", script="def main(host:\n    return 1\n"
    )
    before = counts()
    html = client.post(reverse("catalog:tool_create"), data).content.decode()
    assert "syntax error at line 1" in field_errors(html, "id_script")
    assert counts() == before


def test_script_without_main_is_shown_at_the_script(client: Client, editor: Any) -> None:
    data = new_tool_data(signed_in(client, editor), runtime_kind="script", script="x = 1\n")
    before = counts()
    html = client.post(reverse("catalog:tool_create"), data).content.decode()
    assert "must define a function main" in field_errors(html, "id_script")
    assert counts() == before


def test_unsafe_expression_is_shown_at_the_expression(client: Client, editor: Any) -> None:
    data = with_pattern(
        new_tool_data(signed_in(client, editor)), time_estimate_ms="__import__('os')"
    )
    before = counts()
    html = client.post(reverse("catalog:tool_create"), data).content.decode()
    errors = field_errors(html, "id_cap-0-pat-0-time_estimate_ms")
    assert "calls &#x27;__import__&#x27;, which is not allowed" in errors
    assert 'href="#id_cap-0-pat-0-time_estimate_ms"' in html
    assert counts() == before


def test_bad_rows_are_shown_in_their_row(client: Client, editor: Any) -> None:
    data = with_pattern(new_tool_data(signed_in(client, editor)))
    data.update({"cap-0-pat-0-var-0-sample": "lots", "defaults-0-key": "", "defaults-0-value": "1"})
    before = counts()
    html = client.post(reverse("catalog:tool_create"), data).content.decode()
    assert "Enter a number" in field_errors(html, "id_cap-0-pat-0-var-0-sample")
    assert "Give this value a name" in field_errors(html, "id_defaults-0-key")
    assert counts() == before


def test_pattern_policy_and_capability_name_errors_are_placed(client: Client, editor: Any) -> None:
    data = with_pattern(new_tool_data(signed_in(client, editor)), max_cost="-3")
    data["cap-0-name"] = "Bad Name"
    html = client.post(reverse("catalog:tool_create"), data).content.decode()
    assert "not a valid name" in field_errors(html, "id_cap-0-name")
    assert "at least 0" in field_errors(html, "id_cap-0-pat-0-max_cost")


def test_duplicate_name_is_shown_at_the_name(client: Client, editor: Any, tool: Tool) -> None:
    data = new_tool_data(signed_in(client, editor), name=tool.name)
    before = counts()
    html = client.post(reverse("catalog:tool_create"), data).content.decode()
    assert "already exists" in field_errors(html, "id_name")
    assert counts() == before


def test_invalid_tag_and_timeout_are_shown_at_their_fields(client: Client, editor: Any) -> None:
    data = new_tool_data(signed_in(client, editor), tags="Fine, NOT OK", timeout_s="0")
    html = client.post(reverse("catalog:tool_create"), data).content.decode()
    assert "not a valid tag" in field_errors(html, "id_tags")
    assert "must be at least 0" in field_errors(html, "id_timeout_s")


def test_stale_edit_is_refused_keeping_the_input_and_showing_the_other_change(
    client: Client, editor: Any, admin: Any, tool: Tool
) -> None:
    html = edit_page(signed_in(client, editor), tool)  # editor A opens version 1.0.0
    head = with_content(ToolVersion.objects.filter(pk=tool.head_version_id)).get()
    theirs = definition_of(head)
    theirs.pop("version")
    theirs["description"] = "Admin rewrote this description."
    services.edit_tool(tool, definition=theirs, base_version=head, actor=admin)
    before = counts()
    data = form_data(html, description="Editor A's own description.")
    response = client.post(reverse("catalog:tool_edit", args=[tool.name]), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert counts() == before
    stale = page[page.index('id="stale-edit"') : page.index('id="tool-form"')]
    assert "was changed by admin-acme" in stale
    assert "Admin rewrote this description." in stale  # their change, shown
    assert reverse("catalog:tool_edit", args=[tool.name]) in stale and 'target="_blank"' in stale
    assert "Editor A&#x27;s own description." in page  # A's input, kept
    assert 'name="base_version" value="1.0.0"' in page


def test_stale_edit_can_be_saved_on_top_when_the_person_chooses_to(
    client: Client, editor: Any, admin: Any, tool: Tool
) -> None:
    html = edit_page(signed_in(client, editor), tool)
    head = with_content(ToolVersion.objects.filter(pk=tool.head_version_id)).get()
    theirs = definition_of(head)
    theirs.pop("version")
    theirs["description"] = "Admin rewrote this description."
    services.edit_tool(tool, definition=theirs, base_version=head, actor=admin)
    data = form_data(html, description="Mine.", overwrite_base="1.0.1")
    assert client.post(reverse("catalog:tool_edit", args=[tool.name]), data).status_code == 302
    tool.refresh_from_db()
    assert tool.head_version is not None and tool.head_version.description == "Mine."
    assert tool.head_version.parent is not None and tool.head_version.parent.version == "1.0.1"


def test_saving_without_a_change_says_so(client: Client, editor: Any, tool: Tool) -> None:
    data = form_data(edit_page(signed_in(client, editor), tool))
    html = client.post(reverse("catalog:tool_edit", args=[tool.name]), data).content.decode()
    assert "nothing changed since version 1.0.0" in html


# -- roles and tenants ---------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_operators_cannot_open_or_post_the_editor(
    client: Client, request: Any, role: str, tool: Tool
) -> None:
    signed_in(client, request.getfixturevalue(role))
    before = counts()
    assert client.get(reverse("catalog:tool_create")).status_code == 403
    assert client.post(reverse("catalog:tool_create"), {"name": "x"}).status_code == 403
    assert client.get(reverse("catalog:tool_edit", args=[tool.name])).status_code == 403
    assert client.post(reverse("catalog:tool_edit", args=[tool.name]), {}).status_code == 403
    assert counts() == before


def test_other_tenant_gets_404_for_the_edit_page(client: Client, outsider: Any, tool: Tool) -> None:
    signed_in(client, outsider)
    assert client.get(reverse("catalog:tool_edit", args=[tool.name])).status_code == 404
    assert client.post(reverse("catalog:tool_edit", args=[tool.name]), {}).status_code == 404


def test_archived_tool_cannot_be_edited(client: Client, editor: Any, tool: Tool) -> None:
    services.archive_tool(tool, actor=editor)
    signed_in(client, editor)
    before = counts()
    response = client.get(reverse("catalog:tool_edit", args=[tool.name]), follow=True)
    assert "is archived" in response.content.decode()
    response = client.post(reverse("catalog:tool_edit", args=[tool.name]), {"description": "x"})
    assert response.status_code == 302
    assert counts() == before


def test_signed_out_people_are_sent_to_sign_in(client: Client, tenant: Tenant) -> None:
    response = client.get(reverse("catalog:tool_create"))
    assert response.status_code == 302 and "/login" in response["Location"]


# -- live checks ------------------------------------------------------------------------


def htmx_post(client: Client, name: str, data: dict[str, Any], trigger: str = "") -> Any:
    headers = {"HTTP_HX_REQUEST": "true"}
    if trigger:
        headers["HTTP_HX_TRIGGER_NAME"] = trigger
    return client.post(reverse(f"catalog:{name}"), data, **headers)


def test_check_script_says_which_main_it_found(client: Client, editor: Any) -> None:
    signed_in(client, editor)
    script = "def main(host: str, port: int = 443):\n    return {}\n"
    response = htmx_post(client, "check_script", {"script": script})
    assert response.status_code == 200
    assert "Looks good: main(host, port=443) found" in response.content.decode()
    assert "<html" not in response.content.decode()  # a fragment


def test_check_script_reports_syntax_errors_with_their_line(client: Client, editor: Any) -> None:
    signed_in(client, editor)
    html = htmx_post(client, "check_script", {"script": "x = 1\ndef main(:\n"}).content.decode()
    assert "syntax error at line 2" in html and 'data-error-line="2"' in html
    html = htmx_post(
        client, "check_script", {"script": "def helper():\n    pass\n"}
    ).content.decode()
    assert "must define a function main" in html


def test_infer_inputs_returns_the_schema_of_main(client: Client, editor: Any) -> None:
    signed_in(client, editor)
    script = 'def main(host: str, port: int = 443):\n    """Args:\n        host: Where.\n    """\n'
    data = htmx_post(client, "infer_inputs", {"script": script}).json()
    assert data["signature"] == "main(host, port=443)"
    assert data["schema"]["properties"]["host"] == {"type": "string", "description": "Where."}
    assert data["schema"]["properties"]["port"] == {"type": "integer", "default": 443}
    assert data["schema"]["required"] == ["host"]
    assert (
        "no function main" in htmx_post(client, "infer_inputs", {"script": "x=1"}).json()["error"]
    )


def test_check_expression_shows_the_value_for_the_sample_values(
    client: Client, editor: Any
) -> None:
    signed_in(client, editor)
    data = with_pattern({}, time_estimate_ms="650 + 5 * N")
    html = htmx_post(client, "check_expression", data, "cap-0-pat-0-time_estimate_ms")
    assert html.status_code == 200
    assert "= 2,150 ms for N=300" in html.content.decode()
    cost = htmx_post(client, "check_expression", data, "cap-0-pat-0-cost_estimate")
    assert "= 1" in cost.content.decode()


def test_check_expression_refuses_unsafe_expressions(client: Client, editor: Any) -> None:
    signed_in(client, editor)
    data = with_pattern({}, time_estimate_ms="__import__('os').system('id')")
    html = htmx_post(client, "check_expression", data, "cap-0-pat-0-time_estimate_ms")
    assert "not allowed" in html.content.decode() and "expr-error" in html.content.decode()
    data = with_pattern({}, time_estimate_ms="M * 2")
    html = htmx_post(client, "check_expression", data, "cap-0-pat-0-time_estimate_ms")
    assert "not a declared context variable" in html.content.decode()


def test_check_schema_lists_problems_with_their_path(client: Client, editor: Any) -> None:
    signed_in(client, editor)
    bad = json.dumps({"type": "object", "properties": {"port": {"type": "strng"}}})
    html = htmx_post(client, "check_schema", {"input_schema": bad}).content.decode()
    assert 'data-path="properties.port.type"' in html
    html = htmx_post(client, "check_schema", {"output_schema": '{"type": "object"}'})
    assert "valid JSON Schema" in html.content.decode()
    html = htmx_post(client, "check_schema", {"input_schema": "{nope"}).content.decode()
    assert "not valid JSON" in html


@pytest.mark.parametrize(
    "name", ["check_script", "infer_inputs", "check_expression", "check_schema"]
)
def test_live_checks_need_csrf_post_and_the_editor_role(
    name: str, editor: Any, viewer: Any
) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    assert strict.post(reverse(f"catalog:{name}"), {"script": "x"}).status_code == 403
    loose = Client()
    loose.force_login(editor)
    assert loose.get(reverse(f"catalog:{name}")).status_code == 405
    loose.force_login(viewer)
    assert loose.post(reverse(f"catalog:{name}"), {"script": "x"}).status_code == 403


# -- every problem at once ------------------------------------------------------------


def test_every_problem_shows_at_once_in_one_round(client: Client, editor: Any, tool: Tool) -> None:
    """The form's own problems (an empty description, a bad category) no longer hide
    those of the definition (a name taken, a script that does not parse, a bad
    estimate): one save shows all of them, each at its field."""
    data = with_pattern(
        new_tool_data(
            signed_in(client, editor),
            name=tool.name,
            description="",
            category="Not A Category!",
            runtime_kind="script",
            script="def main(host:\n    return 1\n",
        ),
        time_estimate_ms="1 +* N",
    )
    before = counts()
    html = client.post(reverse("catalog:tool_create"), data).content.decode()
    assert "required" in field_errors(html, "id_description")
    assert "category" in field_errors(html, "id_category")
    assert "already exists" in field_errors(html, "id_name")
    assert "syntax error at line 1" in field_errors(html, "id_script")
    assert "not a valid expression" in field_errors(html, "id_cap-0-pat-0-time_estimate_ms")
    assert counts() == before


def test_an_edit_shows_every_problem_at_once(client: Client, editor: Any, tool: Tool) -> None:
    signed_in(client, editor)
    data = form_data(
        edit_page(client, tool),
        description="",
        runtime_kind="script",
        script="x = 1\n",
        timeout_s="0",
    )
    html = client.post(reverse("catalog:tool_edit", args=[tool.name]), data).content.decode()
    assert "required" in field_errors(html, "id_description")
    assert "must define a function main" in field_errors(html, "id_script")
    assert "must be at least 0" in field_errors(html, "id_timeout_s")


def test_required_fields_say_so_in_their_label(client: Client, editor: Any) -> None:
    html = create_page(signed_in(client, editor))
    for label in ("Name", "Description", "Category"):
        assert re.search(rf">{label}\s*<span class=\"required-mark\">\(required\)</span>", html), (
            label
        )
