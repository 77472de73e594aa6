"""Schemas written for other systems made valid JSON Schema Draft 2020-12, each change
noted by field path and what cannot be normalised refused, saying why."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from catalog.formats.foreign.typenames import (
    JSON_TYPES,
    Refused,
    is_json_type,
    json_text,
    kind_of,
    parse_type,
    union,
)

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_DEPTH = 64

# Keywords whose values are schemas, a map of schemas, or a list of schemas.
_ONE = (
    "additionalProperties",
    "items",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
_MANY = ("patternProperties", "$defs", "definitions", "dependentSchemas")
_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_COUNTS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
)


@dataclass(frozen=True)
class Note:
    """A change made to a definition (or, among refusals, why it cannot be read)."""

    path: str
    message: str


def _join(path: str, part: str | int) -> str:
    return f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}"


# How data sets write yes and no: "optional": "yes", "required": "1", "nullable": 0.
_YES = frozenset({"true", "yes", "y", "1", "on"})
_NO = frozenset({"false", "no", "n", "0", "off"})
# Values that stand for "no preference" in the allowed values of a boolean or a number
# (dialogue data sets write "dontcare"): the argument left out says the same.
PLACEHOLDERS = frozenset(
    {"dontcare", "dont_care", "don't care", "dont care", "any", "n/a", "na", "none", "unknown"}
)


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _YES | _NO:
        return value.strip().lower() in _YES
    return None


class Normaliser:
    """Makes a schema valid Draft 2020-12, noting each change and refusing the rest.

    Works on copies: the schema read from the file is left as it was.
    """

    def __init__(self, notes: list[Note], refusals: list[Note]) -> None:
        self.notes = notes
        self.refusals = refusals

    def note(self, path: str, message: str) -> None:
        self.notes.append(Note(path, message))

    def refuse(self, path: str, message: str) -> None:
        self.refusals.append(Note(path, message))

    def top(self, schema: Any, path: str, key: str) -> dict[str, Any]:
        """A schema of arguments or results: an object with named properties."""
        if schema is None:
            empty = {"type": "object", "properties": {}}
            self.note(path, f"{key} is missing → {json_text(empty)} (the tool takes no arguments)")
            return empty
        if not isinstance(schema, dict):
            self.refuse(path, f"{key} is {json_text(schema)}, not a JSON Schema object")
            return {}
        normalised = self.schema(schema, path, 0)
        if not isinstance(normalised, dict):
            self.refuse(path, f"{key} must be a JSON Schema object, not {json_text(normalised)}")
            return {}
        if "type" not in normalised:
            normalised = {"type": "object", **normalised}
            self.note(_join(path, "type"), 'missing → "object" (a tool takes named arguments)')
        elif normalised["type"] != "object" and is_json_type(normalised["type"]):
            self.refuse(
                _join(path, "type"),
                f"is {json_text(normalised['type'])}: {key} must describe an object of named "
                'arguments (type "object")',
            )
        return normalised

    def schema(self, node: Any, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self.refuse(path, f"is nested more than {MAX_DEPTH} levels deep")
            return {}
        if isinstance(node, bool):
            return node
        if isinstance(node, str):  # a bare type name where a schema belongs
            fragment = self.type_fragment(node, path)
            if fragment is not None:
                self.note(path, f"{json_text(node)} → {json_text(fragment)}")
            return fragment if fragment is not None else {}
        if not isinstance(node, dict):
            self.refuse(path, f"must be a schema (an object), not {json_text(node)}")
            return {}
        node = dict(node)
        self.dialect(node, path)
        self.reference(node, path)
        if "type" in node:
            self.fix_type(node, path)
        self.nullable(node, path)
        if isinstance(node.get("required"), bool | str):  # a property's flag, out of place
            self.note(
                _join(path, "required"),
                f"{json_text(node['required'])} removed: it only means something on a property",
            )
            del node["required"]
        self.properties(node, path, depth)
        self.tuple_items(node, path)
        self.subschemas(node, path, depth)
        self.dependencies(node, path, depth)
        self.counts(node, path)
        combined = any(key in node for key in ("$ref", "allOf", "anyOf", "oneOf"))
        if "type" not in node and "properties" in node and depth > 0 and not combined:
            kept = dict(node)
            node.clear()
            node.update({"type": "object", **kept})
            self.note(_join(path, "type"), 'missing → "object" (it has properties)')
        self.values(node, path)
        return node

    # -- keywords ------------------------------------------------------------------------

    def dialect(self, node: dict[str, Any], path: str) -> None:
        dialect = node.get("$schema")
        if dialect is not None and str(dialect).rstrip("#") != DRAFT_2020_12:
            del node["$schema"]
            self.note(
                _join(path, "$schema"),
                f"{json_text(dialect)} removed: Quiver reads every schema as Draft 2020-12",
            )

    def reference(self, node: dict[str, Any], path: str) -> None:
        for key in ("$ref", "$dynamicRef"):
            ref = node.get(key)
            if ref is None:
                continue
            if not isinstance(ref, str):
                self.refuse(_join(path, key), f"must be text, not {json_text(ref)}")
            elif not ref.startswith("#"):
                self.refuse(
                    _join(path, key),
                    f"points outside this schema ({ref}); Quiver keeps each schema "
                    "self-contained: copy the schema it refers to into $defs",
                )

    def fix_type(self, node: dict[str, Any], path: str) -> None:
        value = node["type"]
        if value in JSON_TYPES:
            return
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            # No type written: JSON Schema's reading of that is "any value". Choosing
            # string instead would refuse the numbers and booleans agents send for it.
            del node["type"]
            self.note(
                _join(path, "type"),
                f"{json_text(value)} removed: with no type given, any value is allowed",
            )
            return
        if isinstance(value, list) and value and all(v in JSON_TYPES for v in value):
            if len(set(value)) != len(value):
                node["type"] = list(dict.fromkeys(value))
                self.note(_join(path, "type"), f"{json_text(value)} → {json_text(node['type'])}")
            return
        fragment = self.type_fragment(value, _join(path, "type"))
        if fragment is None:
            return
        kept = {k: v for k, v in node.items() if k != "type" or "type" in fragment}
        node.clear()
        node.update(kept)  # the new type where the old one was, for readers of the file
        added = []
        for key, part in fragment.items():
            if key == "type":
                node["type"] = part
            elif key == "anyOf" and "anyOf" in node:  # both must hold
                node.setdefault("allOf", []).append({"anyOf": part})
                added.append("allOf")
            elif key not in node:
                node[key] = part
                added.append(key)
        new = (
            json_text(fragment["type"]) if "type" in fragment else "no type (any value is allowed)"
        )
        if "type" not in fragment and fragment:
            new = "anyOf"
        extra = ", ".join(f"{key} {json_text(node[key])}" for key in added if key != "anyOf")
        self.note(
            _join(path, "type"),
            f"{json_text(value)} → {new}" + (f", with {extra}" if extra else ""),
        )

    def type_fragment(self, value: Any, path: str) -> dict[str, Any] | None:
        """The schema a written type means, or None (refused)."""
        try:
            if isinstance(value, list) and value:
                return union([parse_type(v) for v in value])
            return parse_type(value)
        except Refused as exc:
            self.refuse(path, str(exc))
            return None

    def nullable(self, node: dict[str, Any], path: str) -> None:
        """OpenAPI 3.0's ``nullable: true``: null is one more allowed type."""
        if "nullable" not in node:
            return
        flag = _flag(node.pop("nullable"))
        where = _join(path, "nullable")
        if not flag:
            self.note(where, "removed (not a JSON Schema keyword)")
            return
        types = node.get("type")
        if types is None:
            self.note(where, "true removed: with no type, null is allowed already")
            return
        types = types if isinstance(types, list) else [types]
        if "null" not in types:
            node["type"] = [*types, "null"]
        if isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        self.note(where, f"true → type {json_text(node['type'])}")

    def properties(self, node: dict[str, Any], path: str, depth: int) -> None:
        if "properties" not in node:
            return
        props = node["properties"]
        where = _join(path, "properties")
        if isinstance(props, list):
            props = self.named_list(props, where)
            if props is None:
                return
        if not isinstance(props, dict):
            self.refuse(where, f"must map names to schemas, not {json_text(props)}")
            return
        required = self.required_list(node, path)
        if required is None:
            return
        before = list(required)
        result = {}
        for name, sub in props.items():
            sub_path = _join(where, name)
            if isinstance(sub, dict):
                sub = self.flags(dict(sub), name, sub_path, path, required)
            result[name] = self.schema(sub, sub_path, depth + 1)
        node["properties"] = result
        if required != before and (required or "required" in node):
            node["required"] = required

    def named_list(self, props: list[Any], where: str) -> dict[str, Any] | None:
        """``[{"name": "city", "type": "string"}, ...]``, as some write properties."""
        if not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in props):
            self.refuse(where, 'is a list, but not of named parameters ({"name": ...})')
            return None
        named = {p["name"]: {k: v for k, v in p.items() if k != "name"} for p in props}
        self.note(where, "a list of named parameters → an object keyed by name")
        return named

    def required_list(self, node: dict[str, Any], path: str) -> list[str] | None:
        required = node.get("required", [])
        where = _join(path, "required")
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            self.refuse(where, f"must be a list of property names, not {json_text(required)}")
            return None
        unique = list(dict.fromkeys(required))
        if unique != required:
            self.note(where, f"{json_text(required)} → {json_text(unique)} (each name once)")
            node["required"] = unique
        return unique

    def flags(
        self,
        sub: dict[str, Any],
        name: str,
        sub_path: str,
        parent: str,
        required: list[str],
    ) -> dict[str, Any]:
        """``"optional": true`` and ``"required": true`` on a property, moved to the
        parent's ``required`` list, where JSON Schema keeps them."""
        listed = _join(parent, "required")
        if "optional" in sub:
            value = sub.pop("optional")
            optional = _flag(value)
            where = _join(sub_path, "optional")
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                value = optional  # said as the flag it is
            if optional is None:
                self.refuse(where, f"must be true or false, not {json_text(value)}")
            elif optional and name in required:
                required.remove(name)
                self.note(
                    where,
                    f"{json_text(value)}: removed, and {json_text(name)} taken out of {listed}",
                )
            elif optional:
                self.note(
                    where, f"{json_text(value)}: removed; {json_text(name)} stays out of {listed}"
                )
            else:
                if name not in required:
                    required.append(name)
                self.note(
                    where, f"{json_text(value)}: removed, and {json_text(name)} added to {listed}"
                )
        if "required" in sub and _flag(sub["required"]) is not None:
            value = sub.pop("required")
            where = _join(sub_path, "required")
            if _flag(value):
                if name not in required:
                    required.append(name)
                self.note(where, f"{json_text(value)}: moved to {listed}")
            else:
                if name in required:
                    required.remove(name)
                self.note(
                    where, f"{json_text(value)}: removed (a property not in {listed} is optional)"
                )
        return sub

    def tuple_items(self, node: dict[str, Any], path: str) -> None:
        """Draft 7 tuples (``items`` a list, ``additionalItems``) in the 2020-12 form."""
        items = node.get("items")
        if isinstance(items, list):
            node["prefixItems"] = items
            del node["items"]
            note = "a list of schemas → prefixItems"
            if "additionalItems" in node:
                node["items"] = node.pop("additionalItems")
                note += ", and additionalItems → items"
            self.note(_join(path, "items"), note + " (Draft 2020-12 tuples)")
        elif "additionalItems" in node:
            del node["additionalItems"]
            self.note(
                _join(path, "additionalItems"),
                "removed: it only means something after a list of items",
            )

    def subschemas(self, node: dict[str, Any], path: str, depth: int) -> None:
        for key in _ONE:
            if key in node:
                node[key] = self.schema(node[key], _join(path, key), depth + 1)
        for key in _MANY:
            if key not in node:
                continue
            if isinstance(node[key], dict):
                node[key] = {
                    name: self.schema(sub, _join(_join(path, key), name), depth + 1)
                    for name, sub in node[key].items()
                }
            else:
                self.refuse(
                    _join(path, key), f"must map names to schemas, not {json_text(node[key])}"
                )
        for key in _LISTS:
            if key not in node:
                continue
            if isinstance(node[key], list) and node[key]:
                node[key] = [
                    self.schema(sub, _join(_join(path, key), i), depth + 1)
                    for i, sub in enumerate(node[key])
                ]
            else:
                self.refuse(
                    _join(path, key), f"must be a list of schemas, not {json_text(node[key])}"
                )

    def dependencies(self, node: dict[str, Any], path: str, depth: int) -> None:
        """Draft 7's ``dependencies``, split into dependentRequired and dependentSchemas."""
        deps = node.get("dependencies")
        if not isinstance(deps, dict):
            return
        del node["dependencies"]
        where = _join(path, "dependencies")
        for name, dep in deps.items():
            if isinstance(dep, list):
                node.setdefault("dependentRequired", {})[name] = dep
            else:
                node.setdefault("dependentSchemas", {})[name] = self.schema(
                    dep, _join(_join(path, "dependentSchemas"), name), depth + 1
                )
        self.note(
            where,
            "→ " + " and ".join(k for k in ("dependentRequired", "dependentSchemas") if k in node),
        )

    def counts(self, node: dict[str, Any], path: str) -> None:
        for key in ("exclusiveMinimum", "exclusiveMaximum"):
            value = node.get(key)
            if not isinstance(value, bool):
                continue
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            where = _join(path, key)
            if value and bound in node:
                node[key] = node.pop(bound)
                self.note(where, f"true → {json_text(node[key])}, the {bound} made exclusive")
            else:
                del node[key]
                self.note(where, f"{json_text(value)} removed (Draft 4 form, with no {bound})")
        for key in _COUNTS:
            value = node.get(key)
            if key not in node or (isinstance(value, int | float) and not isinstance(value, bool)):
                continue
            number = _number(value) if isinstance(value, str) else None
            if number is None:
                self.refuse(_join(path, key), f"must be a number, not {json_text(value)}")
            else:
                node[key] = number
                self.note(_join(path, key), f"{json_text(value)} → {json_text(number)}")

    def values(self, node: dict[str, Any], path: str) -> None:
        """``enum``, ``const`` and ``default`` made to fit the type, or reported."""
        types = node.get("type")
        if types is None or not is_json_type(types):
            return  # no type to fit, or a wrong one (refused already)
        types = [types] if isinstance(types, str) else types
        self.enum_of_items(node, types, path)
        self.placeholders(node, types, path)
        if "enum" in node:
            if not isinstance(node["enum"], list) or not node["enum"]:
                self.refuse(
                    _join(path, "enum"), f"must be a list of values, not {json_text(node['enum'])}"
                )
            else:
                node["enum"] = [
                    self.fitted(value, types, _join(_join(path, "enum"), i))
                    for i, value in enumerate(node["enum"])
                ]
        if "const" in node:
            node["const"] = self.fitted(node["const"], types, _join(path, "const"))
        if "default" in node:
            self.default(node, types, path)

    def enum_of_items(self, node: dict[str, Any], types: list[str], path: str) -> None:
        """An array whose ``enum`` lists single values means its items take those values."""
        enum = node.get("enum")
        if types != ["array"] or not isinstance(enum, list) or not enum:
            return
        if any(isinstance(value, list) for value in enum):
            return  # whole arrays as the allowed values: already JSON Schema's meaning
        items = node.get("items")
        if items is None:
            items = {}
        if not isinstance(items, dict) or "enum" in items:
            return
        kinds = {kind_of(value) for value in enum}
        node["items"] = {**items, "enum": enum}
        if "type" not in items and len(kinds) == 1:
            node["items"] = {"type": kinds.pop(), **node["items"]}
        del node["enum"]
        self.note(
            _join(path, "enum"),
            f"moved to items: {json_text(node['items'])} (each item takes one of these values)",
        )
        node["items"] = self.schema(node["items"], _join(path, "items"), 1)

    def placeholders(self, node: dict[str, Any], types: list[str], path: str) -> None:
        """ "dontcare" and the like among the allowed values of a boolean or a number."""
        enum = node.get("enum")
        if "string" in types or not isinstance(enum, list):
            return
        dropped = [v for v in enum if isinstance(v, str) and v.strip().lower() in PLACEHOLDERS]
        kept = [v for v in enum if v not in dropped]
        if not dropped or not kept:
            return
        node["enum"] = kept
        self.note(
            _join(path, "enum"),
            f"{', '.join(json_text(v) for v in dropped)} removed: not {_kinds(types)} "
            '(a placeholder for "no preference")',
        )

    def fitted(self, value: Any, types: list[str], where: str) -> Any:
        if any(_fits(value, t) for t in types):
            return value
        for kind in types:
            ok, coerced = _coerce(value, kind)
            if ok:
                self.note(where, _coerced(value, coerced, kind))
                return coerced
        self.refuse(where, f"{json_text(value)} is not {_kinds(types)}: fix the type or the value")
        return value

    def default(self, node: dict[str, Any], types: list[str], path: str) -> None:
        value, where = node["default"], _join(path, "default")
        if not any(_fits(value, t) for t in types):
            for kind in types:
                ok, coerced = _coerce(value, kind)
                if ok:
                    node["default"] = coerced
                    self.note(where, _coerced(value, coerced, kind))
                    break
            else:
                del node["default"]
                self.note(where, f"{json_text(value)} removed: it is not {_kinds(types)}")
                return
        enum = node.get("enum")
        if isinstance(enum, list) and node["default"] not in enum:
            self.note(where, f"{json_text(node.pop('default'))} removed: it is not one of the enum")


def _fits(value: Any, kind: str) -> bool:
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return kind_of(value) == kind


def _number(text: str) -> int | float | None:
    text = text.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _coerce(value: Any, kind: str) -> tuple[bool, Any]:
    """``value`` turned into ``kind`` when only one reading is possible: "10" → 10,
    "false" → false, 3 → "3"."""
    if isinstance(value, str):
        if kind == "integer" and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            return True, int(value)
        if kind == "number":
            number = _number(value)
            return number is not None, number
        if kind == "boolean" and value.strip().lower() in ("true", "false"):
            return True, value.strip().lower() == "true"
    if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return True, str(value)
    return False, value


def _coerced(value: Any, coerced: Any, kind: str) -> str:
    return f"{json_text(value)} → {json_text(coerced)} (to fit type {json_text(kind)})"


def _kinds(types: list[str]) -> str:
    words = {"integer": "an integer", "array": "an array", "object": "an object"}
    return " or ".join(words.get(t, t if t == "null" else f"a {t}") for t in types)
