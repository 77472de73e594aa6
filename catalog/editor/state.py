"""The tool editor's form state: the posted form rows <-> a definition dict.

Posted names of repeated rows (``catalog.editor.forms`` gives each row a prefix):

- ``defaults-<i>-key|value``, ``meta-<i>-key|value``, ``dep-<i>-name|type|required|version``
- ``cap-<c>-name|description``
- ``cap-<c>-pat-<p>-<pattern field>`` and ``cap-<c>-pat-<p>-var-<v>-name|description|sample``

Indices only order the rows; gaps are fine (the page's script renumbers rows after
adding, removing or moving one). Rows left completely empty are ignored. The services'
errors are put next to their fields by ``catalog.editor.errors``, the base of
``ToolEditor``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from catalog.definitions.format import normalize
from catalog.definitions.problems import FieldError
from catalog.definitions.validation import validate_definition
from catalog.editor.errors import EditorErrors
from catalog.editor.forms import (
    PREFERENCE_FIELDS,
    CapabilityForm,
    ContextVariableForm,
    DependencyForm,
    KeyValueForm,
    PatternForm,
    ToolForm,
    field_text,
    show_value,
)
from catalog.estimates import Worked, worked_out
from catalog.models import RuntimeKind, ToolStatus

NEW_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {},
    "additionalProperties": False,
}
NEW_OUTPUT_SCHEMA: dict[str, Any] = {"type": "object"}
# Text fields of a pattern: a pattern whose are all empty (and has no variables) was
# added and left blank, and is ignored.
PATTERN_TEXT_FIELDS = (
    "name",
    "description",
    "typical_use_cases",
    "time_estimate_ms",
    "cost_estimate",
    "scope",
    "completeness",
    "limitations",
    "required_inputs",
    "expected_outputs",
    "examples",
)


@dataclass
class PatternBlock:
    form: PatternForm
    variables: list[ContextVariableForm]
    errors: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.form.prefix or ""

    def samples(self) -> dict[str, float]:
        """The variables' sample values as typed (rows with a bad sample are left out)."""
        found: dict[str, float] = {}
        for var in self.variables:
            name = field_text(var, "name")
            sample = field_text(var, "sample")
            if not name:
                continue
            if not sample:
                found[name] = 1
                continue
            try:
                value = json.loads(sample)
            except ValueError:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                found[name] = value
        return found

    @property
    def time_check(self) -> Worked | None:
        return worked_out(field_text(self.form, "time_estimate_ms"), self.samples(), "time")

    @property
    def cost_check(self) -> Worked | None:
        return worked_out(field_text(self.form, "cost_estimate"), self.samples(), "cost")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.form.errors or any(v.errors for v in self.variables))

    def is_blank(self) -> bool:
        return not self.variables and not any(field_text(self.form, f) for f in PATTERN_TEXT_FIELDS)


@dataclass
class CapabilityBlock:
    form: CapabilityForm
    patterns: list[PatternBlock]
    errors: list[str] = field(default_factory=list)
    # The patterns that made it into the definition, by their index there.
    kept_patterns: list[PatternBlock] = field(default_factory=list)

    def is_blank(self) -> bool:
        return (
            not field_text(self.form, "name")
            and not field_text(self.form, "description")
            and all(p.is_blank() for p in self.patterns)
        )


