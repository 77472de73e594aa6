"""A version's definition put in words and rows for pages: parameter tables from JSON
Schema, the runtime and policy in sentences, estimates worked out for sample values,
and a side-by-side line diff of two texts. Nothing here touches the database."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from catalog.estimates import Worked, cost_in_words, samples_of, worked_out
from catalog.models import Pattern, RuntimeKind, ToolStatus, ToolVersion
from catalog.sandbox_limits import Limits

# -- stored values -----------------------------------------------------------------------

# A choice's label by field name, so that change summaries show "Awaiting approval", not
# the stored "awaiting_approval". Each app registers its own choices (telemetry its run
# statuses, in its AppConfig.ready), as catalog may not import the apps after it.
_VALUE_WORDS: dict[str, dict[str, str]] = {}


def register_value_words(field_name: str, choices: Iterable[tuple[str, str]]) -> None:
    _VALUE_WORDS.setdefault(field_name, {}).update(choices)


def value_in_words(field_name: str, value: Any) -> Any:
    """A stored value as a person reads it: a choice's label, yes/no for booleans; other
    values unchanged."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return _VALUE_WORDS.get(field_name, {}).get(value, value)
    return value


register_value_words("status", ToolStatus.choices)


# -- parameters --------------------------------------------------------------------------

MAX_DEPTH = 6  # nesting shown; deeper parts are summarised by their type


@dataclass(frozen=True)
class ParameterRow:
    """One property of a JSON Schema object, flattened with its depth for indenting."""

    name: str
    depth: int
    type: str
    required: bool
    has_default: bool
    default: str
    allowed: list[str]
    limits: str
    description: str


def parameter_rows(schema: Any) -> list[ParameterRow]:
    """Every property of an object schema, nested objects and array items indented."""
    rows: list[ParameterRow] = []
    if isinstance(schema, dict):
        _object_rows(schema, 0, rows)
    return rows


def _object_rows(schema: dict[str, Any], depth: int, rows: list[ParameterRow]) -> None:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    required = set(schema.get("required") or [])
    for name, spec in properties.items():
        spec = spec if isinstance(spec, dict) else {}
        rows.append(_row(str(name), spec, depth, name in required))
        _children(spec, depth + 1, rows)


def _children(spec: dict[str, Any], depth: int, rows: list[ParameterRow]) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(spec.get("properties"), dict):
        _object_rows(spec, depth, rows)
    items = spec.get("items")
    if isinstance(items, dict) and isinstance(items.get("properties"), dict):
        _object_rows(items, depth, rows)


def _row(name: str, spec: dict[str, Any], depth: int, required: bool) -> ParameterRow:
    allowed = spec.get("enum")
    if "const" in spec:
        allowed = [spec["const"]]
    return ParameterRow(
        name=name,
        depth=depth,
        type=type_in_words(spec),
        required=required,
        has_default="default" in spec,
        default=show_value(spec.get("default")) if "default" in spec else "",
        allowed=[show_value(v) for v in allowed] if isinstance(allowed, list) else [],
        limits=limits_in_words(spec),
        description=str(spec.get("description") or ""),
    )


def type_in_words(spec: Any) -> str:
    """``{"type": "array", "items": {"type": "string"}}`` → ``list of text``."""
    if not isinstance(spec, dict):
        return "anything"
    kind = spec.get("type")
    if isinstance(kind, list):
        return " or ".join(_one_type(str(k), spec) for k in kind)
    if kind is None:
        for key, word in (("anyOf", "any of"), ("oneOf", "one of")):
            if isinstance(spec.get(key), list):
                return f"{word}: " + ", ".join(type_in_words(s) for s in spec[key])
        if "enum" in spec or "const" in spec:
            return "one of the allowed values"
        return "object" if isinstance(spec.get("properties"), dict) else "anything"
    return _one_type(str(kind), spec)


TYPE_WORDS = {
    "string": "text",
    "integer": "whole number",
    "number": "number",
    "boolean": "yes/no",
    "object": "object",
    "array": "list",
    "null": "nothing (null)",
}
PLURALS = {
    "text": "texts",
    "whole number": "whole numbers",
    "number": "numbers",
    "yes/no": "yes/no values",
    "object": "objects",
    "list": "lists",
}


def _one_type(kind: str, spec: dict[str, Any]) -> str:
    word = TYPE_WORDS.get(kind, kind)
    if kind == "string" and spec.get("format"):
        return f"{word} ({spec['format']})"
    if kind == "array":
        items = spec.get("items")
        if isinstance(items, dict) and items:
            inner = type_in_words(items)
            return f"list of {PLURALS.get(inner, inner)}"
    return word


