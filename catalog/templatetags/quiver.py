"""Template filters the catalog's pages share."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def compact_json(value: Any, limit: int = 200) -> str:
    """A value as short JSON for tables and change lists (strings shown without quotes)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter
def change_rows(changes: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A field-level diff ``{path: [old, new]}`` as rows for ``_partials/changes.html``."""
    rows = []
    for path, pair in (changes or {}).items():
        old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        rows.append(
            {
                "path": path,
                "old": old,
                "new": new,
                "kind": "added" if old is None else "removed" if new is None else "changed",
            }
        )
    return rows
