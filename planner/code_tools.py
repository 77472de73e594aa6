"""A code-defined tool's definition, read from the function itself: the description from
its docstring, the input schema from its signature, the output schema from its return
annotation. No definition is written by hand beside the code, so the two cannot drift.

The JSON Schemas come from pydantic's ``TypeAdapter`` (defaults, ``Literal`` and ``Enum``
as ``enum``, ``Annotated[..., Field(description=...)]``, ``X | None``, ``list[...]``,
``dict``, TypedDicts and dataclasses), then are made plain: titles dropped, references
inlined, so that they read as every other tool's schemas do. A parameter without an
annotated description takes the one its docstring gives (``Args:`` section, Google style).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import TypeAdapter
from typing_extensions import is_typeddict

# "    name: what it is", or "    name (type): what it is", in an Args: section.
_ARGUMENT = re.compile(r"^\s+(\w+)(?:\s*\([^)]*\))?\s*:\s*(.+)$")
_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Raises|Yields|Examples?)\s*:\s*$")


class NotDerivable(ValueError):
    """The function cannot describe itself: what is missing, in words."""


def derive_definition(
    function: Callable[..., Any], name: str, *, platform: str = "custom", category: str = "general"
) -> dict[str, Any]:
    """The definition of the callable tool ``name``: description, inputs, outputs and a
    ``callable`` runtime (everything else takes the format's defaults)."""
    doc = inspect.getdoc(function) or ""
    summary = doc.split("\n\n")[0].replace("\n", " ").strip()
    if not summary:
        raise NotDerivable(f"{function.__qualname__} needs a docstring: it is the description")
    return {
        "name": name,
        "description": summary,
        "platform": platform,
        "category": category,
        "input_schema": input_schema(function),
        "output_schema": output_schema(function),
        "runtime": {"kind": "callable", "callable": name},
    }


def input_schema(function: Callable[..., Any]) -> dict[str, Any]:
    """The JSON Schema of the function's keyword arguments, with the descriptions its
    annotations or its docstring give them."""
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise NotDerivable(
                f"{function.__qualname__} takes *{parameter.name}: name every input instead"
            )
    adapter: TypeAdapter[Any] = TypeAdapter(function)  # type: ignore[arg-type]
    schema = plain(adapter.json_schema())
    properties = schema.setdefault("properties", {})
    for name, text in _argument_docs(inspect.getdoc(function) or "").items():
        if name in properties:
            properties[name].setdefault("description", text)
    schema.setdefault("required", [])
    schema["additionalProperties"] = False
    return schema


def output_schema(function: Callable[..., Any]) -> dict[str, Any]:
    """The JSON Schema of what the function returns, when its return annotation is a
    TypedDict or a dataclass; otherwise an object that says nothing more."""
    returned = get_type_hints(function, include_extras=True).get("return")
    if returned is None or not (is_typeddict(returned) or dataclasses.is_dataclass(returned)):
        return {"type": "object"}
    return plain(TypeAdapter(returned).json_schema(mode="serialization"))


def plain(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without pydantic's titles, with its ``$defs`` inlined where referenced."""
    definitions = schema.pop("$defs", {})

    def walk(node: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(node, list):
            return [walk(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            key = reference.removeprefix("#/$defs/")
            if key in seen:
                raise NotDerivable(f"{key} refers to itself; a tool's inputs cannot")
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return walk({**definitions[key], **rest}, (*seen, key))
        return {
            key: walk(value, seen)
            for key, value in node.items()
            if key != "title" or not isinstance(value, str)
        }

    return walk(schema)  # type: ignore[no-any-return]


def _argument_docs(doc: str) -> dict[str, str]:
    """Parameter descriptions from the docstring's ``Args:`` section."""
    found: dict[str, str] = {}
    inside = False
    for line in doc.splitlines():
        section = _SECTION.match(line.strip())
        if section:
            inside = section.group(1) in ("Args", "Arguments", "Parameters")
            continue
        if inside and (match := _ARGUMENT.match(line)):
            found[match.group(1)] = match.group(2).strip()
    return found