def limits_in_words(spec: dict[str, Any]) -> str:
    """Bounds of a value in words: ``0 to 100``, ``at least 1 character``, ..."""
    parts = [
        _range(spec.get("minimum"), spec.get("maximum"), ""),
        _exclusive(spec.get("exclusiveMinimum"), spec.get("exclusiveMaximum")),
        _range(spec.get("minLength"), spec.get("maxLength"), " characters"),
        _range(spec.get("minItems"), spec.get("maxItems"), " items"),
    ]
    if spec.get("multipleOf") is not None:
        parts.append(f"a multiple of {show_value(spec['multipleOf'])}")
    if spec.get("pattern"):
        parts.append(f"matches {spec['pattern']}")
    if spec.get("uniqueItems"):
        parts.append("no repeats")
    return "; ".join(p for p in parts if p)


def _range(low: Any, high: Any, unit: str) -> str:
    if low is not None and high is not None:
        return f"{show_value(low)} to {show_value(high)}{unit}"
    bound = low if low is not None else high
    if bound is None:
        return ""
    if bound == 1:
        unit = unit.removesuffix("s")
    return f"{'at least' if low is not None else 'at most'} {show_value(bound)}{unit}"


def _exclusive(low: Any, high: Any) -> str:
    words = []
    if low is not None:
        words.append(f"more than {show_value(low)}")
    if high is not None:
        words.append(f"less than {show_value(high)}")
    return " and ".join(words)


def show_value(value: Any) -> str:
    """A JSON value as people read it: text without quotes, yes/no for booleans."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "nothing (null)"
    if value == "":
        return "(empty text)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def dependency_rows(dependencies: Any) -> list[dict[str, Any]]:
    """Dependencies as rows of name, type, whether needed and anything else they say."""
    rows = []
    for dep in dependencies if isinstance(dependencies, list) else []:
        dep = dep if isinstance(dep, dict) else {"name": show_value(dep)}
        extra = {k: v for k, v in dep.items() if k not in ("name", "type", "required")}
        rows.append(
            {
                "name": dep.get("name", ""),
                "type": dep.get("type", ""),
                "required": dep.get("required", True),
                "extra": ", ".join(f"{k}: {show_value(v)}" for k, v in extra.items()),
            }
        )
    return rows


def mapping_rows(mapping: Any) -> list[tuple[str, str]]:
    """A flat object (defaults, metadata) as (key, value in words) rows."""
    if not isinstance(mapping, dict):
        return []
    return [(str(k), show_value(v)) for k, v in mapping.items()]


# -- runtime -----------------------------------------------------------------------------


def seconds_in_words(seconds: float) -> str:
    if seconds >= 120 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{show_value(float(seconds))} s"


def milliseconds_in_words(ms: float | None) -> str:
    """A measured or estimated time: "850 ms", "3.4 s", "2 min 5 s"; "" when unknown."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{round(ms)} ms"
    if ms < 60_000:
        return f"{show_value(round(ms / 1000, 1))} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


def runtime_in_words(version: ToolVersion, allowed: Limits | None = None) -> str:
    """``Python script run in the sandbox, 30 s timeout, 256 MB memory, no network access``;
    with the tenant's ``allowed`` limits, where they hold a script back."""
    memory = f"{version.memory_mb} MB memory"
    network = (
        "network access to outside addresses (an admin's decision)"
        if version.network_allowed
        else "no network access"
    )
    if allowed is not None and version.runtime_kind == RuntimeKind.SCRIPT:
        if version.memory_mb > allowed.memory_mb:
            memory += f" (its runs get {allowed.memory_mb} MB, this tenant's limit)"
        if version.network_allowed and not allowed.network:
            network = "network access, which this tenant has turned off: it is not run"
    limits = f"{seconds_in_words(version.timeout_s)} timeout, {memory}, {network}"
    if version.runtime_kind == RuntimeKind.SCRIPT:
        return f"Python script run in the sandbox, {limits}"
    if version.runtime_kind == RuntimeKind.CALLABLE:
        name = f" ({version.callable_name})" if version.callable_name else ""
        return f"Trusted code registered with @tool{name}, {limits}"
    return "Described only: Quiver does not run it, agents call it where it lives"


def script_lines(script: str) -> list[str]:
    return script.rstrip("\n").split("\n") if script else []


# -- patterns ----------------------------------------------------------------------------


def policy_in_words(pattern: Pattern, *, restrictions_only: bool = False) -> list[str]:
    """The pattern's policy in sentences; with ``restrictions_only``, only what holds a
    run back (Try it lists those next to each way of running)."""
    words = []
    if pattern.requires_approval:
        words.append("Needs an admin's approval before it runs")
    elif not restrictions_only:
        words.append("Runs without asking for approval")
    if not pattern.production_safe:
        words.append("Not safe to run in production")
    elif not restrictions_only:
        words.append("Safe to run in production")
    if pattern.max_cost is not None:
        words.append(f"Refused when the estimated cost is above {cost_in_words(pattern.max_cost)}")
    return words


