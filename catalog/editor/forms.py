"""Forms of the tool editor: the tool's own fields, and one small form per repeated row
(defaults, metadata, dependencies, capabilities, patterns, context variables).

Repeated rows are named by prefix (``cap-0-pat-1-time_estimate_ms``); ``catalog.editor.state``
finds them in a POST and turns them into a definition and back, and ``catalog.editor.errors``
puts the services' errors next to the field that caused them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.urls import reverse_lazy

from catalog.definitions import safe_data
from catalog.definitions.format import TOOL_NAME_RULE
from catalog.models import REASON_MAX_LENGTH, Platform, RuntimeKind, ToolStatus

DEPENDENCY_TYPES = [
    ("binary", "Program (binary)"),
    ("python", "Python package"),
    ("service", "Service"),
    ("library", "Library"),
    ("permission", "Permission"),
    ("other", "Other"),
]


def parse_value(text: str) -> Any:
    """What a person typed as a value: numbers, true/false, null, [lists] and {objects}
    are read as JSON; anything else is kept as text."""
    stripped = text.strip()
    if not stripped:
        return ""
    try:
        return safe_data.loads(stripped)
    except ValueError:  # not JSON, or JSON that cannot be stored: kept as the text typed
        return stripped


def show_value(value: Any) -> str:
    """The inverse of ``parse_value``: text that reads back as the same value."""
    if isinstance(value, str):
        return value if parse_value(value) == value else json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def split_list(text: str, *, lines_only: bool = False) -> list[str]:
    """Items separated by new lines (and by commas unless ``lines_only``), blanks dropped,
    repeats dropped."""
    parts = text.splitlines() if lines_only else re.split(r"[,\n]", text)
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def field_text(form: forms.Form, name: str) -> str:
    """A field's value as shown in the page: posted text, or the initial value."""
    value = form[name].value()
    return "" if value is None else str(value).strip()


class RangeInput(forms.NumberInput):
    input_type = "range"


def unit_field(label: str, help_text: str) -> forms.FloatField:
    """A score from 0 to 1, edited with a slider."""
    return forms.FloatField(
        label=label,
        required=False,
        min_value=0,
        max_value=1,
        initial=0.5,
        help_text=help_text,
        widget=RangeInput(attrs={"min": "0", "max": "1", "step": "0.05", "class": "slider"}),
    )


def parse_json(text: str) -> Any:
    """JSON typed into a page, as data Quiver can store; a form error when it is not."""
    try:
        return safe_data.loads(text)
    except safe_data.UnsafeData as exc:
        where = f" (at {exc.path})" if exc.path else ""
        raise forms.ValidationError(f"This cannot be saved{where}: it {exc.message}.") from None
    except ValueError as exc:
        raise forms.ValidationError(f"This is not valid JSON: {exc}") from None


class JsonObjectField(forms.CharField):
    """A JSON object typed (or written by the parameter builder) into a textarea."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value) or ""
        if not text.strip():
            return None
        parsed = parse_json(text)
        if not isinstance(parsed, dict):
            raise forms.ValidationError("This must be a JSON object, written between { and }.")
        return parsed


class JsonListField(forms.CharField):
    """A JSON list in a textarea; empty means an empty list."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value) or ""
        if not text.strip():
            return []
        parsed = parse_json(text)
        if not isinstance(parsed, list):
            raise forms.ValidationError("This must be a JSON list, written between [ and ].")
        return parsed


class NumberTextField(forms.CharField):
    """A number kept as JSON writes it: 10 stays an integer, 10.0 a float."""

    def to_python(self, value: Any) -> Any:
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        try:
            number = json.loads(text)
        except ValueError:
            number = None
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise forms.ValidationError("Enter a number, like 10 or 2.5.")
        return number


def _code_attrs(**attrs: Any) -> dict[str, Any]:
    return {"spellcheck": "false", "autocomplete": "off", "autocapitalize": "off", **attrs}


