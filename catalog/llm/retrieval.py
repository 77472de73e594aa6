"""Which of a tenant's tools fit a request: BM25 (bm25s) over what each tool says of itself.

A tenant's *usable* tools (enabled, not archived, not disabled, with a current version)
are read once per catalog revision into a ``UsableCatalog`` kept in process memory; the
BM25 index over them is built on its first search. Each request reads the revision from
the shared cache (``catalog.revision``), so a change written by any process is seen on
the next request, with no restart.

Each tool is one BM25 document made of its name (its words counted twice), its keywords
(tags, category, platform), its description, what its capabilities and patterns say
(names, descriptions, typical use cases) and its parameters (names and descriptions).
Text is lower-cased and identifiers are split (``disk_usage``, ``vm.swappiness``,
``lastLogonTimestamp``). Choices were measured with ``benchmarks/retrieval_quality.py``
(the sample catalog and the queries in ``tests/catalog/retrieval_queries.yaml``, alone
and among 10,000 generated tools): suffix stripping (plural only, or also -ing/-ed) and
dropping English stop words each lost top-1 there, so neither is done; summing
separately scored, weighted fields (BM25F-style) ranked no better than one document and
costs five indexes, so one document it is.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import bm25s
import numpy as np
from django.db.models import Exists, OuterRef

from catalog import revision
from catalog.models import (
    Pattern,
    Tenant,
    Tool,
    ToolQuerySet,
    ToolStatus,
    ToolVersion,
)
from catalog.selectors import capability_outlines

# bm25s sets its logger to DEBUG and logs every index build.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# -- Text ------------------------------------------------------------------------------

# Agents send long queries (a pasted log, a long instruction): up to QUERY_MAX_CHARS are
# accepted, and the first QUERY_RANKED_CHARS of them ranked on, which keeps a query's cost
# bounded (a few thousand characters name the task; the rest of a log repeats it).
QUERY_MAX_CHARS = 20_000
QUERY_RANKED_CHARS = 4_000

_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_CAMEL_WORD = re.compile(r"[A-Za-z0-9]*[a-z][A-Z][A-Za-z0-9]*")


def tokenize(text: str) -> list[str]:
    """Lower-case words of ``text``, identifiers split; a camel-case word is also kept
    whole (``lastLogonTimestamp`` gives last, logon, timestamp and lastlogontimestamp)."""
    out = _WORD.findall(_CAMEL.sub(" ", text).lower())
    out.extend(match.lower() for match in _CAMEL_WORD.findall(text))
    return out


# -- Documents -------------------------------------------------------------------------

# How many times each field's words count in the one BM25 document of a tool: a name is
# short and chosen with care, so its words count twice.
FIELD_REPEATS: dict[str, int] = {
    "name": 2,
    "keywords": 1,
    "description": 1,
    "uses": 1,
    "parameters": 1,
}


def document_of(definition: dict[str, Any]) -> dict[str, str]:
    """The text of each indexed field of a tool definition."""
    capabilities = definition.get("capabilities") or []
    return {
        "name": definition["name"],
        "keywords": " ".join(
            [*definition.get("tags", []), definition.get("category", ""), definition["platform"]]
        ),
        "description": definition.get("description", ""),
        "uses": " ".join(_capability_text(c) for c in capabilities),
        "parameters": _parameter_text(definition.get("input_schema") or {}),
    }


def _capability_text(capability: dict[str, Any]) -> str:
    parts = [capability.get("name", ""), capability.get("description", "")]
    for pattern in capability.get("patterns") or []:
        parts += [pattern.get("name", ""), pattern.get("description", "")]
        parts += [str(case) for case in pattern.get("typical_use_cases") or []]
    return " ".join(parts)


def _parameter_text(schema: dict[str, Any]) -> str:
    parts = []
    for name, sub in (schema.get("properties") or {}).items():
        parts.append(str(name))
        if isinstance(sub, dict) and isinstance(sub.get("description"), str):
            parts.append(sub["description"])
    return " ".join(parts)


def document_tokens(document: dict[str, str], repeats: dict[str, int] | None = None) -> list[str]:
    """The words BM25 indexes for a tool, each field's as often as it counts."""
    tokens: list[str] = []
    for name, times in (FIELD_REPEATS if repeats is None else repeats).items():
        tokens += tokenize(document.get(name, "")) * times
    return tokens