def complexity_in_words(score: float) -> str:
    if score < 0.34:
        return "simple"
    if score < 0.67:
        return "moderate"
    return "complex"


PREFERENCES = (
    ("Speed", "pref_speed"),
    ("Accuracy", "pref_accuracy"),
    ("Cost", "pref_cost"),
    ("Simplicity", "pref_complexity"),
    ("Completeness", "pref_completeness"),
)


@dataclass(frozen=True)
class Bar:
    """One bar of a small SVG chart: its label, value, width and vertical position."""

    label: str
    value: str
    width: float
    y: int


def preference_bars(pattern: Pattern, *, scale: int = 100, row: int = 18) -> list[Bar]:
    return [
        Bar(
            label,
            f"{getattr(pattern, attr):.2f}",
            round(getattr(pattern, attr) * scale, 1),
            i * row,
        )
        for i, (label, attr) in enumerate(PREFERENCES)
    ]


@dataclass
class PatternView:
    """A pattern with everything its card shows worked out."""

    pattern: Pattern
    time: Worked | None
    cost: Worked | None
    complexity: str
    policy: list[str]
    bars: list[Bar]
    variables: list[tuple[str, str, str]]
    examples: list[dict[str, str]]


@dataclass
class CapabilityView:
    name: str
    description: str
    patterns: list[PatternView] = field(default_factory=list)


def capability_views(version: ToolVersion) -> list[CapabilityView]:
    """The version's capabilities with readable patterns (content must be prefetched)."""
    views = []
    for capability in version.capabilities.all():
        cv = CapabilityView(capability.name, capability.description)
        for p in capability.patterns.all():
            variables = p.context_variables if isinstance(p.context_variables, dict) else {}
            cv.patterns.append(
                PatternView(
                    pattern=p,
                    time=worked_out(p.time_estimate_ms, samples_of(variables), "time"),
                    cost=worked_out(p.cost_estimate, samples_of(variables), "cost"),
                    complexity=complexity_in_words(p.complexity_score),
                    policy=policy_in_words(p),
                    bars=preference_bars(p),
                    variables=[
                        (
                            name,
                            str((spec or {}).get("description", "")),
                            show_value((spec or {}).get("sample", 1)),
                        )
                        for name, spec in variables.items()
                    ],
                    examples=[_example(e) for e in p.examples],
                )
            )
        views.append(cv)
    return views


def _example(example: Any) -> dict[str, str]:
    if isinstance(example, dict) and set(example) <= {"input", "output", "description"}:
        return {
            "description": str(example.get("description", "")),
            "input": pretty_json(example["input"]) if "input" in example else "",
            "output": pretty_json(example["output"]) if "output" in example else "",
        }
    return {"description": "", "input": pretty_json(example), "output": ""}


# -- side-by-side diff -------------------------------------------------------------------

CONTEXT_LINES = 3


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff; ``kind`` is equal, replace, delete, insert or skip."""

    kind: str
    old_no: int | None = None
    old: str = ""
    new_no: int | None = None
    new: str = ""
    skipped: int = 0

    @property
    def old_class(self) -> str:
        return {"replace": "chg-old", "delete": "del"}.get(self.kind, "")

    @property
    def new_class(self) -> str:
        return {"replace": "chg-new", "insert": "add"}.get(self.kind, "")


def side_by_side(old_text: str, new_text: str, *, context: int = CONTEXT_LINES) -> list[DiffRow]:
    """Rows pairing the lines of two texts; long unchanged runs are folded to one row."""
    a, b = old_text.splitlines(), new_text.splitlines()
    rows: list[DiffRow] = []
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            rows.extend(_equal_rows(a, i1, i2, j1, index, len(opcodes), context))
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            old_i, new_j = i1 + k, j1 + k
            has_old, has_new = old_i < i2, new_j < j2
            kind = tag
            if tag == "replace" and not (has_old and has_new):
                kind = "delete" if has_old else "insert"
            rows.append(
                DiffRow(
                    kind=kind,
                    old_no=old_i + 1 if has_old else None,
                    old=a[old_i] if has_old else "",
                    new_no=new_j + 1 if has_new else None,
                    new=b[new_j] if has_new else "",
                )
            )
    return rows


def _equal_rows(
    a: list[str], i1: int, i2: int, j1: int, index: int, count: int, context: int
) -> list[DiffRow]:
    def row(i: int) -> DiffRow:
        return DiffRow("equal", i + 1, a[i], j1 + (i - i1) + 1, a[i])

    head = 0 if index == 0 else context  # lines kept after the previous change
    tail = 0 if index == count - 1 else context  # lines kept before the next change
    if i2 - i1 <= head + tail + 1:
        return [row(i) for i in range(i1, i2)]
    rows = [row(i) for i in range(i1, i1 + head)]
    rows.append(DiffRow("skip", skipped=i2 - i1 - head - tail))
    rows.extend(row(i) for i in range(i2 - tail, i2))
    return rows
