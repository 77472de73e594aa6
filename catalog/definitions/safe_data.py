"""Data Quiver can store and show: nested at most MAX_DEPTH levels, and text that is
text. One home for the rule, used by the API's JSON parser, the JSON fields of the
pages, the YAML and JSON readers of imports, and the records of runs.

A lone UTF-16 surrogate (``"\\ud800"``) is legal in Python and in JSON's escapes, but is
no character: PostgreSQL refuses it, and SQLite keeps it and then every page or answer
that shows it fails to encode. Deep nesting exhausts Python's stack in the parsers,
validators and copies that walk it. Input with either is refused, naming where;
output a tool produced has its bad characters replaced (as NUL, which PostgreSQL text
cannot hold either) and the run says so.
"""

from __future__ import annotations

import json
import re
from typing import Any

from catalog.definitions.problems import join_path

# Levels of lists and objects in one value: far beyond any tool definition or arguments
# (a definition's examples sit at about 8, a schema adds 2 a level), far below what
# exhausts Python's stack in the code that walks it.
MAX_DEPTH = 64
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class UnsafeData(ValueError):
    """Input that cannot be stored or shown; ``path`` names where (``""`` the whole)."""

    def __init__(self, path: str, message: str) -> None:
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}" if path else message)


TOO_DEEP = f"is nested too deep (at most {MAX_DEPTH} levels of lists and objects)"
SURROGATE = (
    "contains a lone UTF-16 surrogate (a \\ud800-\\udfff escape without its pair), "
    "which is not a character; send the character itself"
)


def check(value: Any, path: str = "") -> None:
    """Raise UnsafeData for the first place ``value`` is too deep or has a lone surrogate
    in a string or a key. Walks without recursion, so any depth is safe to check."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                raise UnsafeData(where, SURROGATE)
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise UnsafeData(_shortened(where), TOO_DEEP)
            if isinstance(item, dict):
                for key, child in item.items():
                    key = str(key)
                    if has_lone_surrogate(key):
                        raise UnsafeData(join_path(where, replaced(key)), "(the name) " + SURROGATE)
                    stack.append((child, join_path(where, key), depth + 1))
            else:
                stack.extend(
                    (child, join_path(where, i), depth + 1) for i, child in enumerate(item)
                )


def _shortened(path: str) -> str:
    """A deep path cut to its first levels: enough to say which field."""
    return path if len(path) <= 120 else path[:120] + "…"


def loads(text: str | bytes, path: str = "") -> Any:
    """JSON text as data, checked; raises ValueError (json's own, or UnsafeData)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise UnsafeData(path, TOO_DEEP) from None
    check(value, path)
    return value


def has_lone_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def replaced(text: str) -> str:
    """The text with NUL and lone surrogates replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def storable_text(text: str) -> tuple[str, bool]:
    """``replaced(text)``, and whether anything was replaced."""
    if text.isascii() and "\x00" not in text:
        return text, False
    clean = replaced(text)
    return clean, clean != text


def storable(value: Any) -> tuple[Any, bool]:
    """A JSON value with NUL and lone surrogates in its strings and keys replaced, and
    whether anything was. Values from json.loads, so nested within Python's limits."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list | tuple):
        items = [storable(item) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, dict):
        changed, out = False, {}
        for key, item in value.items():
            clean_key, key_changed = storable_text(key) if isinstance(key, str) else (key, False)
            clean_item, item_changed = storable(item)
            out[clean_key] = clean_item
            changed = changed or key_changed or item_changed
        return out, changed
    return value, False