def _indices(keys: Iterable[str], pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted({int(m[1]) for key in keys if (m := rx.fullmatch(key))})


def pattern_block_from_post(data: Mapping[str, Any], target: str) -> PatternBlock:
    """The pattern block that holds the posted field ``target`` (``cap-0-pat-1-cost_estimate``)."""
    prefix = target.rsplit("-", 1)[0]
    variables = [
        ContextVariableForm(data, prefix=f"{prefix}-var-{vi}")
        for vi in _indices(data.keys(), rf"{re.escape(prefix)}-var-(\d+)-name")
    ]
    return PatternBlock(PatternForm(data, prefix=prefix), variables)


class ToolEditor(EditorErrors):
    """Every form of the editor page, built from a POST or from a definition."""

    def __init__(
        self,
        tool_form: ToolForm,
        *,
        defaults: list[KeyValueForm],
        metadata: list[KeyValueForm],
        dependencies: list[DependencyForm],
        capabilities: list[CapabilityBlock],
    ) -> None:
        super().__init__()
        self.tool_form = tool_form
        self.defaults = defaults
        self.metadata = metadata
        self.dependencies = dependencies
        self.capabilities = capabilities
        self.creating = tool_form.creating
        # The rows that made it into the definition, by their index there.
        self._kept_dependencies = []
        self._kept_capabilities = []

    # -- building ------------------------------------------------------------------

    @classmethod
    def from_post(
        cls, data: Mapping[str, Any], *, creating: bool, members: list[str] | None = None
    ) -> ToolEditor:
        keys = list(data.keys())
        capabilities = []
        for ci in _indices(keys, r"cap-(\d+)-name"):
            patterns = []
            for pi in _indices(keys, rf"cap-{ci}-pat-(\d+)-name"):
                prefix = f"cap-{ci}-pat-{pi}"
                variables = [
                    ContextVariableForm(data, prefix=f"{prefix}-var-{vi}")
                    for vi in _indices(keys, rf"{prefix}-var-(\d+)-name")
                ]
                patterns.append(PatternBlock(PatternForm(data, prefix=prefix), variables))
            capabilities.append(CapabilityBlock(CapabilityForm(data, prefix=f"cap-{ci}"), patterns))
        return cls(
            ToolForm(data, creating=creating, members=members),
            defaults=[
                KeyValueForm(data, prefix=f"defaults-{i}")
                for i in _indices(keys, r"defaults-(\d+)-key")
            ],
            metadata=[
                KeyValueForm(data, prefix=f"meta-{i}") for i in _indices(keys, r"meta-(\d+)-key")
            ],
            dependencies=[
                DependencyForm(data, prefix=f"dep-{i}") for i in _indices(keys, r"dep-(\d+)-name")
            ],
            capabilities=capabilities,
        )

    @classmethod
    def from_definition(
        cls,
        definition: dict[str, Any] | None,
        *,
        creating: bool,
        members: list[str] | None = None,
        base_version: str = "",
    ) -> ToolEditor:
        """Unbound forms showing a definition (or a new tool's starting values)."""
        if definition is None:
            initial: dict[str, Any] = {
                "status": ToolStatus.ACTIVE,
                "enabled": True,
                "input_schema": _pretty(NEW_INPUT_SCHEMA),
                "output_schema": _pretty(NEW_OUTPUT_SCHEMA),
                "runtime_kind": RuntimeKind.NONE,
                "timeout_s": 30,
                "memory_mb": 512,
            }
            return cls(
                ToolForm(initial=initial, creating=creating, members=members),
                defaults=[],
                metadata=[],
                dependencies=[],
                capabilities=[],
            )
        d = normalize(definition)
        runtime = d["runtime"]
        initial = {
            "name": d.get("name", ""),
            "description": d["description"],
            "platform": d["platform"],
            "category": d["category"],
            "status": d["status"],
            "enabled": d["enabled"],
            "owners": d["owners"],
            "tags": ", ".join(d["tags"]),
            "input_schema": _pretty(d["input_schema"]),
            "output_schema": _pretty(d["output_schema"]),
            "runtime_kind": runtime["kind"],
            "timeout_s": runtime["timeout_s"],
            "memory_mb": runtime["memory_mb"],
            "network": runtime["network"],
            "callable_name": runtime.get("callable", ""),
            "script": d["script"],
            "base_version": base_version,
        }
        if creating and d.get("version"):
            initial["version"] = d["version"]
        return cls(
            ToolForm(initial=initial, creating=creating, members=members),
            defaults=_key_value_forms(d["defaults"], "defaults"),
            metadata=_key_value_forms(d["metadata"], "meta"),
            dependencies=[
                DependencyForm(
                    prefix=f"dep-{i}",
                    initial={
                        "name": dep["name"],
                        "type": dep["type"],
                        "required": dep["required"],
                        "version": dep.get("version", ""),
                    },
                )
                for i, dep in enumerate(d["dependencies"])
            ],
            capabilities=[
                CapabilityBlock(
                    CapabilityForm(
                        prefix=f"cap-{ci}",
                        initial={"name": cap["name"], "description": cap["description"]},
                    ),
                    [
                        _pattern_block(p, f"cap-{ci}-pat-{pi}")
                        for pi, p in enumerate(cap["patterns"])
                    ],
                )
                for ci, cap in enumerate(d["capabilities"])
            ],
        )

    # Empty rows for the page's <template> elements; the script fills in the indices.

    @staticmethod
    def empty_capability() -> CapabilityBlock:
        return CapabilityBlock(CapabilityForm(prefix="cap-__c__"), [])

    @staticmethod
    def empty_pattern() -> PatternBlock:
        return PatternBlock(PatternForm(prefix="cap-__c__-pat-__p__"), [])

    @staticmethod
    def empty_variable() -> ContextVariableForm:
        return ContextVariableForm(prefix="cap-__c__-pat-__p__-var-__v__")

    @staticmethod
    def empty_default() -> KeyValueForm:
        return KeyValueForm(prefix="defaults-__i__")

    @staticmethod
    def empty_metadata() -> KeyValueForm:
        return KeyValueForm(prefix="meta-__i__")

    @staticmethod
    def empty_dependency() -> DependencyForm:
        return DependencyForm(prefix="dep-__i__")

    # -- validating and converting ---------------------------------------------------

    def is_valid(self) -> bool:
        """Whether every posted row reads as the right kind of value (the services
        check the definition itself)."""
        valid = self.tool_form.is_valid()
        for rows in (self.defaults, self.metadata):
            valid = _valid_rows(rows, "key", ("key", "value")) and valid
        valid = _valid_rows(self.dependencies, "", ("name", "version")) and valid
        for capability in self.capabilities:
            valid = capability.form.is_valid() and valid
            for pattern in capability.patterns:
                valid = pattern.form.is_valid() and valid
                valid = (
                    _valid_rows(pattern.variables, "name", ("name", "description", "sample"))
                    and valid
                )
        return valid

    def definition(self) -> dict[str, Any]:
        """The definition the valid forms describe, for the services to check and save."""
        c = _cleaned(self.tool_form)
        d: dict[str, Any] = {}
        if self.creating:
            d.update(name=c["name"], status=c["status"], enabled=c["enabled"], owners=c["owners"])
        if c["version"].strip():
            d["version"] = c["version"].strip()
        runtime: dict[str, Any] = {
            "kind": c["runtime_kind"],
            "timeout_s": 30 if c["timeout_s"] is None else c["timeout_s"],
            "memory_mb": 512 if c["memory_mb"] is None else c["memory_mb"],
            "network": c["network"],
        }
        if c["callable_name"].strip():
            runtime["callable"] = c["callable_name"].strip()
        self._kept_dependencies = [
            f for f in self.dependencies if not _blank(f, ("name", "version"))
        ]
        self._kept_capabilities = [cap for cap in self.capabilities if not cap.is_blank()]
        d.update(
            description=c["description"],
            platform=c["platform"],
            category=c["category"],
            tags=c["tags"],
            defaults=_key_values(self.defaults),
            dependencies=[_dependency(_cleaned(f)) for f in self._kept_dependencies],
            metadata=_key_values(self.metadata),
            input_schema=(
                c["input_schema"] if c["input_schema"] is not None else dict(NEW_INPUT_SCHEMA)
            ),
            output_schema=(
                c["output_schema"] if c["output_schema"] is not None else dict(NEW_OUTPUT_SCHEMA)
            ),
            runtime=runtime,
            script=c["script"],
            capabilities=[self._capability(cap) for cap in self._kept_capabilities],
        )
        return d

    def _capability(self, block: CapabilityBlock) -> dict[str, Any]:
        block.kept_patterns = [p for p in block.patterns if not p.is_blank()]
        c = _cleaned(block.form)
        return {
            "name": c["name"],
            "description": c["description"],
            "patterns": [_pattern(p) for p in block.kept_patterns],
        }

    @property
    def action(self) -> str:
        if self.tool_form.is_bound and hasattr(self.tool_form, "cleaned_data"):
            return str(self.tool_form.cleaned_data.get("action") or "save")
        return "save"

    @property
    def reason(self) -> str:
        return str(self.tool_form.cleaned_data.get("reason", "")).strip()

    def other_problems(
        self,
        in_tenant: Callable[[dict[str, Any]], list[FieldError]] | None = None,
        *,
        name: str = "",
    ) -> list[FieldError]:
        """The definition's problems besides those its forms found, for when they are not
        valid: every check runs every time, so every problem shows at once (with
        ``in_tenant``, those it has in the tenant too). Problems of the fields whose own
        errors show already are left out (``add_new_errors``)."""
        try:
            definition = self.definition()
        except (KeyError, TypeError, ValueError, AttributeError):
            return []
        if name:  # an edit: the tool's name is not on the page
            definition["name"] = name
        return [*validate_definition(definition), *(in_tenant(definition) if in_tenant else [])]

    # -- showing -----------------------------------------------------------------------

    @property
    def script_lines(self) -> range:
        text = self.tool_form["script"].value() or ""
        return range(1, str(text).count("\n") + 2)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _key_value_forms(values: dict[str, Any], prefix: str) -> list[KeyValueForm]:
    return [
        KeyValueForm(prefix=f"{prefix}-{i}", initial={"key": key, "value": show_value(value)})
        for i, (key, value) in enumerate(values.items())
    ]


def _pattern_block(p: dict[str, Any], prefix: str) -> PatternBlock:
    initial = {
        "name": p["name"],
        "description": p["description"],
        "typical_use_cases": "\n".join(p["typical_use_cases"]),
        "time_estimate_ms": p["time_estimate_ms"],
        "cost_estimate": p["cost_estimate"],
        "complexity_score": p["complexity_score"],
        "scope": p["scope"],
        "completeness": p["completeness"],
        "limitations": "\n".join(p["limitations"]),
        "max_cost": p["policy"]["max_cost"],
        "requires_approval": p["policy"]["requires_approval"],
        "production_safe": p["policy"]["production_safe"],
        "required_inputs": ", ".join(p["required_inputs"]),
        "expected_outputs": ", ".join(p["expected_outputs"]),
        "examples": _pretty(p["examples"]) if p["examples"] else "",
        **{form_field: p["preference_match"][key] for key, form_field in PREFERENCE_FIELDS.items()},
    }
    variables = [
        ContextVariableForm(
            prefix=f"{prefix}-var-{vi}",
            initial={
                "name": name,
                "description": spec.get("description", ""),
                "sample": json.dumps(spec.get("sample", 1)),
            },
        )
        for vi, (name, spec) in enumerate(p["context_variables"].items())
    ]
    return PatternBlock(PatternForm(prefix=prefix, initial=initial), variables)


def _pattern(block: PatternBlock) -> dict[str, Any]:
    c = _cleaned(block.form)
    variables = {}
    for var in block.variables:
        if _blank(var, ("name", "description", "sample")):
            continue
        v = _cleaned(var)
        variables[v["name"]] = {
            "description": v["description"],
            "sample": 1 if v["sample"] is None else v["sample"],
        }
    return {
        "name": c["name"],
        "description": c["description"],
        "typical_use_cases": c["typical_use_cases"],
        "context_variables": variables,
        "time_estimate_ms": c["time_estimate_ms"].strip(),
        "cost_estimate": c["cost_estimate"].strip(),
        "complexity_score": _unit(c["complexity_score"]),
        "scope": c["scope"],
        "completeness": c["completeness"],
        "limitations": c["limitations"],
        "policy": {
            "max_cost": c["max_cost"],
            "requires_approval": c["requires_approval"],
            "production_safe": c["production_safe"],
        },
        "preference_match": {
            key: _unit(c[form_field]) for key, form_field in PREFERENCE_FIELDS.items()
        },
        "required_inputs": c["required_inputs"],
        "expected_outputs": c["expected_outputs"],
        "examples": c["examples"],
    }


def _unit(value: float | None) -> float:
    return 0.5 if value is None else float(value)


def _dependency(c: dict[str, Any]) -> dict[str, Any]:
    dep = {"name": c["name"], "type": c["type"], "required": c["required"]}
    if c["version"]:
        dep["version"] = c["version"]
    return dep


def _key_values(rows: list[KeyValueForm]) -> dict[str, Any]:
    pairs = (_cleaned(row) for row in rows if not _blank(row, ("key", "value")))
    return {c["key"]: c["value"] for c in pairs}


def _cleaned(form: forms.Form) -> dict[str, Any]:
    """A checked form's values. Where a field has an error its empty value stands in, so
    that the rest of the definition can still be checked (``other_problems``)."""
    values = dict(getattr(form, "cleaned_data", {}))
    for name, form_field in form.fields.items():
        if name not in values:
            try:
                values[name] = form_field.to_python("")
            except ValidationError:
                values[name] = None
    return values


def _blank(form: forms.Form, fields: tuple[str, ...]) -> bool:
    return not any(field_text(form, name) for name in fields)


def _valid_rows(rows: list[Any], unique: str, fields: tuple[str, ...]) -> bool:
    """Validate the rows that are not blank; names in ``unique`` may not repeat."""
    valid, seen = True, set()
    for row in rows:
        if _blank(row, fields):
            continue
        valid = row.is_valid() and valid
        if unique and row.is_valid():
            name = row.cleaned_data[unique]
            if name in seen:
                row.add_error(unique, f"'{name}' is used twice.")
                valid = False
            seen.add(name)
    return valid
