"""Forms of the "Try it" page: the arguments a tool's input schema asks for, the pattern
and environment of the run, and the pattern's context variables.

The arguments form is made from the schema each time: one Django field per top-level
property, chosen by the property's type. What Django cannot check (patterns, nested
shapes) is left to the schema check ``planner.services.invoke`` runs, whose errors the
page puts back next to the field they name.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django import forms
from django.forms.utils import pretty_name

from catalog.definitions import safe_data
from catalog.display.in_words import limits_in_words, show_value
from catalog.models import Pattern
from telemetry.models import Environment

# Strings longer than this (by maxLength), or with one of these formats, get a textarea.
LONG_TEXT_CHARS = 200
LONG_TEXT_FORMATS = {"textarea", "multiline", "markdown", "text"}
INPUT_TYPES = {"date": "date", "email": "email", "uri": "url", "url": "url"}
JSON_EXAMPLES = {"array": '["first", "second"]', "object": '{"name": "value"}'}
# What a list of each item type looks like, typed as values separated by commas.
LIST_EXAMPLES = {
    "integer": ["1", "2", "3"],
    "number": ["1.5", "2", "3"],
    "boolean": ["yes", "no"],
    "string": ["first", "second"],
    "": ["first", "2"],
}
ITEM_KINDS = {"string", "integer", "number", "boolean"}
YES = {"yes", "true", "1", "on", "y"}
NO = {"no", "false", "0", "off", "n"}


class JSONTextField(forms.CharField):
    """A textarea holding a JSON value (a list, an object, anything the schema allows)."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "json-input"})

    def prepare_value(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return None
        try:
            return safe_data.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                "This is not valid JSON (%(problem)s at line %(line)s, column %(column)s).",
                code="invalid_json",
                params={"problem": exc.msg, "line": exc.lineno, "column": exc.colno},
            ) from None
        except safe_data.UnsafeData as exc:
            where = f" (at {exc.path})" if exc.path else ""
            raise forms.ValidationError(
                "This cannot be used%(where)s: it %(problem)s.",
                code="unsafe_json",
                params={"where": where, "problem": exc.message},
            ) from None


