"""The tool editor's state: posted form rows <-> a definition dict, and the services'
errors put next to the field that caused them.

Posted names of repeated rows (``catalog.editor.forms`` gives each row a prefix):

- ``defaults-<i>-key|value``, ``meta-<i>-key|value``, ``dep-<i>-name|type|required|version``
- ``cap-<c>-name|description``
- ``cap-<c>-pat-<p>-<pattern field>`` and ``cap-<c>-pat-<p>-var-<v>-name|description|sample``

Indices only order the rows; gaps are fine (the page's script renumbers rows after
adding, removing or moving one). Rows left completely empty are ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from catalog.definitions import expressions, inference, safe_data
from catalog.definitions.format import normalize
from catalog.definitions.json_schemas import check_json_schema
from catalog.definitions.problems import FieldError
from catalog.definitions.validation import check_script, validate_definition
from catalog.editor.forms import (
    CapabilityForm,
    ContextVariableForm,
    DependencyForm,
    KeyValueForm,
    PatternForm,
    ToolForm,
    show_value,
)
from catalog.models import RuntimeKind, ToolStatus

# Between the parts of a label, e.g. "Capability 1 > pattern 2 > Time estimate".
SEP = " \u203a "
NEW_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {},
    "additionalProperties": False,
}
NEW_OUTPUT_SCHEMA: dict[str, Any] = {"type": "object"}

PREFERENCE_FIELDS = {
    "speed": "pref_speed",
    "accuracy": "pref_accuracy",
    "cost": "pref_cost",
    "complexity": "pref_complexity",
    "completeness": "pref_completeness",
}
POLICY_FIELDS = ("max_cost", "requires_approval", "production_safe")
RUNTIME_FIELDS = {
    "kind": "runtime_kind",
    "timeout_s": "timeout_s",
    "memory_mb": "memory_mb",
    "network": "network",
    "callable": "callable_name",
}
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
class ErrorItem:
    """One problem for the summary at the top: where it is, and a link to the field."""

    label: str
    message: str
    anchor: str = ""
    path: str = ""  # inside a schema, e.g. "properties.port.type", for the parameter rows


@dataclass
class ExpressionResult:
    ok: bool
    text: str


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
            name = _raw(var, "name")
            sample = _raw(var, "sample")
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
    def time_check(self) -> ExpressionResult | None:
        return evaluate_estimate(_raw(self.form, "time_estimate_ms"), self.samples(), "time")

    @property
    def cost_check(self) -> ExpressionResult | None:
        return evaluate_estimate(_raw(self.form, "cost_estimate"), self.samples(), "cost")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.form.errors or any(v.errors for v in self.variables))

    def is_blank(self) -> bool:
        return not self.variables and not any(_raw(self.form, f) for f in PATTERN_TEXT_FIELDS)


@dataclass
class CapabilityBlock:
    form: CapabilityForm
    patterns: list[PatternBlock]
    errors: list[str] = field(default_factory=list)
    # The patterns that made it into the definition, by their index there.
    kept_patterns: list[PatternBlock] = field(default_factory=list)

    def is_blank(self) -> bool:
        return (
            not _raw(self.form, "name")
            and not _raw(self.form, "description")
            and all(p.is_blank() for p in self.patterns)
        )


def _raw(form: forms.Form, name: str) -> str:
    """A field's value as shown in the page: posted text, or the initial value."""
    value = form[name].value()
    return "" if value is None else str(value).strip()


