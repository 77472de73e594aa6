"""Type names people write in schemas (``dict``, ``Integer``, ``Optional[str]``,
``list[dict]``, ``int | None``, ``string[]``...) read as the JSON Schema they mean."""

from __future__ import annotations

import ast
import json
from typing import Any

from catalog.definitions.format import json_type_of

MAX_TYPE_TEXT = 200
JSON_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")

# Type names people write, lower-cased, and the JSON Schema each means ({} = any value).
_SPELLINGS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "object dict dictionary map mapping hashmap treemap linkedhashmap hash record struct obj",
        {"type": "object"},
    ),
    (
        "list array sequence iterable collection tuple vector arraylist linkedlist",
        {"type": "array"},
    ),
    ("set frozenset hashset treeset", {"type": "array", "uniqueItems": True}),
    ("str string text char varchar unicode", {"type": "string"}),
    (
        "int integer long short bigint int8 int16 int32 int64 uint uint32 uint64",
        {"type": "integer"},
    ),
    ("float double number decimal real numeric float32 float64", {"type": "number"}),
    ("bool boolean", {"type": "boolean"}),
    ("none null nonetype nil void", {"type": "null"}),
    ("any anything mixed unknown", {}),
    ("date", {"type": "string", "format": "date"}),
    ("datetime date-time timestamp", {"type": "string", "format": "date-time"}),
    ("time", {"type": "string", "format": "time"}),
    ("uuid", {"type": "string", "format": "uuid"}),
    ("uri url", {"type": "string", "format": "uri"}),
    ("email", {"type": "string", "format": "email"}),
)
_NAMES = {word: schema for words, schema in _SPELLINGS for word in words.split()}
_ARRAYS = {"list", "sequence", "iterable", "collection", "array", "vector"}
_ARRAYS |= {"arraylist", "linkedlist"}
_SETS = {"set", "frozenset", "hashset", "treeset"}
_MAPS = {"dict", "mapping", "map", "record", "hashmap", "treemap", "linkedhashmap"}

# Union members that can share one schema: these keywords apply to one JSON type only.
_MERGEABLE = {"type", "items", "prefixItems", "minItems", "maxItems", "uniqueItems", "format"}
_MERGEABLE |= {"additionalProperties"}


class Refused(Exception):
    """What cannot be normalised, and why."""


def json_text(value: Any, limit: int = 200) -> str:
    """A value as JSON for a message, cut short when it is long."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_type(value: Any) -> dict[str, Any]:
    """The JSON Schema a type written as text means: ``"Integer"``, ``"Optional[str]"``,
    ``"list[dict]"``, ``"int | None"``... Raises Refused for anything else."""
    if not isinstance(value, str):
        raise Refused(f"must be a type name or a list of them, not {json_text(value)}")
    text = value.strip()
    known = _NAMES.get(text.lower().removeprefix("typing."))
    if known is not None:
        return dict(known)
    if len(text) > MAX_TYPE_TEXT:
        raise Refused(f"{json_text(text[:40] + '...')} is too long to be a type name")
    if "<" in text:  # Java's List<String>, Map<String, Integer>: read as Python's brackets
        text = text.replace("<", "[").replace(">", "]")
    if text.endswith("[]") and len(text) > 2:  # TypeScript's string[]
        items = parse_type(text[:-2])
        return {"type": "array", "items": items} if items else {"type": "array"}
    try:
        expression = ast.parse(text, mode="eval").body
        return _from_ast(expression, value)
    except (SyntaxError, ValueError, RecursionError):
        raise Refused(_unknown(value)) from None


def _unknown(value: str) -> str:
    return (
        f"{json_text(value)} is not a type JSON Schema knows: use string, number, integer, "
        "boolean, array, object or null (or a Python type such as Optional[str])"
    )


def _from_ast(node: ast.expr, text: str) -> dict[str, Any]:
    if isinstance(node, ast.Constant) and node.value is None:
        return {"type": "null"}
    if isinstance(node, ast.Name | ast.Attribute):
        known = _NAMES.get(_dotted(node).lower())
        if known is None:
            raise Refused(_unknown(text))
        return dict(known)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return union([_from_ast(node.left, text), _from_ast(node.right, text)])
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name | ast.Attribute):
        base = _dotted(node.value).lower()
        args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        return _generic(base, args, text)
    raise Refused(_unknown(text))


def _dotted(node: ast.expr) -> str:
    """``typing.List`` → ``list``: the last part of a dotted name."""
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _generic(base: str, args: list[ast.expr], text: str) -> dict[str, Any]:
    if base == "optional" and len(args) == 1:
        return union([_from_ast(args[0], text), {"type": "null"}])
    if base == "union":
        return union([_from_ast(arg, text) for arg in args])
    if base == "annotated" and args:
        return _from_ast(args[0], text)
    if base == "literal" and all(isinstance(a, ast.Constant) for a in args):
        choices = [a.value for a in args if isinstance(a, ast.Constant)]
        kinds = {kind_of(v) for v in choices}
        return {"type": kinds.pop(), "enum": choices} if len(kinds) == 1 else {"enum": choices}
    if base in _ARRAYS | _SETS and len(args) == 1:
        schema: dict[str, Any] = {"type": "array"}
        items = _from_ast(args[0], text)
        if items:
            schema["items"] = items
        if base in _SETS:
            schema["uniqueItems"] = True
        return schema
    if base == "tuple":
        if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
            return _generic("list", args[:1], text)
        prefix = [_from_ast(arg, text) for arg in args]
        size = len(prefix)
        return {"type": "array", "prefixItems": prefix, "minItems": size, "maxItems": size}
    if base in _MAPS and len(args) == 2:
        values = _from_ast(args[1], text)
        return {"type": "object", "additionalProperties": values} if values else {"type": "object"}
    raise Refused(_unknown(text))


def union(members: list[dict[str, Any]]) -> dict[str, Any]:
    """One schema allowing any of ``members``: a list of types when they combine cleanly
    (each keyword applies to one type), otherwise anyOf."""
    if any(not member for member in members):
        return {}  # one member allows anything
    merged: dict[str, Any] = {}
    types: list[str] = []
    for member in members:
        kind = member.get("type")
        if not isinstance(kind, str) or kind in types or set(member) - _MERGEABLE:
            return {"anyOf": members}
        types.append(kind)
        for key, value in member.items():
            if key != "type":
                if key in merged:
                    return {"anyOf": members}
                merged[key] = value
    return {"type": types[0] if len(types) == 1 else types, **merged}


def is_json_type(value: Any) -> bool:
    """Whether ``type`` holds JSON Schema type names only (a wrong one is refused apart)."""
    values = value if isinstance(value, list) else [value]
    return all(isinstance(v, str) and v in JSON_TYPES for v in values)


def kind_of(value: Any) -> str:
    """The JSON Schema type of a parsed JSON value."""
    return json_type_of(value) or "string"
