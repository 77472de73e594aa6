"""A tool's definition in the shapes LLM APIs expect: OpenAI function calling, Anthropic
tools, an MCP ``tools/list`` entry, and a flat form for front ends.

The converters are pure functions of a definition (``selectors.definition_of(version,
tool_fields=False)``). A published version never changes, so ``ConversionCache`` keeps
each version's converted form by (format, name, version, content hash) and an export of
a thousand tools only assembles dicts it already has.

OpenAI's strict mode constrains generation to the schema but accepts only a subset of
JSON Schema: every object closed (``additionalProperties: false``) with every property
required, optional ones made nullable, and a short list of keywords. ``strict_parameters``
rewrites a schema into that subset when the rewrite keeps its meaning, and returns None
when it cannot (open objects, ``patternProperties``, ``oneOf``, unsupported formats ...);
the tool is then exported without ``strict``.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from catalog.definitions.format import json_type_of

FORMATS = ("openai", "anthropic", "mcp", "frontend")
_CAMEL_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

# Short enough for a prompt of many tools: the description plus a few use cases.
MAX_USE_CASES = 3
MAX_DESCRIPTION_CHARS = 700

# -- OpenAI strict mode ----------------------------------------------------------------

# What strict mode accepts besides the structural keywords handled below.
STRICT_STRING_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_STRICT_BY_TYPE = {
    "string": frozenset({"pattern", "format"}),
    "number": frozenset(
        {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    ),
    "integer": frozenset(
        {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    ),
    "array": frozenset({"items", "minItems", "maxItems"}),
    "object": frozenset({"properties", "required", "additionalProperties"}),
    "boolean": frozenset(),
    "null": frozenset(),
}
_STRICT_COMMON = frozenset({"type", "description", "enum"})
# Annotations that do not change which values are valid: dropped (a default is said in
# the description instead, since strict mode rejects the keyword).
_ANNOTATIONS = frozenset(
    {"default", "examples", "title", "$comment", "deprecated", "readOnly", "writeOnly", "$schema"}
)
STRICT_MAX_DEPTH = 10
STRICT_MAX_PROPERTIES = 5000
STRICT_MAX_ENUM_VALUES = 1000


class NotStrict(Exception):
    """The schema uses something strict mode cannot express."""


class _Budget:
    def __init__(self) -> None:
        self.properties = 0
        self.enum_values = 0


def strict_parameters(schema: dict[str, Any]) -> dict[str, Any] | None:
    """``schema`` rewritten for OpenAI strict mode, or None when it cannot be without
    changing which arguments are valid."""
    try:
        if schema.get("type") != "object" or "anyOf" in schema:
            raise NotStrict("the root must be an object")
        defs = schema.get("$defs") or {}
        if not isinstance(defs, dict):
            raise NotStrict("$defs must be a mapping")
        budget = _Budget()
        root = _strict({k: v for k, v in schema.items() if k != "$defs"}, 1, budget)
        if defs:
            root["$defs"] = {name: _strict(sub, 1, budget) for name, sub in defs.items()}
        return root
    except NotStrict:
        return None


def _strict(node: Any, depth: int, budget: _Budget) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise NotStrict("boolean schemas are not supported")
    # Depth 1 is the root object; values inside the tenth nested object sit at 11.
    if depth > STRICT_MAX_DEPTH + 1:
        raise NotStrict("nested too deep")
    node = {k: v for k, v in node.items() if k not in _ANNOTATIONS}
    if "const" in node:
        if "enum" in node:
            raise NotStrict("const with enum")
        node["enum"] = [node.pop("const")]
    if "$ref" in node:
        return _strict_ref(node)
    if "anyOf" in node:
        return _strict_any_of(node, depth, budget)
    types = _types_of(node)
    if any(t not in _STRICT_BY_TYPE for t in types):
        raise NotStrict(f"unknown type in {types}")
    non_null = [t for t in types if t != "null"]
    if len(non_null) > 1:
        return _strict_any_of(_split_types(node, types), depth, budget)
    kind = non_null[0] if non_null else "null"
    if kind == "string":
        node = _lengths_as_pattern(node)
        if "format" in node and node["format"] not in STRICT_STRING_FORMATS:
            raise NotStrict(f"format {node['format']!r}")
    unknown = set(node) - _STRICT_COMMON - _STRICT_BY_TYPE[kind]
    if unknown:
        raise NotStrict(f"unsupported keywords {sorted(unknown)}")
    out: dict[str, Any] = {"type": node.get("type", types[0])}
    if "description" in node:
        out["description"] = node["description"]
    if "enum" in node:
        budget.enum_values += len(node["enum"])
        if budget.enum_values > STRICT_MAX_ENUM_VALUES:
            raise NotStrict("too many enum values")
        out["enum"] = list(node["enum"])
    if kind == "object":
        out.update(_strict_object(node, depth, budget))
    elif kind == "array":
        if not isinstance(node.get("items"), dict):
            raise NotStrict("arrays need one items schema")
        out["items"] = _strict(node["items"], depth + 1, budget)
        out.update({k: node[k] for k in ("minItems", "maxItems") if k in node})
    else:
        out.update({k: v for k, v in node.items() if k in _STRICT_BY_TYPE[kind]})
    return out


def _types_of(node: dict[str, Any]) -> list[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list) and declared and all(isinstance(t, str) for t in declared):
        return list(declared)
    if declared is None and isinstance(node.get("enum"), list) and node["enum"]:
        inferred = {json_type_of(value) for value in node["enum"]}
        if len(inferred) == 1 and None not in inferred:
            return [str(inferred.pop())]
    raise NotStrict("a type is needed")


def _split_types(node: dict[str, Any], types: list[str]) -> dict[str, Any]:
    """``{"type": [a, b], ...}`` as the equivalent ``anyOf`` of one branch per type: each
    type-specific keyword only ever applies to values of its type."""
    branches = []
    for kind in types:
        branch: dict[str, Any] = {"type": kind}
        branch.update({k: v for k, v in node.items() if k in _STRICT_BY_TYPE[kind]})
        if kind == "string":
            branch.update({k: node[k] for k in ("minLength", "maxLength") if k in node})
        if "enum" in node:
            values = [v for v in node["enum"] if _fits(v, kind)]
            if not values:
                continue
            branch["enum"] = values
        branches.append(branch)
    unknown = set(node) - _STRICT_COMMON - {"minLength", "maxLength"}
    unknown -= set().union(*(_STRICT_BY_TYPE[kind] for kind in types))
    if unknown:
        raise NotStrict(f"unsupported keywords {sorted(unknown)}")
    out: dict[str, Any] = {"anyOf": branches}
    if "description" in node:
        out["description"] = node["description"]
    return out


def _fits(value: Any, kind: str) -> bool:
    found = json_type_of(value)
    return found == kind or (kind == "number" and found == "integer")


def _lengths_as_pattern(node: dict[str, Any]) -> dict[str, Any]:
    """minLength/maxLength as the equivalent pattern, which strict mode does support."""
    if "minLength" not in node and "maxLength" not in node:
        return node
    if "pattern" in node:
        raise NotStrict("a pattern and a length together")
    node = dict(node)
    low = int(node.pop("minLength", 0))
    high = node.pop("maxLength", None)
    node["pattern"] = f"^[\\s\\S]{{{low},{'' if high is None else int(high)}}}$"
    return node


def _strict_ref(node: dict[str, Any]) -> dict[str, Any]:
    ref = node["$ref"]
    if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/$defs/")):
        raise NotStrict("only local $defs references")
    if set(node) - {"$ref", "description"}:
        raise NotStrict("keywords beside $ref")
    return dict(node)


def _strict_any_of(node: dict[str, Any], depth: int, budget: _Budget) -> dict[str, Any]:
    if set(node) - {"anyOf", "description"} or not isinstance(node["anyOf"], list):
        raise NotStrict("keywords beside anyOf")
    out: dict[str, Any] = {"anyOf": [_strict(branch, depth, budget) for branch in node["anyOf"]]}
    if "description" in node:
        out["description"] = node["description"]
    return out


def _strict_object(node: dict[str, Any], depth: int, budget: _Budget) -> dict[str, Any]:
    if node.get("additionalProperties") is not False:
        raise NotStrict("open objects (additionalProperties not false)")
    properties = node.get("properties") or {}
    if not isinstance(properties, dict):
        raise NotStrict("properties must be a mapping")
    budget.properties += len(properties)
    if budget.properties > STRICT_MAX_PROPERTIES:
        raise NotStrict("too many properties")
    required = set(node.get("required") or [])
    if required - set(properties):
        raise NotStrict("required names a property that is not declared")
    converted = {}
    for name, sub in properties.items():
        schema = _strict(sub, depth + 1, budget)
        # An optional property becomes required and nullable, null meaning "not given";
        # one that already accepts null keeps its schema (null is then a value).
        if name not in required and not _accepts_null(sub):
            schema = _nullable(
                schema, sub.get("default", _MISSING) if isinstance(sub, dict) else _MISSING
            )
        converted[name] = schema
    return {"properties": converted, "required": list(properties), "additionalProperties": False}


_MISSING = object()


def _nullable(schema: dict[str, Any], default: Any) -> dict[str, Any]:
    """An optional property as strict mode wants it: required, and null when not given."""
    hint = (
        "Null to leave it out."
        if default is _MISSING
        else f"Null for the default ({json.dumps(default)})."
    )
    description = f"{schema['description'].rstrip()} {hint}" if schema.get("description") else hint
    if "anyOf" in schema or "$ref" in schema:
        branches = schema["anyOf"] if "anyOf" in schema else [{"$ref": schema["$ref"]}]
        if not any(branch.get("type") == "null" for branch in branches):
            branches = [*branches, {"type": "null"}]
        return {"anyOf": branches, "description": description}
    out = dict(schema)
    types = out["type"] if isinstance(out["type"], list) else [out["type"]]
    if "null" not in types:
        out["type"] = [*types, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    out["description"] = description
    return out


def drop_strict_nulls(schema: dict[str, Any], arguments: Any) -> Any:
    """Arguments from a strict-mode call with the nulls that stand for "not given"
    removed, so that they validate against the tool's own schema (and get its defaults)."""
    if not isinstance(arguments, dict) or not isinstance(schema, dict):
        return arguments
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    out = {}
    for name, value in arguments.items():
        sub = properties.get(name)
        if value is None and name not in required and not _accepts_null(sub):
            continue
        out[name] = drop_strict_nulls(sub, value) if isinstance(sub, dict) else value
    return out