def _indices(keys: Iterable[str], pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted({int(m[1]) for key in keys if (m := rx.fullmatch(key))})


def format_number(value: float) -> str:
    """2150 -> '2,150'; 2.5 -> '2.5'; 0.0042 -> '0.0042'."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 0.01:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def evaluate_estimate(
    expression: str, samples: Mapping[str, float], kind: str
) -> ExpressionResult | None:
    """What an estimate comes to for the sample values, in words; None when empty."""
    if not expression.strip():
        return None
    try:
        value = expressions.evaluate(expression, samples)
        used = expressions.variable_names(expression) if isinstance(expression, str) else set()
    except expressions.ExpressionError as exc:
        return ExpressionResult(False, f"This formula {exc}")
    if value < 0:
        return ExpressionResult(
            False,
            f"This formula gives {format_number(value)} for the sample values; "
            "an estimate cannot be negative.",
        )
    text = f"= {format_number(value)}" + (" ms" if kind == "time" else "")
    if kind == "time" and value >= 60_000:
        text += f" (about {format_number(round(value / 60_000, 1))} minutes)"
    shown = [f"{name}={format_number(samples[name])}" for name in samples if name in used]
    if shown:
        text += " for " + ", ".join(shown)
    return ExpressionResult(True, text)


@dataclass
class ScriptCheck:
    ok: bool
    message: str
    line: int | None = None


def check_script_text(source: str) -> ScriptCheck | None:
    """ "Looks good: main(host, port=443) found", or what is wrong and on which line."""
    if not source.strip():
        return None
    errors = check_script(source)
    if errors:
        message = errors[0].message
        line = re.search(r"line (\d+)", message)
        return ScriptCheck(False, f"The script {message}.", int(line[1]) if line else None)
    return ScriptCheck(
        True, f"Looks good: {inference.signature_of(inference.find_main(source))} found"
    )


def schema_check_items(text: str) -> list[ErrorItem]:
    """The problems of a schema typed into the advanced tab, each with its path inside."""
    try:
        schema = safe_data.loads(text or "{}")
    except safe_data.UnsafeData as exc:
        return [ErrorItem(_friendly(exc.path), f"This cannot be saved: it {exc.message}.")]
    except ValueError as exc:
        return [ErrorItem("", f"This is not valid JSON: {exc}")]
    return [
        ErrorItem(_friendly(e.path), plain_schema_message(e.path, e.message), path=e.path)
        for e in check_json_schema(schema, "")
    ]


JSON_TYPES = "string, integer, number, boolean, array, object or null"


def plain_schema_message(path: str, message: str) -> str:
    """The metaschema's words for a misspelt type, said so that a person can fix it."""
    bad_type = re.search(r"'([^']*)' is not valid under any of the given schemas", message)
    if bad_type and (path == "type" or path.endswith(".type")):
        return f"'{bad_type[1]}' is not a type JSON Schema knows; use {JSON_TYPES}"
    return message


def pattern_block_from_post(data: Mapping[str, Any], target: str) -> PatternBlock:
    """The pattern block that holds the posted field ``target`` (``cap-0-pat-1-cost_estimate``)."""
    prefix = target.rsplit("-", 1)[0]
    variables = [
        ContextVariableForm(data, prefix=f"{prefix}-var-{vi}")
        for vi in _indices(data.keys(), rf"{re.escape(prefix)}-var-(\d+)-name")
    ]
    return PatternBlock(PatternForm(data, prefix=prefix), variables)


class ToolEditor:
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
        self.tool_form = tool_form
        self.defaults = defaults
        self.metadata = metadata
        self.dependencies = dependencies
        self.capabilities = capabilities
        self.creating = tool_form.creating
        self.non_field_errors: list[str] = []
        self._quiet: dict[int, set[str]] = {}  # while adding only new errors: fields to skip
        self.group_errors: dict[str, list[str]] = {}
        self.schema_errors: dict[str, list[ErrorItem]] = {"input_schema": [], "output_schema": []}
        # The rows that made it into the definition, by their index there.
        self._kept_dependencies: list[DependencyForm] = []
        self._kept_capabilities: list[CapabilityBlock] = []

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

    # -- errors ----------------------------------------------------------------------

    def add_errors(self, errors: Iterable[FieldError]) -> None:
        """Put each of the services' errors at the field (or row) its path names."""
        for error in errors:
            self._place(error.path, error.message)

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
                    _friendly(rest),
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
            row = next((f for f in rows if f.is_bound and _raw(f, "key") == match[2]), None)
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
            var = next((v for v in block.variables if v.is_bound and _raw(v, "name") == name), None)
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
    return not any(_raw(form, name) for name in fields)


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


def _form_items(form: forms.Form, label: str) -> list[ErrorItem]:
    items = []
    for name in form.fields:
        bound = form[name]
        items += [
            ErrorItem(f"{label}{SEP}{bound.label}", str(e), bound.auto_id or "")
            for e in bound.errors
        ]
    return items


def _friendly(path: str) -> str:
    """'properties.server.properties.port.type' -> 'server > port > type' (with SEP)."""
    parts = [p for p in re.split(r"\.|(?=\[)", path) if p and p != "properties"]
    return SEP.join(f"item {int(p[1:-1]) + 1}" if re.fullmatch(r"\[\d+\]", p) else p for p in parts)


def _with_context(rest: str, message: str) -> str:
    where = _friendly(rest.lstrip("."))
    return f"{where}: {message}" if where else message