class ListField(JSONTextField):
    """A list of plain values (numbers, strings, yes/no, allowed values), typed one per
    line, separated by commas, or as JSON; with scripts on, the page edits it as rows.

    Each item is read by the item schema's type, and every item that cannot be is named:
    ``item 2: 'x' is not a number``.
    """

    def __init__(self, item: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item = item
        self.item_kind = _main_type(item) if _main_type(item) in ITEM_KINDS else ""
        enum = item.get("enum")
        self.item_choices = enum if isinstance(enum, list) else []
        attrs = {"rows": 3, "spellcheck": "false", "class": "list-input"}
        self.widget = forms.Textarea(attrs=attrs)
        self.widget.attrs["data-list-item"] = json.dumps(
            {"kind": self.item_kind, "choices": [show_value(v) for v in self.item_choices]}
        )

    def example(self) -> str:
        values = [show_value(v) for v in self.item_choices[:2]] or LIST_EXAMPLES[self.item_kind]
        return ", ".join(values)

    def json_example(self) -> str:
        if self.item_choices:
            return json.dumps(self.item_choices[:2], ensure_ascii=False)
        examples = LIST_EXAMPLES[self.item_kind]
        return json.dumps([_read_item(v, self.item_kind, []) for v in examples])

    def prepare_value(self, value: Any) -> Any:
        """A list (a default) as values separated by commas, or as JSON when one holds a
        comma or is not a plain value."""
        if isinstance(value, list):
            shown = [show_value(v) for v in value]
            plain = all(isinstance(v, str | int | float | bool) for v in value)
            if plain and not any("," in v or "\n" in v or v != v.strip() for v in shown):
                return ", ".join(shown)
            return json.dumps(value, ensure_ascii=False)
        return super().prepare_value(value)

    def to_python(self, value: Any) -> Any:
        text = forms.CharField.to_python(self, value)
        if text is None or text in self.empty_values:
            return None
        if text.lstrip().startswith("["):
            items = super().to_python(text)
        else:
            lines = [line.strip() for line in text.splitlines()]
            pieces = lines if len(lines) > 1 else [p.strip() for p in text.split(",")]
            items = [p for p in pieces if p]
        problems: list[str] = []
        read = [self._read(n, v, problems) for n, v in enumerate(items, start=1)]
        if problems:
            raise forms.ValidationError(problems)
        return read

    def _read(self, number: int, value: Any, problems: list[str]) -> Any:
        if not isinstance(value, str):
            return value
        if self.item_choices and value not in self.item_choices:
            shown = {show_value(v): v for v in self.item_choices}
            if value in shown:
                return shown[value]
            allowed = ", ".join(shown)
            problems.append(f"item {number}: '{value}' is not one of the allowed values: {allowed}")
            return value
        if self.item_choices:
            return value
        return _read_item(value, self.item_kind, problems, number)


def _read_item(text: str, kind: str, problems: list[str], number: int = 0) -> Any:
    """One typed item from its text; a problem naming the item when it cannot be read."""
    if kind in ("integer", "number"):
        try:
            if kind == "integer":
                return int(text)
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(text)
        except ValueError:
            word = "a whole number" if kind == "integer" else "a number"
            problems.append(f"item {number}: '{text}' is not {word}")
            return text
        return int(value) if value.is_integer() and "." not in text else value
    if kind == "boolean":
        if text.lower() in YES | NO:
            return text.lower() in YES
        problems.append(f"item {number}: '{text}' is not yes or no")
        return text
    if kind == "":
        # Items of no stated type: numbers and yes/no as JSON reads them, the rest as text.
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            return text
        return parsed if isinstance(parsed, int | float | bool) else text
    return text


def _list_item(spec: dict[str, Any]) -> dict[str, Any] | None:
    """The item schema of a list of plain values, or None for a list of objects or lists."""
    item = spec.get("items", {})
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("enum"), list) and item["enum"]:
        if all(isinstance(v, str | int | float | bool) for v in item["enum"]):
            return item
        return None
    return item if _main_type(item) in ITEM_KINDS or "type" not in item else None


def _main_type(spec: dict[str, Any]) -> str:
    """The property's one JSON type; "" when it has several (other than null) or none."""
    kind = spec.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if len(kinds) == 1 else ""
    return kind if isinstance(kind, str) else ""


def _enum_field(spec: dict[str, Any], *, required: bool) -> forms.Field:
    """A select of the allowed values; each choice carries its value as JSON."""
    choices = [(json.dumps(v), show_value(v)) for v in spec["enum"]]
    if not required:
        choices.insert(0, ("", "— not set —"))
    return forms.TypedChoiceField(
        choices=choices, coerce=json.loads, required=required, empty_value=None
    )


def _string_field(spec: dict[str, Any], *, required: bool) -> forms.Field:
    max_length = spec.get("maxLength")
    fmt = spec.get("format", "")
    long_text = fmt in LONG_TEXT_FORMATS or (
        isinstance(max_length, int) and max_length > LONG_TEXT_CHARS
    )
    if long_text:
        widget: forms.Widget = forms.Textarea(attrs={"rows": 5})
    else:
        widget = forms.TextInput(attrs={"type": INPUT_TYPES.get(fmt, "text")})
    return forms.CharField(
        required=required,
        max_length=max_length if isinstance(max_length, int) else None,
        widget=widget,
    )


def _number_field(spec: dict[str, Any], *, integer: bool, required: bool) -> forms.Field:
    low, high = spec.get("minimum"), spec.get("maximum")
    if integer:
        return forms.IntegerField(
            required=required,
            min_value=low,
            max_value=high,
            widget=forms.NumberInput(attrs={"step": "1"}),
        )
    return forms.FloatField(
        required=required,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )


def field_for(name: str, spec: Any, *, required: bool) -> forms.Field:
    """The form field for one schema property, labelled, explained and prefilled."""
    spec = spec if isinstance(spec, dict) else {}
    kind = _main_type(spec)
    field: forms.Field
    if isinstance(spec.get("enum"), list) and spec["enum"]:
        field = _enum_field(spec, required=required)
    elif kind == "string":
        field = _string_field(spec, required=required)
    elif kind in ("integer", "number"):
        field = _number_field(spec, integer=kind == "integer", required=required)
    elif kind == "boolean":
        # Unticked is an answer (false), so a required flag is never "missing".
        field = forms.BooleanField(required=False)
    elif kind == "array" and (item := _list_item(spec)) is not None:
        field = ListField(item, required=required)
    else:
        field = JSONTextField(required=required)
        example = JSON_EXAMPLES.get(kind, "")
        if kind == "array" and _main_type(spec.get("items") or {}) == "object":
            example = '[{"name": "value"}]'
        field.widget.attrs["placeholder"] = example
    field.label = str(spec.get("title") or pretty_name(name))
    field.help_text = str(spec.get("description") or "")
    field.limits = limits_in_words(spec)  # type: ignore[attr-defined]
    field.schema_required = required  # type: ignore[attr-defined]
    field.list = isinstance(field, ListField)  # type: ignore[attr-defined]
    field.json = isinstance(field, JSONTextField) and not field.list  # type: ignore[attr-defined]
    if "default" in spec:
        default = spec["default"]
        field.initial = (
            json.dumps(default) if isinstance(field, forms.TypedChoiceField) else default
        )
    return field


class ArgumentsForm(forms.Form):
    """The arguments of a run, one field per top-level property of ``schema``."""

    def __init__(self, schema: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "arg")
        super().__init__(*args, **kwargs)
        schema = schema if isinstance(schema, dict) else {}
        properties = schema.get("properties")
        required = set(schema.get("required") or [])
        for name, spec in (properties if isinstance(properties, dict) else {}).items():
            self.fields[name] = field_for(name, spec, required=name in required)

    def arguments(self) -> dict[str, Any]:
        """The cleaned values, leaving out optional fields left empty so the schema's
        defaults apply."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in (None, "") or self.fields[name].schema_required  # type: ignore[attr-defined]
        }


def pattern_key(pattern: Pattern) -> str:
    """How a run names its pattern: ``capability/pattern``."""
    return f"{pattern.capability.name}/{pattern.name}"


class RunOptionsForm(forms.Form):
    """Which pattern's estimates and policy apply, and where the run counts as happening."""

    pattern = forms.ChoiceField(widget=forms.RadioSelect, label="How to use it")
    environment = forms.ChoiceField(
        choices=Environment.choices,
        initial=Environment.DEVELOPMENT,
        label="Environment",
        help_text="Where this run counts as happening. Some tools are not allowed in production.",
    )

    def __init__(self, *args: Any, patterns: list[Pattern], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(patterns) > 1:
            choice = self.fields["pattern"]
            assert isinstance(choice, forms.ChoiceField)
            choice.choices = [(pattern_key(p), p.name) for p in patterns]
            choice.initial = pattern_key(patterns[0])
        else:
            # One pattern (or none) leaves nothing to choose.
            del self.fields["pattern"]


class ContextForm(forms.Form):
    """A pattern's context variables (what its estimates depend on), prefilled with their
    sample values."""

    def __init__(self, pattern: Pattern, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        variables = pattern.context_variables if isinstance(pattern.context_variables, dict) else {}
        for name, spec in variables.items():
            spec = spec if isinstance(spec, dict) else {}
            self.fields[name] = forms.FloatField(
                required=False,
                label=name,
                help_text=str(spec.get("description") or ""),
                initial=spec.get("sample"),
                widget=forms.NumberInput(attrs={"step": "any"}),
            )

    def context(self) -> dict[str, int | float]:
        """The values given, whole numbers as integers; empty ones take their sample."""
        return {
            name: int(value) if value.is_integer() else value
            for name, value in self.cleaned_data.items()
            if value is not None
        }
