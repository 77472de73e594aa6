"""Validation of tool definitions, shared by forms, the API and import.

Every check returns ``FieldError(path, message)`` items a person can act on, the path
naming the field (``input_schema.properties.limit.default``, ``capabilities[0].patterns[1]
.time_estimate_ms``) and the message saying what is wrong in plain words.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from django.conf import settings
from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator
from jsonschema import ValidationError as SchemaError

from catalog.definitions import expressions
from catalog.definitions.format import SEMVER, TOOL_NAME, TOOL_NAME_RULE, normalize

DEFINITION_SCHEMA_PATH = Path(__file__).parent / "schemas" / "tool_definition.schema.json"


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DefinitionInvalid(ValidationError):
    """A definition with one or more field errors; ``errors`` keeps them in order."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        grouped: dict[str, list[str]] = {}
        for error in errors:
            grouped.setdefault(error.path or "__all__", []).append(error.message)
        super().__init__(grouped)


def join_path(base: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{base}[{part}]"
    return f"{base}.{part}" if base else part


def json_path(parts: Iterable[str | int], base: str = "") -> str:
    path = base
    for part in parts:
        path = join_path(path, part)
    return path


# -- JSON Schema -----------------------------------------------------------------


# Tool schemas are written by editors and their regular expressions (``pattern``,
# ``patternProperties``) are matched against arguments from anyone who may run the tool,
# in the web request. Python's backtracking ``re`` takes exponential time on patterns
# such as ``^(a+)+$`` (26 characters took 3 s), so these schemas are checked by
# jsonschema-rs with its standard engine, Rust's regex crate, which matches in linear
# time and has no lookaround or backreferences; a schema whose expressions that engine
# cannot compile is refused when the definition is saved (``check_json_schema``).
LINEAR_REGEX = jsonschema_rs.RegexOptions()


def _no_remote_refs(uri: str) -> Any:
    """jsonschema-rs fetches a ``$ref`` to a URL by default: from the web process, at an
    address an editor chose. Tool schemas may only refer to their own parts."""
    raise ValueError(f"{uri} is not fetched: a $ref may only point inside the schema ('#/...')")


def _compiled(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator(
        schema, validate_formats=True, pattern_options=LINEAR_REGEX, retriever=_no_remote_refs
    )


@dataclass(frozen=True)
class SchemaFailure:
    """One way an instance fails a schema: where (``absolute_path``), which keyword with
    which value in which (sub)schema, and the engine's own message."""

    absolute_path: tuple[str | int, ...]
    keyword: str
    value: Any
    instance: Any
    schema: Any
    message: str
    missing: str = ""  # the property a ``required`` failure misses

    @classmethod
    def of_python(cls, error: SchemaError) -> SchemaFailure:
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return cls(
            tuple(error.absolute_path),
            str(error.validator),
            error.validator_value,
            error.instance,
            error.schema,
            error.message,
            missing if error.validator == "required" else "",
        )

    @classmethod
    def of_rust(cls, error: Any, root: Any) -> SchemaFailure:
        keyword = str(error.schema_path[-1]) if error.schema_path else ""
        kind = error.kind.as_dict() if error.kind is not None else {}
        return cls(
            tuple(error.instance_path),
            keyword,
            _at(root, error.schema_path),
            error.instance,
            _at(root, error.schema_path[:-1]),
            error.message,
            str(kind.get("property", "")) if keyword == "required" else "",
        )


def _at(root: Any, path: Iterable[str | int]) -> Any:
    """The part of a schema a jsonschema-rs schema path names (local ``$ref``s are already
    followed in such paths); None when it cannot be found."""
    node = root
    for part in path:
        if not isinstance(node, dict | list):
            return None
        try:
            node = node[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return None
    return node


class CompiledSchema:
    """A tool's schema compiled once by jsonschema-rs, its regular expressions on a
    linear-time engine. A schema it cannot compile (saved before such schemas were
    refused) fits nothing, and says why."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.problem = ""
        self.compiled: Any = None
        try:
            self.compiled = _compiled(schema)
        except (ValueError, jsonschema_rs.ValidationError) as exc:
            self.problem = str(exc).splitlines()[0]

    def is_valid(self, instance: Any) -> bool:
        return self.compiled is not None and bool(self.compiled.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[SchemaFailure]:
        if self.compiled is None:
            message = f"cannot be checked: its schema is not usable ({self.problem})"
            yield SchemaFailure((), "", None, instance, self.schema, message)
            return
        for error in self.compiled.iter_errors(instance):
            yield SchemaFailure.of_rust(error, self.schema)


def schema_compile_errors(schema: dict[str, Any], path: str) -> list[FieldError]:
    """Why jsonschema-rs (with the linear-time regex engine) cannot compile a schema that
    is valid Draft 2020-12: most often a ``pattern`` with lookaround or a backreference."""
    try:
        _compiled(schema)
    except jsonschema_rs.ValidationError as exc:
        where = json_path(exc.instance_path, path)
        if isinstance(exc.instance, str) and "regex" in exc.message:
            return [
                FieldError(
                    where,
                    f"'{exc.instance}' is not a regular expression Quiver can use: "
                    "lookaround ((?=, (?!, (?<=, (?<!) and backreferences (\\1) are not "
                    "supported, so that matching always takes linear time",
                )
            ]
        return [FieldError(where, f"cannot be used: {exc.message.splitlines()[0]}")]
    except ValueError as exc:
        return [FieldError(path, f"cannot be used: {str(exc).splitlines()[0]}")]
    return []


@lru_cache(maxsize=2048)
def _validator_for(key: str, text: str) -> CompiledSchema:
    return CompiledSchema(json.loads(text))


def compiled_validator(schema: dict[str, Any]) -> CompiledSchema:
    """A validator for ``schema``, compiled once and cached by the schema's hash."""
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return _validator_for(hashlib.sha256(text.encode()).hexdigest(), text)


# Speed: jsonschema-rs answers "is this valid?" about 200 times faster than jsonschema
# (benchmarks/catalog_bench.py). The definition format's own schema (ours, trusted) is
# screened by it, and jsonschema lists the errors of a definition that fails.


@lru_cache(maxsize=1)
def definition_validator() -> Draft202012Validator:
    """The definition format's validator, its local ``$ref``s inlined: resolving them
    on every use was most of the cost of a check."""
    schema = json.loads(DEFINITION_SCHEMA_PATH.read_text())
    defs = schema.get("$defs", {})
    # $defs stays for readers of the schema (the wizard's help); nothing refers to it.
    return Draft202012Validator({**_inline_refs(schema, defs), "$defs": defs})


@lru_cache(maxsize=1)
def _fast_definition_validator() -> Any:
    return jsonschema_rs.Draft202012Validator(json.loads(DEFINITION_SCHEMA_PATH.read_text()))


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {**_inline_refs(defs[ref.removeprefix("#/$defs/")], defs), **rest}
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    return node


@lru_cache(maxsize=1)
def meta_validator() -> Draft202012Validator:
    """Checks that a schema is itself valid Draft 2020-12."""
    return Draft202012Validator(Draft202012Validator.META_SCHEMA)


def _humanize(error: SchemaFailure) -> tuple[list[str | int], str]:
    """Turn a schema failure into (path, message) in plain words."""
    path = list(error.absolute_path)
    kind, value = error.keyword, error.value
    if kind == "required":
        return [*path, error.missing or "a field"], "is required"
    if kind == "additionalProperties" and value is False and isinstance(error.schema, dict):
        known = set((error.schema.get("properties") or {}).keys())
        extra = sorted(set(error.instance) - known) if isinstance(error.instance, dict) else []
        allowed = ", ".join(sorted(known))
        return path, f"has unknown field(s) {', '.join(extra)}; allowed fields: {allowed}"
    if kind == "enum" and isinstance(value, list):
        return path, "must be one of: " + ", ".join(str(v) for v in value)
    if kind == "type" and isinstance(value, str | list):
        wanted = " or ".join(value) if isinstance(value, list) else value
        return path, f"must be {_article(wanted)} {wanted}, not {_type_name(error.instance)}"
    if kind == "pattern" and isinstance(value, str):
        return path, _pattern_message(path, error.instance, value)
    if kind in ("minimum", "exclusiveMinimum"):
        return path, f"must be at least {value}" + (" (exclusive)" if "exclusive" in kind else "")
    if kind in ("maximum", "exclusiveMaximum"):
        return path, f"must be at most {value}" + (" (exclusive)" if "exclusive" in kind else "")
    if kind == "minLength" and value == 1:
        return path, "must not be empty"
    if kind == "maxLength":
        return path, f"must be at most {value} characters"
    if kind == "uniqueItems":
        return path, "must not repeat items"
    return path, error.message


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _type_name(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _pattern_message(path: list[str | int], instance: Any, pattern: str) -> str:
    field = next((str(part) for part in reversed(path) if isinstance(part, str)), "")
    if not field and pattern.startswith("^[a-z][a-z0-9_-]"):
        field = "name"
    if pattern == TOOL_NAME:
        return f"'{instance}' is not a valid tool name: use {TOOL_NAME_RULE}"
    if field in ("name", "category"):
        return (
            f"'{instance}' is not a valid {field}: use lower-case letters, digits, '_' and '-', "
            "starting with a letter"
        )
    if field == "tags":
        return (
            f"'{instance}' is not a valid tag: use lower-case letters, digits, '_', '.' and '-', "
            "starting with a letter or digit"
        )
    allowed = _characters_in_words(pattern)
    if allowed:
        return f"'{instance}' is not in the expected form: use only {allowed}"
    return f"'{instance}' is not in the expected form (the pattern {pattern})"


# A whole value of characters from one class, e.g. ^[a-z0-9.-]+$: said in words.
_ONE_CLASS = re.compile(r"\^\[([^\]\\^]+)\][+*]\$")
_RANGES = {"a-z": "lower-case letters", "A-Z": "capital letters", "0-9": "digits"}


def _characters_in_words(pattern: str) -> str:
    """``^[a-z0-9.-]+$`` as "lower-case letters, digits, '.' and '-'"; "" for any other
    pattern."""
    match = _ONE_CLASS.fullmatch(pattern)
    if match is None:
        return ""
    inside, words = match.group(1), []
    for span, word in _RANGES.items():
        if span in inside:
            words.append(word)
            inside = inside.replace(span, "", 1)
    if re.search(r".-.", inside):  # another range: not worth saying in words
        return ""
    words += [f"'{char}'" for char in dict.fromkeys(inside.replace("\\", ""))]
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def schema_errors(
    instance: Any, validator: Draft202012Validator | CompiledSchema, base: str = ""
) -> list[FieldError]:
    """Errors of ``instance`` against a compiled schema, humanized, in document order."""
    failures = [
        error if isinstance(error, SchemaFailure) else SchemaFailure.of_python(error)
        for error in validator.iter_errors(instance)
    ]
    errors = []
    for error in sorted(failures, key=lambda e: list(map(str, e.absolute_path))):
        path, message = _humanize(error)
        errors.append(FieldError(json_path(path, base), message))
    return errors


def check_json_schema(schema: Any, path: str) -> list[FieldError]:
    """A schema of arguments or results: valid Draft 2020-12, of type object."""
    if not isinstance(schema, dict):
        return [FieldError(path, "must be a JSON Schema object")]
    errors = [
        FieldError(json_path(parts, path), f"is not valid JSON Schema: {message}")
        for parts, message in _meta_errors(json.dumps(schema, sort_keys=True))
    ]
    if errors:
        return errors
    errors = schema_compile_errors(schema, path)
    if errors:
        return errors
    if schema.get("type") != "object":
        errors.append(FieldError(join_path(path, "type"), "must be 'object'"))
    errors.extend(_check_schema_defaults(schema, path))
    return errors


@lru_cache(maxsize=8192)
def _meta_errors(text: str) -> tuple[tuple[tuple[str | int, ...], str], ...]:
    """Metaschema errors of a schema (by its canonical text): checking a schema against
    Draft 2020-12 is slow, and catalogs repeat the same schemas often."""
    schema = json.loads(text)
    if jsonschema_rs.meta.is_valid(schema):
        return ()
    return tuple(
        (tuple(error.absolute_path), error.message)
        for error in meta_validator().iter_errors(schema)
    )


def _check_schema_defaults(schema: dict[str, Any], path: str) -> Iterator[FieldError]:
    """Every ``default`` inside a schema must satisfy the schema it sits in."""
    if "default" in schema:
        subschema = {k: v for k, v in schema.items() if k != "default"}
        for error in compiled_validator(subschema).iter_errors(schema["default"]):
            yield FieldError(
                join_path(path, "default"), f"does not fit its schema: {error.message}"
            )
    for keyword in ("properties", "patternProperties", "$defs"):
        for name, sub in (schema.get(keyword) or {}).items():
            if isinstance(sub, dict):
                yield from _check_schema_defaults(sub, join_path(join_path(path, keyword), name))
    for keyword in ("items", "additionalProperties"):
        sub = schema.get(keyword)
        if isinstance(sub, dict):
            yield from _check_schema_defaults(sub, join_path(path, keyword))


# -- Scripts -----------------------------------------------------------------------


def check_script(source: str, path: str = "script") -> list[FieldError]:
    """A script must parse and define a top-level ``main``."""
    return _main_of(source, path)[0]


def _main_of(
    source: str, path: str = "script"
) -> tuple[list[FieldError], ast.FunctionDef | ast.AsyncFunctionDef | None]:
    """The script's problems, or its top-level ``main`` when it has none."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        return [FieldError(path, f"has a syntax error at {where}: {exc.msg}")], None
    except ValueError as exc:  # null bytes
        return [FieldError(path, f"cannot be read as Python: {exc}")], None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "main":
            return [], node
    return [FieldError(path, "must define a function main(...) at the top level")], None


def _check_script_inputs(
    d: dict[str, Any], func: ast.FunctionDef | ast.AsyncFunctionDef
) -> list[FieldError]:
    """A run calls ``main(**arguments)``: every input must be a parameter of ``main`` it
    can take by name, and every parameter ``main`` needs must be an input (or a default)."""
    args = func.args
    by_name = {a.arg for a in (*args.args, *args.kwonlyargs)}
    properties = d["input_schema"].get("properties") or {}
    errors = []
    for name in properties:
        if name in by_name or (args.kwarg is not None and name.isidentifier()):
            continue
        path = json_path(["properties", name], "input_schema")
        if not name.isidentifier():
            why = "is not a name Python can take: use letters, digits and '_'"
        else:
            why = "is not a parameter of the script's main(), so a run could not pass it"
        errors.append(FieldError(path, f"'{name}' {why}"))
    positional = [*args.posonlyargs, *args.args]
    needed = [a.arg for a in positional[: len(positional) - len(args.defaults)]]
    needed += [
        a.arg
        for a, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
        if default is None
    ]
    for name in needed:
        if name in {a.arg for a in args.posonlyargs}:
            errors.append(
                FieldError(
                    "script", f"main() takes '{name}' by position only; runs pass inputs by name"
                )
            )
        elif name not in properties and name not in d["defaults"]:
            errors.append(
                FieldError(
                    "script",
                    f"main() needs '{name}', which is not one of the inputs: add the input, "
                    "or give the parameter a default value",
                )
            )
    return errors


# -- Whole definitions ---------------------------------------------------------------


def validate_definition(data: Any) -> list[FieldError]:
    """Every problem with a definition, or an empty list when it can be saved."""
    return check_definition(data)[0]


# Names the API's /tools/<name> routes already use for something else.
RESERVED_NAMES = frozenset({"import", "export", "validate", "new", "bulk"})


def check_definition(data: Any) -> tuple[list[FieldError], dict[str, Any] | None]:
    """The problems with a definition, and its normalized form when it has none.

    Every check runs every time: when some fields do not have the definition's shape,
    the others are still checked (a bad category does not hide the script's syntax
    error), and only the checks that need the broken fields are left out."""
    if not isinstance(data, dict):
        return [
            FieldError("", f"a tool definition must be a mapping, not {_type_name(data)}")
        ], None
    if _fast_definition_validator().is_valid(data):
        d = normalize(data)
        errors = _semantic_errors(d, data, broken=frozenset())
        return errors, (None if errors else d)
    structural = schema_errors(data, definition_validator())
    broken = frozenset(_field_of(error.path) for error in structural)
    if "" in broken:
        return structural, None
    sound = {key: value for key, value in data.items() if key not in broken}
    capabilities = data.get("capabilities")
    if isinstance(capabilities, list) and "capabilities" not in broken:
        # A capability with a problem of shape is left out of the other checks, in place,
        # so that the others keep their positions in the paths.
        sound["capabilities"] = [
            {"name": f"\0{i}", "patterns": []} if f"capabilities[{i}]" in broken else c
            for i, c in enumerate(capabilities)
        ]
    try:
        semantic = _semantic_errors(normalize(sound), data, broken=broken)
    except (TypeError, AttributeError, ValueError, KeyError):
        return structural, None
    return [*structural, *(e for e in semantic if _field_of(e.path) not in broken)], None


def _runtime_kind(data: dict[str, Any]) -> str | None:
    runtime = data.get("runtime")
    kind = runtime.get("kind") if isinstance(runtime, dict) else None
    return kind if kind in ("script", "callable", "none") else None


def _field_of(path: str) -> str:
    """The field an error's path is about: its top-level key, or ``capabilities[i]``."""
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    if head == "capabilities":
        match = re.match(r"capabilities\[\d+\]", path)
        return match.group(0) if match else head
    return head


def _semantic_errors(
    d: dict[str, Any], data: dict[str, Any], *, broken: frozenset[str]
) -> list[FieldError]:
    """The checks a schema cannot express, on the fields whose shape is right."""
    errors: list[FieldError] = []
    if "name" not in broken and d.get("name") in RESERVED_NAMES:
        errors.append(
            FieldError("name", f"'{d['name']}' is reserved (the API uses /tools/{d['name']})")
        )
    if "version" in data and "version" not in broken and not SEMVER.match(str(data["version"])):
        errors.append(
            FieldError("version", f"'{data['version']}' is not a semantic version like 1.2.3")
        )
    input_ok = "input_schema" not in broken
    if input_ok:
        input_errors = check_json_schema(d["input_schema"], "input_schema")
        errors += input_errors
        input_ok = not input_errors
    if "output_schema" not in broken:
        errors += check_json_schema(d["output_schema"], "output_schema")
    if input_ok and "defaults" not in broken:
        errors += _check_defaults(d)
    if "script" not in broken:
        inputs_ok = input_ok and "defaults" not in broken
        if "runtime" not in broken:
            errors += _check_runtime(d, inputs_ok=inputs_ok)
        elif (kind := _runtime_kind(data)) is not None:
            # Another runtime field is wrong, but the kind says what the script must be.
            runtime = {**d["runtime"], "kind": kind}
            errors += [
                e
                for e in _check_runtime(d | {"runtime": runtime}, inputs_ok=inputs_ok)
                if e.path == "script"
            ]
    if "capabilities" not in broken:
        errors += _check_capabilities(d, input_ok=input_ok)
    return errors


def _check_defaults(d: dict[str, Any]) -> list[FieldError]:
    properties = d["input_schema"].get("properties") or {}
    errors = []
    for name, value in d["defaults"].items():
        if name in properties and isinstance(properties[name], dict):
            for error in compiled_validator(properties[name]).iter_errors(value):
                errors.append(
                    FieldError(f"defaults.{name}", f"does not fit input '{name}': {error.message}")
                )
    return errors


def _check_runtime(d: dict[str, Any], *, inputs_ok: bool = True) -> list[FieldError]:
    """The runtime's limits and its script; with ``inputs_ok``, the script's ``main``
    against the inputs too (not when they are broken and stand in as empty)."""
    kind = d["runtime"]["kind"]
    errors = []
    ceiling = settings.SANDBOX_MAX_MEMORY_MB
    if d["runtime"]["memory_mb"] > ceiling:
        errors.append(
            FieldError(
                "runtime.memory_mb",
                f"is more than this server allows a run ({ceiling} MB; whoever runs Quiver "
                "sets that with QUIVER_SANDBOX_MAX_MEMORY_MB)",
            )
        )
    if kind == "script":
        if not d["script"].strip():
            return [*errors, FieldError("script", "is required when the runtime kind is 'script'")]
        problems, main = _main_of(d["script"])
        if main is not None and inputs_ok:
            problems = _check_script_inputs(d, main)
        return [*errors, *problems]
    if d["script"].strip():
        errors.append(
            FieldError("script", f"is only used with runtime kind 'script', not '{kind}'")
        )
    return errors


def _check_capabilities(d: dict[str, Any], *, input_ok: bool) -> list[FieldError]:
    errors = []
    input_validator = compiled_validator(d["input_schema"]) if input_ok else None
    seen_caps: set[str] = set()
    for ci, capability in enumerate(d["capabilities"]):
        cpath = f"capabilities[{ci}]"
        if capability["name"] in seen_caps:
            errors.append(FieldError(f"{cpath}.name", f"'{capability['name']}' is used twice"))
        seen_caps.add(capability["name"])
        seen_patterns: set[str] = set()
        for pi, pattern in enumerate(capability["patterns"]):
            ppath = f"{cpath}.patterns[{pi}]"
            if pattern["name"] in seen_patterns:
                errors.append(FieldError(f"{ppath}.name", f"'{pattern['name']}' is used twice"))
            seen_patterns.add(pattern["name"])
            errors += _check_pattern(pattern, ppath, input_validator)
    return errors


def _check_pattern(
    pattern: dict[str, Any], path: str, input_validator: CompiledSchema | None
) -> list[FieldError]:
    errors = []
    samples = {name: spec["sample"] for name, spec in pattern["context_variables"].items()}
    for key in ("time_estimate_ms", "cost_estimate"):
        expression = pattern[key]
        if expression == "":
            continue
        try:
            value = expressions.evaluate(expression, samples)
        except expressions.ExpressionError as exc:
            errors.append(FieldError(f"{path}.{key}", f"'{expression}' {exc}"))
            continue
        if value < 0:
            errors.append(
                FieldError(f"{path}.{key}", f"'{expression}' is negative ({value:g}) for samples")
            )
    if input_validator is not None:
        for ei, example in enumerate(pattern["examples"]):
            for error in input_validator.iter_errors(example["input"]):
                where = json_path(error.absolute_path, f"{path}.examples[{ei}].input")
                errors.append(FieldError(where, f"does not fit the input schema: {error.message}"))
    return errors
