"""The detail response of a tool, and the contents of its versions kept in memory.

A version's content never changes once saved (drafts are replaced by new versions, not
edited), so each process keeps recently read contents by version id and content hash:
reading a tool again costs its row (joined to its versions) and its owners, not its
capabilities and patterns. The tool's own fields (status, enabled, owners ...) are
always read fresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from rest_framework import serializers

from catalog.api.concurrency import etag_of
from catalog.models import Tool, ToolVersion, VersionState
from catalog.selectors import definition_of, load_content

CONTENTS_KEPT = 4096  # versions per process; a few KB each


def with_versions_and_owners(tools: QuerySet[Tool]) -> QuerySet[Tool]:
    """Tools joined to their current and head versions, owners' names prefetched."""
    return tools.select_related("current_version", "head_version").prefetch_related(
        Prefetch("owners", queryset=get_user_model().objects.only("id", "username"))
    )


class VersionContents:
    """Definitions of versions without name and version number (what the content hash
    covers), least recently used dropped first. Treat what it returns as read-only."""

    def __init__(self, size: int = CONTENTS_KEPT) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, versions: list[ToolVersion]) -> dict[int, dict[str, Any]]:
        """Each version's content by id; those not kept are loaded in two queries."""
        found: dict[int, dict[str, Any]] = {}
        missing = []
        with self._lock:
            for version in versions:
                key = (version.pk, version.content_hash)
                if key in self._items:
                    self._items.move_to_end(key)
                    found[version.pk] = self._items[key]
                else:
                    missing.append(version)
        if missing:
            load_content(missing)
            for version in missing:
                d = definition_of(version, tool_fields=False)
                del d["name"], d["version"]
                found[version.pk] = d
            with self._lock:
                for version in missing:
                    self._items[(version.pk, version.content_hash)] = found[version.pk]
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


contents = VersionContents()


def tool_detail(tool: Tool) -> dict[str, Any]:
    """The detail response of a tool loaded with its current and head versions (joined)
    and its owners (prefetched)."""
    current, head = tool.current_version, tool.head_version
    if head is not None and current is not None and head.pk == current.pk:
        head = current
    draft = head if head is not None and head.state == VersionState.DRAFT else None
    shown = [v for v in (current, draft) if v is not None]
    for version in shown:
        version.tool = tool
    loaded = contents.of(shown)
    owners = sorted(u.get_username() for u in tool.owners.all())
    stamp = serializers.DateTimeField().to_representation
    definition = None
    if current is not None:
        # The order definition_of writes: name, version, the tool's fields, the content.
        definition = {
            "name": tool.name,
            "version": current.version,
            "status": tool.status,
            "enabled": tool.enabled,
            "archived": tool.archived_at is not None,
            "owners": owners,
            **loaded[current.pk],
        }
    return {
        "name": tool.name,
        "description": tool.description,
        "platform": tool.platform,
        "category": tool.category,
        "status": tool.status,
        "enabled": tool.enabled,
        "archived": tool.archived_at is not None,
        "archived_at": stamp(tool.archived_at) if tool.archived_at else None,
        "owners": owners,
        "current_version": current.version if current else None,
        "head_version": head.version if head else None,
        "etag": etag_of(head) if head is not None else "",
        "created_at": stamp(tool.created_at),
        "updated_at": stamp(tool.updated_at),
        "definition": definition,
        "draft": {
            "version": draft.version,
            "definition": {"name": tool.name, "version": draft.version, **loaded[draft.pk]},
        }
        if draft is not None
        else None,
    }