class ToolIndex:
    """BM25 scores of tool documents, each given as its list of words."""

    def __init__(self, corpus: Sequence[Sequence[str]]) -> None:
        self.size = len(corpus)
        self._model: Any = None
        vocabulary: dict[str, int] = {}
        ids = [[vocabulary.setdefault(word, len(vocabulary)) for word in doc] for doc in corpus]
        if vocabulary:
            self._model = bm25s.BM25()
            self._model.index((ids, vocabulary), show_progress=False)

    @classmethod
    def of_documents(
        cls, documents: Sequence[dict[str, str]], repeats: dict[str, int] | None = None
    ) -> ToolIndex:
        return cls([document_tokens(doc, repeats) for doc in documents])

    def scores(self, query: str) -> np.ndarray:
        """The score of every document for ``query`` (zero where nothing matches); only
        the first QUERY_RANKED_CHARS characters of a longer query count."""
        vocabulary = self._model.vocab_dict if self._model is not None else {}
        words = tokenize(query[:QUERY_RANKED_CHARS])
        ids = [vocabulary[t] for t in words if t and t in vocabulary]
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        if self._model.nonoccurrence_array is not None:
            return np.asarray(self._model.get_scores_from_ids(ids), dtype=np.float32)
        return self._summed_scores(ids)

    def _summed_scores(self, ids: list[int]) -> np.ndarray:
        """The same sum as bm25s's, each distinct word's column read once and weighted by
        its count: a long query repeats its words (a log its every line), and bm25s reads
        a column for each occurrence."""
        unique, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        matrix = self._model.scores
        starts, ends = matrix["indptr"][unique], matrix["indptr"][unique + 1]
        lengths = ends - starts
        if not lengths.sum():
            return np.zeros(self.size, dtype=np.float32)
        # Positions of every stored score of those columns, in one vector.
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        positions = np.arange(int(lengths.sum())) + offsets
        weights = np.repeat(counts, lengths).astype(np.float32)
        scores = np.zeros(self.size, dtype=np.float32)
        np.add.at(scores, matrix["indices"][positions], matrix["data"][positions] * weights)
        return scores


def top_k(scores: np.ndarray, k: int, names: Sequence[str]) -> list[tuple[int, float]]:
    """Positions of the ``k`` best positive scores, best first, ties by name."""
    positive = np.flatnonzero(scores > 0)
    if positive.size > k:
        # Keep every document tied with the k-th best so that the tie-break by name holds.
        kth = np.partition(scores[positive], positive.size - k)[positive.size - k]
        positive = positive[scores[positive] >= kth]
    ranked = sorted(positive.tolist(), key=lambda i: (-float(scores[i]), names[i]))
    return [(i, float(scores[i])) for i in ranked[:k]]


# -- A tenant's usable tools -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsableTool:
    """A tool an agent may be offered, as of one catalog revision."""

    name: str
    version_id: int
    version: str
    content_hash: str
    status: str
    platform: str
    category: str
    tags: tuple[str, ...]
    # False when every pattern of the tool is marked unsafe for production.
    production_safe: bool


# Filter combinations whose masks a catalog keeps.
MAX_MASKS = 256


@dataclass
class UsableCatalog:
    """A tenant's usable tools by name at one revision, and (built on first use) their
    BM25 index."""

    tenant_id: int
    revision: int
    tools: list[UsableTool]
    _index: ToolIndex | None = field(default=None, repr=False)
    _masks: dict[tuple[str, str, str, bool, bool], np.ndarray] = field(
        default_factory=dict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.names = [tool.name for tool in self.tools]

    def mask(
        self,
        *,
        platform: str = "",
        category: str = "",
        tag: str = "",
        include_deprecated: bool = False,
        production: bool = False,
    ) -> np.ndarray:
        """Which tools pass the filters, as a boolean array in catalog order (read-only;
        kept for the next request with the same filters)."""
        tag = tag.strip().lower()
        key = (platform, category, tag, include_deprecated, production)
        found = self._masks.get(key)
        if found is None:
            if len(self._masks) >= MAX_MASKS:
                self._masks.clear()
            found = self._masks[key] = self._compute_mask(*key)
            found.flags.writeable = False
        return found

    def _compute_mask(
        self, platform: str, category: str, tag: str, include_deprecated: bool, production: bool
    ) -> np.ndarray:
        return np.fromiter(
            (
                (not platform or tool.platform == platform)
                and (not category or tool.category == category)
                and (not tag or tag in tool.tags)
                and (include_deprecated or tool.status != ToolStatus.DEPRECATED)
                and (not production or tool.production_safe)
                for tool in self.tools
            ),
            dtype=bool,
            count=len(self.tools),
        )

    @property
    def index(self) -> ToolIndex:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = ToolIndex(version_tokens(self.tools))
        return self._index

    def search(
        self, query: str, k: int, mask: np.ndarray | None = None
    ) -> list[tuple[UsableTool, float]]:
        """The ``k`` tools that best match ``query`` among those ``mask`` allows."""
        scores = self.index.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0)
        return [(self.tools[i], score) for i, score in top_k(scores, k, self.names)]


def usable_tools(tenant: Tenant) -> ToolQuerySet:
    """The tenant's tools an agent may be offered: enabled, live, not disabled, published."""
    return (
        Tool.objects.for_tenant(tenant)
        .live()
        .filter(enabled=True, current_version__isnull=False)
        .exclude(status=ToolStatus.DISABLED)
    )


