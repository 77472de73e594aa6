"""The editor's errors: the services' problems (each a path into the definition, such as
``capabilities[0].patterns[1].time_estimate_ms``) put next to the field, row or group
that caused them, and the summary at the top of the page with a link to each.

``ToolEditor`` (``catalog.editor.state``) builds the forms; ``EditorErrors``, its base,
only reads them and adds errors to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError

from catalog.definitions.problems import FieldError
from catalog.editor.forms import PREFERENCE_FIELDS, field_text

if TYPE_CHECKING:
    from catalog.editor.forms import DependencyForm, KeyValueForm, ToolForm
    from catalog.editor.state import CapabilityBlock, PatternBlock

# Between the parts of a label, e.g. "Capability 1 > pattern 2 > Time estimate".
SEP = " \u203a "
POLICY_FIELDS = ("max_cost", "requires_approval", "production_safe")
RUNTIME_FIELDS = {
    "kind": "runtime_kind",
    "timeout_s": "timeout_s",
    "memory_mb": "memory_mb",
    "network": "network",
    "callable": "callable_name",
}


@dataclass
class ErrorItem:
    """One problem for the summary at the top: where it is, and a link to the field."""

    label: str
    message: str
    anchor: str = ""
    path: str = ""  # inside a schema, e.g. "properties.port.type", for the parameter rows


JSON_TYPES = "string, integer, number, boolean, array, object or null"


def plain_schema_message(path: str, message: str) -> str:
    """The metaschema's words for a misspelt type, said so that a person can fix it."""
    bad_type = re.search(r"'([^']*)' is not valid under any of the given schemas", message)
    if bad_type and (path == "type" or path.endswith(".type")):
        return f"'{bad_type[1]}' is not a type JSON Schema knows; use {JSON_TYPES}"
    return message


