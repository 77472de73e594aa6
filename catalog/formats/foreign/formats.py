"""Recognising tools written for OpenAI, MCP or Anthropic, and reading each as a Quiver
definition."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from catalog.definitions.format import TOOL_NAME, TOOL_NAME_RULE
from catalog.formats.foreign.schemas import Normaliser, Note

OPENAI = "openai"
OPENAI_FUNCTIONS = "openai-functions"
MCP = "mcp"
ANTHROPIC = "anthropic"
BUILTIN = "builtin"  # a provider's own tool (web search, bash...): refused

DESCRIBED = {
    OPENAI: "OpenAI function-calling tools",
    OPENAI_FUNCTIONS: "OpenAI functions (the older functions list)",
    MCP: "MCP tools (a tools/list result)",
    ANTHROPIC: "Anthropic tool definitions",
}
TAG = {OPENAI: "openai", OPENAI_FUNCTIONS: "openai", MCP: "mcp", ANTHROPIC: "anthropic"}

# Fields only a Quiver definition has: any of them means the item is Quiver's own.
QUIVER_ONLY = frozenset(
    {
        "platform",
        "category",
        "version",
        "status",
        "enabled",
        "archived",
        "owners",
        "tags",
        "defaults",
        "dependencies",
        "metadata",
        "output_schema",
        "runtime",
        "script",
        "capabilities",
    }
)
CATEGORY = "imported"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")  # a category's form
TOOL_NAME_RE = re.compile(TOOL_NAME)
_ILLEGAL = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class Conversion:
    """One foreign tool read as a Quiver definition, or refused."""

    format: str
    name: str
    definition: dict[str, Any] | None = None
    notes: list[Note] = field(default_factory=list)
    refusals: list[Note] = field(default_factory=list)


@dataclass
class Document:
    """A document with any envelope taken off: what to read, and notes on the whole."""

    data: Any
    notes: list[str] = field(default_factory=list)
    refusal: str = ""


# -- recognising -------------------------------------------------------------------------


def unwrap(document: Any) -> Document:
    """The tools a document holds, out of a JSON-RPC envelope or a ``functions`` list."""
    if not isinstance(document, dict):
        return Document(document)
    if document.get("jsonrpc") is not None and ("result" in document or "error" in document):
        error = document.get("error")
        if error is not None:
            detail = error.get("message", "") if isinstance(error, dict) else error
            return Document(None, refusal=f"is a JSON-RPC error response ({detail}), not tools")
        result = document["result"]
        if not isinstance(result, dict) or not isinstance(result.get("tools"), list):
            return Document(None, refusal="is a JSON-RPC response without a list of tools")
        document = result
    elif (
        "name" not in document
        and "tools" not in document
        and isinstance(document.get("functions"), list)
    ):
        return Document({"tools": document["functions"]})
    notes = []
    cursor = document.get("nextCursor")
    if isinstance(cursor, str) and cursor and isinstance(document.get("tools"), list):
        notes.append(
            f"is one page of an MCP tools/list result (nextCursor {json.dumps(cursor)}): "
            "the tools of the next pages are not in it; import them too"
        )
    return Document(document, notes)


def format_of(item: Any) -> str | None:
    """Which foreign format an item is in, or None for Quiver's own (or not a tool)."""
    if not isinstance(item, dict) or not QUIVER_ONLY.isdisjoint(item):
        return None
    kind = item.get("type")
    if kind == "function" or isinstance(item.get("function"), dict):
        return OPENAI
    if "inputSchema" in item:
        return MCP
    if "input_schema" in item:
        return ANTHROPIC
    if "parameters" in item:
        return OPENAI_FUNCTIONS
    if isinstance(kind, str):
        return BUILTIN
    return None


# -- converting --------------------------------------------------------------------------


def convert(item: dict[str, Any], fmt: str) -> Conversion:
    """A Quiver definition made from a foreign tool, with the changes made; or refusals."""
    body, keys = _body(item, fmt)
    raw_name = body.get("name") if isinstance(body, dict) else None
    conversion = Conversion(fmt, raw_name if isinstance(raw_name, str) else "")
    refuse = conversion.refusals.append
    if fmt == BUILTIN:
        refuse(Note("type", _builtin_reason(item)))
        return conversion
    if not isinstance(body, dict):
        refuse(Note("function", "must be an object with name, description and parameters"))
        return conversion
    name = _quiver_name(raw_name, conversion)
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        title = body.get("title")
        hint = f" (its title {json.dumps(title)} is not enough)" if isinstance(title, str) else ""
        refuse(Note("description", f"has no description{hint}; agents need one to choose a tool"))
        description = ""
    schema_key = {MCP: "inputSchema", ANTHROPIC: "input_schema"}.get(fmt, "parameters")
    normaliser = Normaliser(conversion.notes, conversion.refusals)
    input_schema = normaliser.top(body.get(schema_key), "input_schema", schema_key)
    output_schema = None
    if fmt == MCP and body.get("outputSchema") is not None:
        output_schema = normaliser.top(body["outputSchema"], "output_schema", "outputSchema")
    metadata = _metadata(item, body, fmt, keys, conversion)
    if conversion.refusals or name is None:
        return conversion
    definition: dict[str, Any] = {
        "name": name,
        "description": description.strip(),
        "platform": "custom",
        "category": _category(body, conversion),
        "tags": ["imported", TAG[fmt]],
        "metadata": metadata,
        "input_schema": input_schema,
        "runtime": {"kind": "none"},
    }
    if output_schema is not None:
        definition["output_schema"] = output_schema
    conversion.definition = definition
    return conversion


