"""JSON Schemas in a definition (its inputs and outputs) and the definition format's own
schema: compiled once (regular expressions matched in linear time, no remote references),
and their failures put in words a person can act on, by field path."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema import ValidationError as SchemaError

from catalog.definitions.format import TOOL_NAME, TOOL_NAME_RULE
from catalog.definitions.problems import FieldError, join_path, json_path

DEFINITION_SCHEMA_PATH = Path(__file__).parent / "schemas" / "tool_definition.schema.json"


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
def fast_definition_validator() -> Any:
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
        return path, f"must be {_article(wanted)} {wanted}, not {type_name(error.instance)}"
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


def type_name(value: Any) -> str:
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