def _accepts_null(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return True
    declared = schema.get("type")
    return (
        declared == "null"
        or (isinstance(declared, list) and "null" in declared)
        or (isinstance(schema.get("enum"), list) and None in schema["enum"])
        or any(_accepts_null(branch) for branch in schema.get("anyOf") or [])
    )


# -- Descriptions ----------------------------------------------------------------------


def llm_description(definition: dict[str, Any]) -> str:
    """The description an LLM reads: the tool's own, then a few use cases, kept short."""
    description = " ".join(str(definition.get("description") or "").split())
    cases: list[str] = []
    for capability in definition.get("capabilities") or []:
        for pattern in capability.get("patterns") or []:
            for case in pattern.get("typical_use_cases") or []:
                text = " ".join(str(case).split())
                if text and text not in cases:
                    cases.append(text)
    cases = cases[:MAX_USE_CASES]
    while cases:
        candidate = f"{description} Use for: {'; '.join(cases)}."
        if len(candidate) <= MAX_DESCRIPTION_CHARS:
            return candidate
        cases.pop()
    if len(description) > MAX_DESCRIPTION_CHARS:
        return description[: MAX_DESCRIPTION_CHARS - 1].rstrip() + "…"
    return description


def title_of(definition: dict[str, Any]) -> str:
    """A display title: the metadata's ``title`` or the name in words."""
    title = (definition.get("metadata") or {}).get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    spaced = _CAMEL_BREAK.sub(" ", definition["name"])  # getWeatherByCity, ChatOCR
    words = spaced.replace("-", " ").replace("_", " ").split()
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An input schema for a prompt: the same meaning, minus keys only editors read."""
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id", "$comment")}


# -- The formats -----------------------------------------------------------------------


def to_openai(definition: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI function-calling tool, strict when the schema allows it."""
    function: dict[str, Any] = {
        "name": definition["name"],
        "description": llm_description(definition),
    }
    strict = strict_parameters(definition["input_schema"])
    if strict is None:
        function["parameters"] = _clean_schema(definition["input_schema"])
    else:
        function["parameters"] = strict
        function["strict"] = True
    return {"type": "function", "function": function}


def to_anthropic(definition: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic Messages API tool."""
    return {
        "name": definition["name"],
        "description": llm_description(definition),
        "input_schema": _clean_schema(definition["input_schema"]),
    }


def to_mcp(definition: dict[str, Any]) -> dict[str, Any]:
    """One tool of an MCP ``tools/list`` result."""
    tool: dict[str, Any] = {
        "name": definition["name"],
        "title": title_of(definition),
        "description": llm_description(definition),
        "inputSchema": _clean_schema(definition["input_schema"]),
    }
    output = definition.get("output_schema") or {}
    # MCP output schemas describe structured content, which is always an object.
    if output.get("type") == "object" and output.get("properties"):
        tool["outputSchema"] = _clean_schema(output)
    annotations: dict[str, Any] = {"title": tool["title"]}
    patterns = [p for c in definition.get("capabilities") or [] for p in c.get("patterns") or []]
    if patterns and not any(_changes_things(p) for p in patterns):
        # Every way of using it is safe in production without approval: a read.
        annotations["readOnlyHint"] = True
    elif patterns:
        annotations["readOnlyHint"] = False
        annotations["destructiveHint"] = True
    tool["annotations"] = annotations
    return tool


def _changes_things(pattern: dict[str, Any]) -> bool:
    policy = pattern.get("policy") or {}
    return bool(policy.get("requires_approval")) or policy.get("production_safe") is False


def to_frontend(definition: dict[str, Any]) -> dict[str, Any]:
    """A flat form for user interfaces: parameters as a list, no JSON Schema to read."""
    schema = definition["input_schema"]
    required = set(schema.get("required") or [])
    parameters = []
    for name, sub in (schema.get("properties") or {}).items():
        sub = sub if isinstance(sub, dict) else {}
        parameters.append(
            {
                "name": name,
                "type": _type_label(sub),
                "required": name in required,
                "description": sub.get("description", ""),
                "default": sub.get("default"),
                "enum": sub.get("enum"),
            }
        )
    return {
        "name": definition["name"],
        "title": title_of(definition),
        "description": definition.get("description", ""),
        "platform": definition.get("platform", ""),
        "category": definition.get("category", ""),
        "tags": list(definition.get("tags") or []),
        "parameters": parameters,
        "version": definition.get("version", ""),
        "capabilities": [c["name"] for c in definition.get("capabilities") or []],
    }


def _type_label(schema: dict[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        return " | ".join(str(t) for t in declared)
    if isinstance(declared, str):
        if declared == "array" and isinstance(schema.get("items"), dict):
            item = schema["items"].get("type")
            return f"array of {item}" if isinstance(item, str) else "array"
        return declared
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return json_type_of(schema["enum"][0]) or "any"
    return "any"


CONVERTERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "openai": to_openai,
    "anthropic": to_anthropic,
    "mcp": to_mcp,
    "frontend": to_frontend,
}


def convert(definition: dict[str, Any], fmt: str) -> dict[str, Any]:
    return CONVERTERS[fmt](definition)


def mcp_tools_list(definitions: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A whole MCP ``tools/list`` result."""
    return {"tools": [to_mcp(d) for d in definitions]}


# -- The per-version cache ---------------------------------------------------------------


class ConversionCache:
    """Converted tools by key, least recently used dropped first; shared by threads.

    Keys must name everything the output depends on; callers use (format, tool name,
    version, content hash), which a published version never changes.
    """

    def __init__(self, maxsize: int = 50_000) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(
        self,
        keys: list[Hashable],
        load: Callable[[list[Hashable]], dict[Hashable, dict[str, Any]]],
    ) -> list[dict[str, Any] | None]:
        """The cached value of each key, calling ``load`` once for the missing ones; a
        key ``load`` cannot produce gives None."""
        found: dict[Hashable, dict[str, Any]] = {}
        with self._lock:
            for key in keys:
                value = self._items.get(key)
                if value is not None:
                    self._items.move_to_end(key)
                    found[key] = value
        missing = [key for key in keys if key not in found]
        if missing:
            loaded = load(missing)
            found.update(loaded)
            with self._lock:
                for key, value in loaded.items():
                    self._items[key] = value
                    self._items.move_to_end(key)
                while len(self._items) > self.maxsize:
                    self._items.popitem(last=False)
        return [found.get(key) for key in keys]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