def _body(item: dict[str, Any], fmt: str) -> tuple[Any, frozenset[str]]:
    """The mapping that holds the tool's fields, and the fields this format defines."""
    if fmt == OPENAI and "function" in item:
        return item["function"], frozenset({"name", "description", "parameters", "strict"})
    if fmt in (OPENAI, OPENAI_FUNCTIONS):
        return item, frozenset({"type", "name", "description", "parameters", "strict"})
    if fmt == MCP:
        keys = {"name", "title", "description", "inputSchema", "outputSchema", "annotations"}
        return item, frozenset(keys | {"_meta"})
    return item, frozenset({"type", "name", "description", "input_schema"})


def _builtin_reason(item: dict[str, Any]) -> str:
    return (
        f"is {json.dumps(item.get('type'))}, a tool its provider runs itself (such as web "
        "search or a code interpreter), with no schema of arguments: only function tools can "
        "be imported, and a Quiver definition has no type field"
    )


def _quiver_name(raw: Any, conversion: Conversion) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        conversion.refusals.append(Note("name", "is missing: every tool needs a name"))
        return None
    name = tool_name(raw)
    if not name:
        conversion.refusals.append(
            Note("name", f"{json.dumps(raw)} has no letters or digits to make a tool name of")
        )
        return None
    if name != raw:
        conversion.notes.append(
            Note(
                "name",
                f"{json.dumps(raw)} → {json.dumps(name)} (a tool name is {TOOL_NAME_RULE}, "
                "so that OpenAI, Anthropic and MCP all accept it)",
            )
        )
    return name


def tool_name(text: str) -> str:
    """``text`` as a tool name, kept as written where it is legal (``getWeather`` stays);
    only what breaks the rule is rewritten: ``math.gcd`` → ``math_gcd``, ``Résumé parser``
    → ``Resume_parser``. Empty when no letter or digit is left."""
    text = text.strip()
    if TOOL_NAME_RE.match(text):
        return text
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = _ILLEGAL.sub("_", ascii_text)[:64]
    return name if re.search(r"[A-Za-z0-9]", name) else ""


def slugify(text: str) -> str:
    """A Quiver name for ``text``: ``getWeather`` → ``get_weather``, ``weather.get`` →
    ``weather_get``; empty when nothing usable is left."""
    if NAME.match(text):
        return text
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", ascii_text)
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", spaced).lower()
    slug = re.sub(r"[^a-z0-9_-]+", "_", spaced).strip("_-")
    if slug and not slug[0].isalpha():
        slug = f"tool_{slug}"
    return slug[:64].rstrip("_-")


def _category(body: dict[str, Any], conversion: Conversion) -> str:
    annotations = body.get("annotations")
    given = annotations.get("category") if isinstance(annotations, dict) else None
    if isinstance(given, str) and given.strip():
        category = slugify(given)[:40].rstrip("_-")
        if category:
            if category != given:
                conversion.notes.append(
                    Note("category", f"{json.dumps(given)} → {json.dumps(category)}")
                )
            return category
    return CATEGORY


def _metadata(
    item: dict[str, Any],
    body: dict[str, Any],
    fmt: str,
    keys: frozenset[str],
    conversion: Conversion,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"source_format": fmt}
    if isinstance(body.get("name"), str):
        metadata["original_name"] = body["name"]
    if fmt == MCP:
        if isinstance(body.get("title"), str):
            metadata["title"] = body["title"]
        annotations = body.get("annotations")
        if isinstance(annotations, dict):
            metadata["annotations"] = annotations
        elif annotations is not None:
            conversion.notes.append(Note("metadata", "annotations are not an object; left out"))
        if body.get("_meta") is not None:
            metadata["mcp_meta"] = body["_meta"]
    if "strict" in body:
        metadata["strict"] = body["strict"]
    extra = {key: value for key, value in body.items() if key not in keys}
    if body is not item:
        extra.update({k: v for k, v in item.items() if k not in ("type", "function")})
    if extra:
        metadata["extra"] = extra
        conversion.notes.append(
            Note("metadata.extra", f"kept {', '.join(sorted(extra))}, which Quiver does not use")
        )
    return metadata
