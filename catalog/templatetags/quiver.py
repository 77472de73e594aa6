"""Template filters the catalog's pages share."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from catalog.display.in_words import value_in_words
from catalog.display.word_diff import word_diff
from catalog.models import AuditAction, AuditLog, Tool
from catalog.tool_state import ToolState, state_of

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


# Recorded for integrity and programs, not for people reading the log.
HIDDEN_CHANGES = frozenset({"content_hash"})
# Fields of the things an entry changes, as people call them.
FIELD_WORDS = {
    "revoked_at": "revoked",
    "expires_at": "expires",
    "last_used_at": "last used",
    "prefix": "key starts with",
    "max_memory_mb": "most memory a run may use (MB)",
    "internal_networks": "internal networks scripts may reach",
    "network": "scripts may use the network",
    "current_version": "current version",
    "affected_keys": "API keys",
}
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def _in_words(field_name: str, value: Any) -> Any:
    if isinstance(value, str) and ISO_TIME.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return date_format(
            timezone.localtime(moment) if timezone.is_aware(moment) else moment, "j M Y, H:i"
        )
    return value_in_words(field_name, value)


@register.filter
def change_rows(changes: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A field-level diff ``{path: [old, new]}`` as rows for ``_partials/changes.html``."""
    rows = []
    for path, pair in (changes or {}).items():
        if path in HIDDEN_CHANGES:
            continue
        old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        kind = "added" if old is None else "removed" if new is None else "changed"
        field_name = path.rsplit(".", 1)[-1]
        old, new = _in_words(field_name, old), _in_words(field_name, new)
        path = FIELD_WORDS.get(path, path)
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
    if entry.object_type == "membership":  # "bob in acme as viewer": the role is in the diff
        return entry.object_repr.split(" in ", 1)[0]
    return entry.object_repr


@register.filter
def audit_action(entry: AuditLog) -> str:
    """The entry's action in words; a membership change says which kind it was."""
    if entry.action == AuditAction.MEMBERSHIP and "role" in (entry.changes or {}):
        old, new = [*entry.changes["role"], None, None][:2]
        if old is None and new is not None:
            return "Added member"
        if new is None and old is not None:
            return "Removed member"
        return "Changed role of"
    return str(entry.get_action_display())


@register.filter
def audit_kind(entry: AuditLog) -> str:
    """The kind of thing an entry changed, in words."""
    return OBJECT_KINDS.get(entry.object_type, entry.object_type)
