"""Tool definitions written for other systems, read as Quiver definitions.

Three shapes are recognised, item by item: OpenAI function calling (``{"type": "function",
"function": {...}}``, the flat Responses form and the older bare ``functions``), an MCP
``tools/list`` result (``inputSchema``, also inside its JSON-RPC envelope) and Anthropic
tool definitions (``input_schema`` without any field only Quiver has). A Quiver definition
is never taken for one of them: it has none of ``type``, ``function``, ``parameters`` or
``inputSchema`` (its format allows no unknown field), and ``input_schema`` alone is read
as Anthropic only when no field of Quiver's own (``platform``, ``category``, ``tags``...)
is there.

Their schemas are normalised to JSON Schema Draft 2020-12 (type names such as ``dict``,
``float`` or ``Optional[str]``, ``"optional": true``, tuples, OpenAPI's ``nullable``...)
and every change is reported as a ``Note`` by field path; what cannot be normalised is
refused, saying why. Nothing here knows about files or the database.
"""

from catalog.formats.foreign.formats import (
    ANTHROPIC,
    BUILTIN,
    DESCRIBED,
    MCP,
    OPENAI,
    OPENAI_FUNCTIONS,
    TAG,
    Conversion,
    Document,
    convert,
    format_of,
    slugify,
    tool_name,
    unwrap,
)
from catalog.formats.foreign.schemas import Note

__all__ = [
    "ANTHROPIC",
    "BUILTIN",
    "DESCRIBED",
    "MCP",
    "OPENAI",
    "OPENAI_FUNCTIONS",
    "TAG",
    "Conversion",
    "Document",
    "Note",
    "convert",
    "format_of",
    "slugify",
    "tool_name",
    "unwrap",
]
