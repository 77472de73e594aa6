"""What ``GET /api/v1/llm/tools`` serves: a tenant's usable tools, filtered, optionally
narrowed to the best matches of a query, in one of the LLM formats.

Three caches, all in process memory and all exact:

- the tenant's usable tools and their BM25 index (``catalog.llm.retrieval``), per revision;
- each version's converted form (``llm_formats.ConversionCache``), by tool name, version
  and content hash, which a published version never changes;
- whole response bodies, by (tenant, revision, request), so a repeated export costs a
  dictionary lookup.

Every request first reads the tenant's revision from the shared cache, so a change made
through another process is served on the next request.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import astuple, dataclass
from typing import Any

from catalog import revision
from catalog.llm import formats as llm_formats
from catalog.llm import retrieval
from catalog.models import Tenant, ToolVersion
from catalog.selectors import capability_outlines

DEFAULT_K = 20
MAX_K = 100
# Environments in which a tool may be offered; in production, tools whose every pattern
# is marked unsafe for production are left out.
ENVIRONMENTS = ("production", "staging", "development", "test")


@dataclass(frozen=True, slots=True)
class LlmToolsRequest:
    """What the caller asked for (already validated)."""

    format: str = "openai"
    q: str = ""
    k: int = DEFAULT_K
    platform: str = ""
    category: str = ""
    tag: str = ""
    include_deprecated: bool = False
    environment: str = ""


@dataclass(frozen=True, slots=True)
class LlmToolsResponse:
    body: bytes
    etag: str
    revision: int
    count: int


# -- Converted versions ------------------------------------------------------------------

conversions = llm_formats.ConversionCache()


def _load_converted(keys: list[Hashable]) -> dict[Hashable, dict[str, Any]]:
    """Convert the versions behind ``keys`` — (format, name, version, hash, version id) —
    loading each version once whatever the number of formats asked."""
    by_version: dict[int, list[Hashable]] = {}
    for key in keys:
        by_version.setdefault(key[4], []).append(key)  # type: ignore[index]
    out: dict[Hashable, dict[str, Any]] = {}
    ids = list(by_version)
    for start in range(0, len(ids), 1000):
        for version_id, definition in llm_definitions(ids[start : start + 1000]).items():
            for key in by_version[version_id]:
                out[key] = llm_formats.convert(definition, key[0])  # type: ignore[index]
    return out


def llm_definitions(version_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The parts of each version's definition the LLM formats read, in three queries.

    Lighter than ``selectors.definition_of``: no model instances and none of the fields
    (scripts, examples, estimates ...) a prompt does not show. A test checks that the
    formats come out the same from both.
    """
    capabilities = capability_outlines(
        version_ids, pattern_fields=("typical_use_cases", "requires_approval", "production_safe")
    )
    for outline in capabilities.values():
        for capability in outline:
            capability["patterns"] = [
                {
                    "typical_use_cases": p["typical_use_cases"],
                    "policy": {
                        "requires_approval": p["requires_approval"],
                        "production_safe": p["production_safe"],
                    },
                }
                for p in capability["patterns"]
            ]
    definitions = {}
    # The name comes from the tool; the other fields are the version's own.
    fields = ("tool__name", *_DEFINITION_FIELDS[1:])
    for row in ToolVersion.objects.filter(id__in=version_ids).values_list("id", *fields):
        version_id = row[0]
        definitions[version_id] = {
            **dict(zip(_DEFINITION_FIELDS, row[1:], strict=True)),
            "capabilities": capabilities.get(version_id, []),
        }
    return definitions


_DEFINITION_FIELDS = (
    "name",
    "version",
    "description",
    "platform",
    "category",
    "tags",
    "metadata",
    "input_schema",
    "output_schema",
)


def converted_tools(fmt: str, tools: list[retrieval.UsableTool]) -> list[dict[str, Any] | None]:
    """The tools in format ``fmt``, in order; None for a version purged since the
    catalog was read."""
    keys: list[Hashable] = [(fmt, t.name, t.version, t.content_hash, t.version_id) for t in tools]
    return conversions.get_many(keys, _load_converted)


# -- Whole responses ---------------------------------------------------------------------


class _ResponseCache:
    """Response bodies by key, least recently used dropped first, bounded in bytes."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, LlmToolsResponse] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> LlmToolsResponse | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: Hashable, item: LlmToolsResponse) -> None:
        if len(item.body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._items[key] = item
            self._bytes += len(item.body)
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.body)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


responses = _ResponseCache()


def llm_tools(tenant: Tenant, request: LlmToolsRequest) -> LlmToolsResponse:
    """The response body for ``request``, from memory when the catalog has not changed."""
    current = revision.current(tenant.pk)
    key = (tenant.pk, current, astuple(request))
    cached = responses.get(key)
    if cached is not None:
        return cached
    payload = build_payload(tenant, request, current)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    # From the body, so that a new release converting differently changes it too.
    digest = hashlib.sha256(body).hexdigest()[:32]
    response = LlmToolsResponse(
        body=body, etag=f'"{digest}"', revision=current, count=payload["count"]
    )
    responses.put(key, response)
    return response


def build_payload(tenant: Tenant, request: LlmToolsRequest, at_revision: int) -> dict[str, Any]:
    catalog = retrieval.usable_catalog(tenant, at_revision)
    mask = catalog.mask(
        platform=request.platform,
        category=request.category,
        tag=request.tag,
        include_deprecated=request.include_deprecated,
        production=request.environment == "production",
    )
    payload: dict[str, Any] = {"format": request.format, "revision": at_revision}
    if request.q.strip():
        hits = catalog.search(request.q, request.k, mask)
    else:
        hits = [(tool, 0.0) for tool, keep in zip(catalog.tools, mask, strict=True) if keep]
    items = converted_tools(request.format, [tool for tool, _ in hits])
    found = [(hit, item) for hit, item in zip(hits, items, strict=True) if item is not None]
    if request.q.strip():
        payload["query"] = request.q
        payload["matches"] = [
            {"name": tool.name, "score": round(score, 4)} for (tool, score), _ in found
        ]
    payload["count"] = len(found)
    payload["tools"] = [item for _, item in found]
    return payload


def clear_caches() -> None:
    """Forget every cached conversion, response and catalog (tests)."""
    conversions.clear()
    responses.clear()
    retrieval.clear_caches()