class ToolForm(forms.Form):
    """The tool's own fields. ``creating`` adds the fields only a new tool sets here
    (name, status, enabled, owners); an edit changes those on the tool's page."""

    name = forms.CharField(
        max_length=64,
        help_text="A short unique name agents call the tool by, kept as you write it: "
        f"{TOOL_NAME_RULE}. It cannot be changed later.",
        widget=forms.TextInput(attrs=_code_attrs(placeholder="disk_usage")),
    )
    version = forms.CharField(
        max_length=64,
        required=False,
        help_text="Leave empty and Quiver picks the number for you.",
        widget=forms.TextInput(attrs=_code_attrs(placeholder="e.g. 1.2.0")),
    )
    description = forms.CharField(
        max_length=4000,
        help_text="What the tool does, in one to three sentences. Agents choose tools by "
        "this text, so say what it is for.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    platform = forms.ChoiceField(
        choices=Platform.choices,
        help_text="Where the tool acts.",
    )
    category = forms.CharField(
        max_length=40,
        help_text="A group for finding the tool, like monitoring, network or security "
        "(lower case).",
        widget=forms.TextInput(attrs=_code_attrs(list="category-options")),
    )
    # Hiding a tool from agents is the tick box below; a "disabled" status beside a
    # ticked box would contradict it, so the form does not offer one.
    status = forms.ChoiceField(
        choices=[c for c in ToolStatus.choices if c[0] != ToolStatus.DISABLED],
        initial=ToolStatus.ACTIVE,
        help_text="Testing tools are for trying out; deprecated ones are on their way out.",
    )
    enabled = forms.BooleanField(
        required=False,
        initial=True,
        label="Agents may use this tool",
        help_text="Untick to keep the tool in the catalog but hidden from agents.",
    )
    tags = forms.CharField(
        required=False,
        help_text="Short labels for finding the tool, separated by commas "
        "(lower-case letters, digits, '_', '.' and '-').",
        widget=forms.TextInput(attrs=_code_attrs(placeholder="storage, capacity")),
    )
    owners = forms.MultipleChoiceField(
        required=False,
        help_text="The people responsible for the tool. Leave all unticked to own it yourself.",
        widget=forms.CheckboxSelectMultiple(attrs={"class": "owner-choice"}),
    )
    input_schema = JsonObjectField(
        required=False,
        label="Inputs as JSON Schema",
        help_text="Written for you by the parameter rows above. Edit it here only if you know "
        "JSON Schema; the rows follow your changes.",
        widget=forms.Textarea(
            attrs=_code_attrs(
                rows="12",
                **{
                    "class": "json-input",
                    "hx-post": reverse_lazy("catalog:check_schema"),
                    "hx-trigger": "input changed delay:600ms, schema-changed delay:300ms",
                    "hx-params": "input_schema",
                    "hx-target": "next .schema-check",
                    "hx-sync": "this:replace",
                },
            )
        ),
    )
    output_schema = JsonObjectField(
        required=False,
        label="Result as JSON Schema",
        help_text="What the tool returns. Quiver checks results against it.",
        widget=forms.Textarea(
            attrs=_code_attrs(
                rows="10",
                **{
                    "class": "json-input",
                    "hx-post": reverse_lazy("catalog:check_schema"),
                    "hx-trigger": "input changed delay:600ms, schema-changed delay:300ms",
                    "hx-params": "output_schema",
                    "hx-target": "next .schema-check",
                    "hx-sync": "this:replace",
                },
            )
        ),
    )
    runtime_kind = forms.ChoiceField(
        label="How it runs",
        choices=RuntimeKind.choices,
        initial=RuntimeKind.NONE,
        help_text="Described only: Quiver lists the tool and something else runs it. "
        "Python script: Quiver runs the script below in a sandbox. Trusted code: a function "
        "a developer registered in Quiver's code.",
    )
    timeout_s = forms.FloatField(
        label="Time limit (seconds)",
        required=False,
        initial=30,
        help_text="A run that takes longer is stopped. At most 3600.",
        widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
    )
    memory_mb = forms.IntegerField(
        label="Memory limit (MB)",
        required=False,
        initial=512,
        help_text="A run that needs more memory is stopped. Between 16 and 65536.",
    )
    network = forms.BooleanField(
        label="May use the network",
        required=False,
        help_text="Leave unticked unless the tool must reach other machines.",
    )
    callable_name = forms.CharField(
        label="Registered name",
        max_length=200,
        required=False,
        help_text="Only for trusted code: the name the developer registered with @tool.",
        widget=forms.TextInput(attrs=_code_attrs()),
    )
    script = forms.CharField(
        required=False,
        strip=False,
        help_text="Python code with a function main(...). Its parameters are the tool's "
        "inputs, and what it returns is the result. Tab indents by four spaces; press Esc "
        "then Tab to leave the editor.",
        widget=forms.Textarea(
            attrs=_code_attrs(
                rows="16",
                wrap="off",
                **{
                    "class": "code-input",
                    "hx-post": reverse_lazy("catalog:check_script"),
                    "hx-trigger": "blur changed",
                    "hx-params": "script",
                    "hx-target": "#script-check",
                    "hx-sync": "this:replace",
                },
            )
        ),
    )
    reason = forms.CharField(
        label="Reason for this change",
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text="A sentence for the audit log, e.g. 'Add a timeout input for slow hosts'.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    base_version = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    overwrite_base = forms.CharField(max_length=64, required=False)
    action = forms.ChoiceField(
        choices=[("save", "Save draft"), ("publish", "Save and publish")],
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        creating: bool,
        members: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        if creating:
            owners = self.fields["owners"]
            assert isinstance(owners, forms.MultipleChoiceField)
            owners.choices = [(m, m) for m in members or []]
            self.fields["version"].help_text = "Leave empty to start at 1.0.0."
        else:
            for name in ("name", "status", "enabled", "owners"):
                del self.fields[name]
            self.fields["version"].help_text = (
                "Leave empty and Quiver picks the next number: a new major version when "
                "inputs were removed or became required, a minor one when inputs or "
                "capabilities were added, otherwise a patch."
            )

    def clean_tags(self) -> list[str]:
        return split_list(self.cleaned_data["tags"])

    def clean_script(self) -> str:
        return str(self.cleaned_data["script"]).replace("\r\n", "\n").replace("\r", "\n")


class KeyValueForm(forms.Form):
    """One row of the tool's defaults or metadata."""

    key = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs=_code_attrs(placeholder="name")),
    )
    value = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs=_code_attrs(placeholder="value")),
    )

    def clean_value(self) -> Any:
        return parse_value(self.cleaned_data["value"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("key") and data.get("value") not in ("", None):
            self.add_error("key", "Give this value a name.")
        return data


class DependencyForm(forms.Form):
    """Something the tool needs where it runs."""

    name = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs=_code_attrs(placeholder="e.g. df")),
    )
    type = forms.ChoiceField(choices=DEPENDENCY_TYPES, initial="binary")
    required = forms.BooleanField(required=False, initial=True, label="Required")
    version = forms.CharField(
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs=_code_attrs(placeholder="any version")),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("name") and data.get("version"):
            self.add_error("name", "Give the dependency a name.")
        return data