class EditorErrors:
    """Where each error goes, and every error in the order of the page."""

    # The editor's forms (set by ToolEditor).
    tool_form: ToolForm
    defaults: list[KeyValueForm]
    metadata: list[KeyValueForm]
    dependencies: list[DependencyForm]
    capabilities: list[CapabilityBlock]
    # The rows that made it into the definition, by their index there (set by
    # ToolEditor.definition, so that an error's index finds its row).
    _kept_dependencies: list[DependencyForm]
    _kept_capabilities: list[CapabilityBlock]

    def __init__(self) -> None:
        self.non_field_errors: list[str] = []
        self._quiet: dict[int, set[str]] = {}  # while adding only new errors: fields to skip
        self.group_errors: dict[str, list[str]] = {}
        self.schema_errors: dict[str, list[ErrorItem]] = {"input_schema": [], "output_schema": []}

    # -- placing -----------------------------------------------------------------------

    def add_errors(self, errors: Iterable[FieldError]) -> None:
        """Put each of the services' errors at the field (or row) its path names."""
        for error in errors:
            self._place(error.path, error.message)

    def add_new_errors(self, errors: Iterable[FieldError]) -> None:
        """Like ``add_errors``, but not at a field that shows an error of its own."""
        self._quiet = {id(form): set(form.errors) for form in self._all_forms()}
        try:
            self.add_errors(errors)
        finally:
            self._quiet = {}

    def _all_forms(self) -> Iterator[forms.Form]:
        yield self.tool_form
        yield from (*self.defaults, *self.metadata, *self.dependencies)
        for capability in self.capabilities:
            yield capability.form
            for pattern in capability.patterns:
                yield pattern.form
                yield from pattern.variables

    def _add(self, form: forms.Form, field: str | None, message: str) -> None:
        if field in self._quiet.get(id(form), ()):
            return  # the field shows its own error, of which this one is a consequence
        form.add_error(field, message)

    def add_validation_error(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for key, messages in exc.message_dict.items():
                for message in messages:
                    self._place("" if key == "__all__" else key, message)
        else:
            self.non_field_errors.extend(exc.messages)

    def _place(self, path: str, message: str) -> None:
        form = self.tool_form
        if match := re.fullmatch(r"capabilities\[(\d+)\](.*)", path):
            self._place_in_capability(int(match[1]), match[2], message)
            return
        if match := re.fullmatch(r"(input_schema|output_schema)\.?(.*)", path):
            name, rest = match[1], match[2]
            self.schema_errors[name].append(
                ErrorItem(
                    friendly_path(rest),
                    plain_schema_message(rest, message),
                    f"{form[name].auto_id}-editor",
                    rest,
                )
            )
            return
        if match := re.fullmatch(r"runtime(?:\.(\w+))?.*", path):
            target = RUNTIME_FIELDS.get(match[1] or "kind", "runtime_kind")
            self._add(form, target, message)
            return
        if match := re.fullmatch(r"(defaults|metadata)(?:\.([^.\[]+))?(.*)", path):
            rows = self.defaults if match[1] == "defaults" else self.metadata
            row = next((f for f in rows if f.is_bound and field_text(f, "key") == match[2]), None)
            if row is not None:
                self._add(row, "value", _with_context(match[3], message))
            else:
                label = f"'{match[2]}': " if match[2] else ""
                self.group_errors.setdefault(match[1], []).append(label + message)
            return
        if match := re.fullmatch(r"dependencies(?:\[(\d+)\])?\.?(\w*)(.*)", path):
            index = int(match[1]) if match[1] is not None else -1
            if 0 <= index < len(self._kept_dependencies):
                dep = self._kept_dependencies[index]
                self._add(dep, match[2] if match[2] in dep.fields else "name", message)
            else:
                self.group_errors.setdefault("dependencies", []).append(message)
            return
        top = re.split(r"[.\[]", path, maxsplit=1)[0]
        if top in form.fields and top not in ("base_version", "overwrite_base", "action"):
            self._add(form, top, _with_context(path[len(top) :], message))
            return
        self.non_field_errors.append(f"{path}: {message}" if path else message)

    def _place_in_capability(self, index: int, rest: str, message: str) -> None:
        if not 0 <= index < len(self._kept_capabilities):
            self.group_errors.setdefault("capabilities", []).append(message)
            return
        block = self._kept_capabilities[index]
        if match := re.fullmatch(r"\.(name|description)", rest):
            self._add(block.form, match[1], message)
            return
        match = re.fullmatch(r"\.patterns\[(\d+)\](.*)", rest)
        kept = block.kept_patterns
        if match is None or not 0 <= int(match[1]) < len(kept):
            block.errors.append(_with_context(rest.lstrip("."), message))
            return
        self._place_in_pattern(kept[int(match[1])], match[2].lstrip("."), message)

    def _place_in_pattern(self, block: PatternBlock, rest: str, message: str) -> None:
        form = block.form
        head, _, tail = rest.partition(".")
        head, bracket, after = head.partition("[")
        if head == "policy" and tail in POLICY_FIELDS:
            self._add(form, tail, message)
        elif head == "preference_match" and tail in PREFERENCE_FIELDS:
            self._add(form, PREFERENCE_FIELDS[tail], message)
        elif head == "context_variables":
            name, _, field_name = tail.partition(".")
            var = next(
                (v for v in block.variables if v.is_bound and field_text(v, "name") == name), None
            )
            if var is not None:
                self._add(var, field_name if field_name in var.fields else "name", message)
            else:
                block.errors.append(f"Variables{' ' + name if name else ''}: {message}")
        elif head in form.fields:
            context = (f"[{bracket and after}" if bracket else "") + (f".{tail}" if tail else "")
            self._add(form, head, _with_context(context, message))
        else:
            block.errors.append(_with_context(rest, message))

    # -- showing -----------------------------------------------------------------------

    @property
    def has_errors(self) -> bool:
        return bool(self.error_summary())

    def error_summary(self) -> list[ErrorItem]:
        """Every problem in the order of the page, each with a link to its field."""
        items = [ErrorItem("", message) for message in self.non_field_errors]
        form = self.tool_form
        for name in form.fields:
            bound = form[name]
            items += [
                ErrorItem(str(bound.label), str(e), bound.auto_id or "") for e in bound.errors
            ]
            if name in self.schema_errors:
                for item in self.schema_errors[name]:
                    label = f"{bound.label}{SEP}{item.label}" if item.label else str(bound.label)
                    items.append(ErrorItem(label, item.message, item.anchor, item.path))
        for ci, cap in enumerate(self.capabilities, start=1):
            items += [
                ErrorItem(f"Capability {ci}", e, f"{cap.form.prefix}-block") for e in cap.errors
            ]
            items += _form_items(cap.form, f"Capability {ci}")
            for pi, pattern in enumerate(cap.patterns, start=1):
                label = f"Capability {ci}{SEP}pattern {pi}"
                items += [ErrorItem(label, e, f"{pattern.prefix}-block") for e in pattern.errors]
                items += _form_items(pattern.form, label)
                for var in pattern.variables:
                    items += _form_items(var, f"{label}{SEP}variable")
        for group, rows, label in (
            ("defaults", self.defaults, "Default"),
            ("dependencies", self.dependencies, "Dependency"),
            ("metadata", self.metadata, "Metadata"),
        ):
            items += [
                ErrorItem(label, e, f"{group}-group") for e in self.group_errors.get(group, [])
            ]
            for row in rows:
                items += _form_items(row, label)
        items += [
            ErrorItem("Capabilities", e, "capabilities-group")
            for e in self.group_errors.get("capabilities", [])
        ]
        return items


def _form_items(form: forms.Form, label: str) -> list[ErrorItem]:
    items = []
    for name in form.fields:
        bound = form[name]
        items += [
            ErrorItem(f"{label}{SEP}{bound.label}", str(e), bound.auto_id or "")
            for e in bound.errors
        ]
    return items


def friendly_path(path: str) -> str:
    """'properties.server.properties.port.type' -> 'server > port > type' (with SEP)."""
    parts = [p for p in re.split(r"\.|(?=\[)", path) if p and p != "properties"]
    return SEP.join(f"item {int(p[1:-1]) + 1}" if re.fullmatch(r"\[\d+\]", p) else p for p in parts)


def _with_context(rest: str, message: str) -> str:
    where = friendly_path(rest.lstrip("."))
    return f"{where}: {message}" if where else message