def load_catalog(tenant: Tenant, at_revision: int) -> UsableCatalog:
    """Read the tenant's usable tools (one query)."""
    patterns = Pattern.objects.filter(capability__version=OuterRef("current_version"))
    rows = (
        usable_tools(tenant)
        .annotate(
            has_patterns=Exists(patterns),
            has_safe_pattern=Exists(patterns.filter(production_safe=True)),
        )
        .order_by("name")
        .values_list(
            "name",
            "current_version_id",
            "current_version__version",
            "current_version__content_hash",
            "status",
            "current_version__platform",
            "current_version__category",
            "current_version__tags",
            "has_patterns",
            "has_safe_pattern",
        )
    )
    tools = [
        UsableTool(
            name=name,
            version_id=version_id,
            version=version,
            content_hash=content_hash,
            status=status,
            platform=platform,
            category=category,
            tags=tuple(str(t).lower() for t in tags or ()),
            production_safe=not has_patterns or has_safe,
        )
        for (
            name,
            version_id,
            version,
            content_hash,
            status,
            platform,
            category,
            tags,
            has_patterns,
            has_safe,
        ) in rows
    ]
    return UsableCatalog(tenant_id=tenant.pk, revision=at_revision, tools=tools)


def _chunks(items: Sequence[Any], size: int = 2000) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def version_tokens(tools: Sequence[UsableTool]) -> list[tuple[str, ...]]:
    """Each tool's indexed words, read and tokenized only for versions not seen before:
    after a change, rebuilding the index of 10,000 tools reads just the changed ones."""
    with _tokens_lock:
        known = {t.version_id: _tokens[t.version_id] for t in tools if t.version_id in _tokens}
    missing = [t for t in tools if t.version_id not in known]
    for tool, document in zip(missing, load_documents(missing), strict=True):
        known[tool.version_id] = tuple(sys.intern(w) for w in document_tokens(document))
    with _tokens_lock:
        for version_id in known:
            _tokens.pop(version_id, None)
        _tokens.update(known)  # the most recently used last
        while len(_tokens) > MAX_CACHED_VERSIONS:
            del _tokens[next(iter(_tokens))]
    return [known[t.version_id] for t in tools]


def load_documents(tools: Sequence[UsableTool]) -> list[dict[str, str]]:
    """The indexed text of each tool's current version (three queries per 2,000 tools)."""
    documents: list[dict[str, str]] = []
    for chunk in _chunks(tools):
        ids = [tool.version_id for tool in chunk]
        versions = {
            row[0]: row
            for row in ToolVersion.objects.filter(id__in=ids).values_list(
                "id", "description", "tags", "category", "platform", "input_schema"
            )
        }
        capabilities = capability_outlines(
            ids,
            capability_fields=("name", "description"),
            pattern_fields=("name", "description", "typical_use_cases"),
        )
        for tool in chunk:
            row = versions.get(tool.version_id)
            if row is None:  # purged since the catalog was read: index nothing for it
                documents.append({})
                continue
            _, description, tags, category, platform, input_schema = row
            documents.append(
                document_of(
                    {
                        "name": tool.name,
                        "description": description,
                        "tags": tags or [],
                        "category": category,
                        "platform": platform,
                        "input_schema": input_schema,
                        "capabilities": capabilities.get(tool.version_id, []),
                    }
                )
            )
    return documents


# -- The process-local caches -----------------------------------------------------------

# A few tenants' catalogs per process; each is checked against the shared revision.
MAX_TENANTS = 8
_catalogs: OrderedDict[int, UsableCatalog] = OrderedDict()
_catalogs_lock = threading.Lock()
# Indexed words by version id (published versions never change), least recent first.
MAX_CACHED_VERSIONS = 100_000
_tokens: dict[int, tuple[str, ...]] = {}
_tokens_lock = threading.Lock()


def usable_catalog(tenant: Tenant, at_revision: int | None = None) -> UsableCatalog:
    """The tenant's usable tools at its current revision, from memory when unchanged."""
    current = revision.current(tenant.pk) if at_revision is None else at_revision
    with _catalogs_lock:
        cached = _catalogs.get(tenant.pk)
        if cached is not None and cached.revision == current:
            _catalogs.move_to_end(tenant.pk)
            return cached
    catalog = load_catalog(tenant, current)
    with _catalogs_lock:
        _catalogs[tenant.pk] = catalog
        _catalogs.move_to_end(tenant.pk)
        while len(_catalogs) > MAX_TENANTS:
            _catalogs.popitem(last=False)
    return catalog


def search(tenant: Tenant, query: str, k: int = 20, **filters: Any) -> list[tuple[str, float]]:
    """Names and scores of the ``k`` usable tools that best match ``query``."""
    catalog = usable_catalog(tenant)
    mask = catalog.mask(**filters) if filters else catalog.mask()
    return [(tool.name, score) for tool, score in catalog.search(query, k, mask)]


def clear_caches() -> None:
    """Forget every tenant's catalog (tests; a process never needs it)."""
    with _catalogs_lock:
        _catalogs.clear()
    with _tokens_lock:
        _tokens.clear()


def rank_of(expected: str, results: Iterable[tuple[str, float]]) -> int | None:
    """1-based rank of ``expected`` among ``results``, or None."""
    for position, (name, _score) in enumerate(results, start=1):
        if name == expected:
            return position
    return None
