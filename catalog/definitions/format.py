"""The definition format: defaults, the content that versions hash, diffs and semver bumps.

A *definition* is the dict a person writes (YAML or JSON, see
``schemas/tool_definition.schema.json``). ``normalize`` fills every default so that
two definitions with the same meaning compare and hash the same.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

# A tool's name: legal as written in every format Quiver serves (OpenAI's rule, which
# Anthropic and MCP accept too), so an agent calls the tool by the name its code knows.
TOOL_NAME = r"^[A-Za-z0-9_-]{1,64}$"
TOOL_NAME_RULE = "letters, digits, '_' and '-', at most 64 characters"


def name_taken(name: str, existing: str) -> str:
    """Why ``name`` cannot be used when ``existing`` is a tool already."""
    if name == existing:
        return f"a tool called '{name}' already exists"
    return (
        f"'{name}' differs only in case from the tool '{existing}': "
        "names must differ in more than case"
    )


SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)

# Fields that belong to a version (hashed, diffed, immutable once published).
CONTENT_FIELDS = (
    "description",
    "platform",
    "category",
    "tags",
    "defaults",
    "dependencies",
    "metadata",
    "input_schema",
    "output_schema",
    "runtime",
    "script",
    "capabilities",
)
# Fields that belong to the tool itself and change without a new version.
TOOL_FIELDS = ("status", "enabled", "archived", "owners")

DEFAULT_RUNTIME = {"kind": "none", "timeout_s": 30, "memory_mb": 512, "network": False}
DEFAULT_POLICY = {"max_cost": None, "requires_approval": False, "production_safe": True}
PREFERENCES = ("speed", "accuracy", "cost", "complexity", "completeness")


def normalize(definition: dict[str, Any]) -> dict[str, Any]:
    """A copy with every optional field filled with its default, in a stable shape.

    Nested JSON values (schemas, defaults, metadata, examples) are shared with the
    input, not copied: treat both as read-only afterwards.
    """
    d = dict(definition)
    d.setdefault("status", "active")
    d.setdefault("enabled", True)
    d.setdefault("archived", False)
    d["owners"] = sorted(d.get("owners") or [])
    d["tags"] = sorted(d.get("tags") or [])
    d.setdefault("defaults", {})
    d["dependencies"] = [{"required": True, **dep} for dep in (d.get("dependencies") or [])]
    d.setdefault("metadata", {})
    d.setdefault("input_schema", {"type": "object", "properties": {}})
    d.setdefault("output_schema", {"type": "object"})
    runtime = {**DEFAULT_RUNTIME, **(d.get("runtime") or {})}
    if isinstance(runtime.get("timeout_s"), int | float) and not isinstance(
        runtime["timeout_s"], bool
    ):
        runtime["timeout_s"] = float(runtime["timeout_s"])
    d["runtime"] = runtime
    d["script"] = d.get("script") or ""
    d["capabilities"] = [_normalize_capability(c) for c in (d.get("capabilities") or [])]
    return d


def _normalize_capability(capability: dict[str, Any]) -> dict[str, Any]:
    c = dict(capability)
    c["patterns"] = [_normalize_pattern(p) for p in (c.get("patterns") or [])]
    return c


def _normalize_pattern(pattern: dict[str, Any]) -> dict[str, Any]:
    p = dict(pattern)
    for key in ("typical_use_cases", "limitations", "required_inputs", "expected_outputs"):
        p[key] = list(p.get(key) or [])
    p["examples"] = list(p.get("examples") or [])
    p["context_variables"] = {
        name: {"sample": 1, **spec} for name, spec in (p.get("context_variables") or {}).items()
    }
    for key in ("time_estimate_ms", "cost_estimate"):
        value = p.get(key, "")
        p[key] = "" if value is None else str(value)
    # Stored as floats: hash 1 and 1.0 alike.
    p["complexity_score"] = _as_float(p.get("complexity_score", 0.5))
    p.setdefault("scope", "")
    p.setdefault("completeness", "")
    p["policy"] = {**DEFAULT_POLICY, **(p.get("policy") or {})}
    p["policy"]["max_cost"] = _as_float(p["policy"]["max_cost"])
    p["preference_match"] = {
        key: _as_float((p.get("preference_match") or {}).get(key, 0.5)) for key in PREFERENCES
    }
    return p


def _as_float(value: Any) -> Any:
    """Numbers as floats; anything else (None, or a wrong type validation reports) as is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def json_type_of(value: Any) -> str | None:
    """The JSON Schema type of a Python value, or None for one JSON cannot hold."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "boolean"
    if isinstance(value, int):
        return "integer"
    for kind, name in ((float, "number"), (str, "string"), (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return name
    return None


def content_of(definition: dict[str, Any]) -> dict[str, Any]:
    """The versioned part of a normalized definition."""
    return {field: definition[field] for field in CONTENT_FIELDS}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(definition: dict[str, Any]) -> str:
    """SHA-256 of a normalized definition's versioned content."""
    return hashlib.sha256(canonical_json(content_of(definition)).encode()).hexdigest()


def diff(old: Any, new: Any, path: str = "") -> dict[str, list[Any]]:
    """Field-level differences as ``{"a.b[2].c": [old, new]}``; dicts are walked, lists
    of the same length item by item, anything else compared whole."""
    if old == new:
        return {}
    if isinstance(old, dict) and isinstance(new, dict):
        changes: dict[str, list[Any]] = {}
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            changes.update(diff(old.get(key), new.get(key), sub))
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and path:
        changes = {}
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            changes.update(diff(a, b, f"{path}[{index}]"))
        return changes
    return {path or "value": [old, new]}


def parse_semver(version: str) -> tuple[int, int, int]:
    match = SEMVER.match(version)
    if not match:
        raise ValueError(f"'{version}' is not a semantic version like 1.2.3")
    return int(match[1]), int(match[2]), int(match[3])


def semver_key(version: str) -> tuple[int, int, int, int, str]:
    """Sort key: release after its pre-releases."""
    major, minor, patch = parse_semver(version)
    pre = SEMVER.match(version)[4]  # type: ignore[index]
    return (major, minor, patch, 0 if pre else 1, pre or "")


def suggest_version(base: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    """The next version after ``base`` by what changed: breaking input changes bump the
    major, additions the minor, anything else the patch."""
    major, minor, patch = parse_semver(base)
    old_in, new_in = old.get("input_schema", {}), new.get("input_schema", {})
    old_props = set((old_in.get("properties") or {}).keys())
    new_props = set((new_in.get("properties") or {}).keys())
    old_required = set(old_in.get("required") or [])
    new_required = set(new_in.get("required") or [])
    changed_types = any(
        (old_in["properties"][p] or {}).get("type") != (new_in["properties"][p] or {}).get("type")
        for p in old_props & new_props
    )
    if old_props - new_props or new_required - old_required or changed_types:
        return f"{major + 1}.0.0"
    old_caps = {c["name"] for c in old.get("capabilities", [])}
    new_caps = {c["name"] for c in new.get("capabilities", [])}
    if new_props - old_props or new_caps - old_caps:
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"
