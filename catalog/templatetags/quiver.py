"""Template filters the catalog's pages share."""

from __future__ import annotations

import json
import re
from typing import Any

from django import template

from catalog.models import AuditLog, Tool
from catalog.readable import value_in_words
from catalog.tool_state import ToolState, state_of
from catalog.word_diff import word_diff

register = template.Library()


# A changed value longer than this (or on several lines) is shown as a word diff.
SHORT_VALUE = 60


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


@register.filter
def compact_json(value: Any, limit: int = 200) -> str:
    """A value as short JSON for tables and change lists (strings shown without quotes)."""
    text = _as_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter
def change_rows(changes: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A field-level diff ``{path: [old, new]}`` as rows for ``_partials/changes.html``."""
    rows = []
    for path, pair in (changes or {}).items():
        old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        kind = "added" if old is None else "removed" if new is None else "changed"
        field_name = path.rsplit(".", 1)[-1]
        old, new = value_in_words(field_name, old), value_in_words(field_name, new)
        words = []
        if kind == "changed":
            old_text, new_text = _as_text(old), _as_text(new)
            if max(len(old_text), len(new_text)) > SHORT_VALUE or "\n" in old_text + new_text:
                words = word_diff(old_text, new_text)
        rows.append({"path": path, "old": old, "new": new, "kind": kind, "words": words})
    return rows


@register.filter
def tool_state(tool: Tool) -> ToolState:
    """The tool's one state (label, badge, what agents can do); see catalog.tool_state."""
    return state_of(tool)


RUN_REPR = re.compile(r"^run (\d+)\b")
OBJECT_KINDS = {
    "tool": "a tool",
    "toolversion": "a version of a tool",
    "execution": "a run",
    "apikey": "an API key",
    "membership": "a member",
    "sandboxlimits": "the script limits",
}


@register.filter
def audit_object(entry: AuditLog) -> str:
    """What an entry changed, as its line reads after the action: a run by its number
    ("Approved run #6 of disk_usage"), not "Approved run run 6"."""
    if entry.object_type == "execution":
        return RUN_REPR.sub(r"#\1", entry.object_repr)
    return entry.object_repr


@register.filter
def audit_kind(entry: AuditLog) -> str:
    """The kind of thing an entry changed, in words."""
    return OBJECT_KINDS.get(entry.object_type, entry.object_type)