class CapabilityForm(forms.Form):
    """Something the tool can do."""

    name = forms.CharField(
        max_length=64,
        required=False,
        help_text="Lower case, unique in this tool, e.g. disk_capacity_check.",
        widget=forms.TextInput(attrs=_code_attrs()),
    )
    description = forms.CharField(
        max_length=4000,
        required=False,
        help_text="What the tool can do, in one sentence.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def expression_attrs(placeholder: str) -> dict[str, Any]:
    # htmx posts the whole form for a POST; the view finds the pattern by the name of the
    # field that changed (the HX-Trigger-Name header). The big fields are left out.
    return _code_attrs(
        placeholder=placeholder,
        **{
            "class": "expression-input",
            "hx-post": reverse_lazy("catalog:check_expression"),
            "hx-trigger": "input changed delay:400ms, vars-changed delay:400ms",
            "hx-params": "not script,input_schema,output_schema,reason",
            "hx-target": "next .expr-value",
            "hx-sync": "this:replace",
        },
    )


class PatternForm(forms.Form):
    """One way of using a capability: estimates, policy and how well it suits each
    preference."""

    name = forms.CharField(
        max_length=64,
        required=False,
        help_text="Lower case, unique in this capability, e.g. all_mounts.",
        widget=forms.TextInput(attrs=_code_attrs()),
    )
    description = forms.CharField(
        max_length=4000,
        required=False,
        help_text="How this way of doing it works, in a sentence.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    typical_use_cases = forms.CharField(
        label="Typical requests",
        required=False,
        help_text="Things a person might ask that this answers, one per line.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    time_estimate_ms = forms.CharField(
        label="Time estimate (milliseconds)",
        max_length=500,
        required=False,
        help_text="A number or a formula over the variables above, e.g. 200 + 2 * N.",
        widget=forms.TextInput(attrs=expression_attrs("200 + 2 * N")),
    )
    cost_estimate = forms.CharField(
        label="Cost estimate",
        max_length=500,
        required=False,
        help_text="In your own cost units; a number or a formula, e.g. 1 + N / 100.",
        widget=forms.TextInput(attrs=expression_attrs("1")),
    )
    complexity_score = unit_field("Complexity", "0 is trivial to run, 1 is very involved.")
    scope = forms.CharField(
        max_length=100,
        required=False,
        help_text="What it covers, e.g. host, cluster, site.",
        widget=forms.TextInput(attrs={"list": "scope-options"}),
    )
    completeness = forms.CharField(
        max_length=100,
        required=False,
        help_text="How complete the answer is, e.g. full, partial, sampled.",
        widget=forms.TextInput(attrs={"list": "completeness-options"}),
    )
    limitations = forms.CharField(
        required=False,
        help_text="What an agent should know before choosing it, one per line.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    max_cost = forms.FloatField(
        label="Refuse runs costing more than",
        required=False,
        help_text="Leave empty for no limit.",
        widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
    )
    requires_approval = forms.BooleanField(label="An admin must approve each run", required=False)
    production_safe = forms.BooleanField(
        label="Safe to run in production", required=False, initial=True
    )
    pref_speed = unit_field("Speed", "How fast it is.")
    pref_accuracy = unit_field("Accuracy", "How exact the answer is.")
    pref_cost = unit_field("Low cost", "How cheap it is to run.")
    pref_complexity = unit_field("Simplicity", "How simple it is.")
    pref_completeness = unit_field("Completeness", "How complete the answer is.")
    required_inputs = forms.CharField(
        required=False,
        help_text="Inputs this way needs, separated by commas.",
        widget=forms.TextInput(attrs=_code_attrs()),
    )
    expected_outputs = forms.CharField(
        required=False,
        help_text="Fields the result will hold, separated by commas.",
        widget=forms.TextInput(attrs=_code_attrs()),
    )
    examples = JsonListField(
        required=False,
        help_text='Optional, as JSON: [{"input": {...}, "output": ...}]. Each input is '
        "checked against the tool's inputs.",
        widget=forms.Textarea(attrs=_code_attrs(rows="3", **{"class": "json-input"})),
    )

    def clean_typical_use_cases(self) -> list[str]:
        return split_list(self.cleaned_data["typical_use_cases"], lines_only=True)

    def clean_limitations(self) -> list[str]:
        return split_list(self.cleaned_data["limitations"], lines_only=True)

    def clean_required_inputs(self) -> list[str]:
        return split_list(self.cleaned_data["required_inputs"])

    def clean_expected_outputs(self) -> list[str]:
        return split_list(self.cleaned_data["expected_outputs"])


# The definition's preference_match keys and the pattern form's sliders that edit them.
PREFERENCE_FIELDS = {
    "speed": "pref_speed",
    "accuracy": "pref_accuracy",
    "cost": "pref_cost",
    "complexity": "pref_complexity",
    "completeness": "pref_completeness",
}


class ContextVariableForm(forms.Form):
    """A variable the pattern's estimates may use, with a sample value to try them on."""

    name = forms.CharField(
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs=_code_attrs(placeholder="N", **{"class": "var-input"})),
    )
    description = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "what it counts", "class": "var-input"}),
    )
    sample = NumberTextField(
        required=False,
        widget=forms.TextInput(
            attrs=_code_attrs(
                placeholder="1", inputmode="decimal", maxlength="40", **{"class": "var-input"}
            )
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("name") and (data.get("description") or data.get("sample") is not None):
            self.add_error("name", "Give the variable a name.")
        return data


class ScriptForm(forms.Form):
    """The script the check and the inference endpoints read."""

    script = forms.CharField(required=False, strip=False, max_length=200_000)


class SchemaCheckForm(forms.Form):
    """One schema textarea, posted alone for a live check."""

    input_schema = forms.CharField(required=False, strip=False, max_length=500_000)
    output_schema = forms.CharField(required=False, strip=False, max_length=500_000)


class ExpressionCheckForm(forms.Form):
    """Which estimate of the posted form to evaluate: the name of the field that changed."""

    target = forms.RegexField(regex=r"^cap-\d+-pat-\d+-(time_estimate_ms|cost_estimate)$")
