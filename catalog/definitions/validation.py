"""Validation of tool definitions, shared by forms, the API and import.

Every check returns ``FieldError(path, message)`` items a person can act on, the path
naming the field (``input_schema.properties.limit.default``, ``capabilities[0].patterns[1]
.time_estimate_ms``) and the message saying what is wrong in plain words.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from django.conf import settings

from catalog.definitions import expressions
from catalog.definitions.format import SEMVER, normalize
from catalog.definitions.json_schemas import (
    CompiledSchema,
    check_json_schema,
    compiled_validator,
    definition_validator,
    fast_definition_validator,
    schema_errors,
    type_name,
)
from catalog.definitions.problems import FieldError, json_path

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
        return [FieldError("", f"a tool definition must be a mapping, not {type_name(data)}")], None
    if fast_definition_validator().is_valid(data):
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
