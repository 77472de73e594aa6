"""The per-tenant catalog revision in the shared cache: every write bumps it, and caches
of exports, indexes and lookups are keyed by it so that all processes see a change."""

from __future__ import annotations

import time

from django.core.cache import cache


def _key(tenant_id: int) -> str:
    return f"catalog-revision:{tenant_id}"


def current(tenant_id: int) -> int:
    """The tenant's revision; a fresh cache starts from the clock so values never repeat."""
    value = cache.get(_key(tenant_id))
    if value is None:
        value = time.time_ns()
        cache.add(_key(tenant_id), value, timeout=None)
        value = cache.get(_key(tenant_id), value)
    return int(value)


def bump(tenant_id: int) -> int:
    current(tenant_id)
    try:
        return int(cache.incr(_key(tenant_id)))
    except ValueError:  # evicted between the two calls
        return current(tenant_id)
