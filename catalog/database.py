"""Database helpers: the JSON shape constraints on both SQLite and PostgreSQL, fresh
statistics after a bulk import, and Python's collector paused during one."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.db import connection, models
from django.db.models.lookups import Exact


class JSONTypeOf(models.Func):
    """The JSON type of a value ('object', 'array', ...), for check constraints."""

    output_field = models.CharField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:  # type: ignore[override]
        raise NotImplementedError(f"JSONTypeOf is not supported on {connection.vendor}")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="json_type", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="jsonb_typeof", **extra)


def json_shape(name: str, field: str, kind: str) -> models.CheckConstraint:
    """A check constraint that a JSON column holds an object or an array."""
    return models.CheckConstraint(condition=Exact(JSONTypeOf(field), models.Value(kind)), name=name)


def analyze_catalog() -> None:
    """Refresh the planner's statistics after a bulk import on PostgreSQL, so lists of
    thousands of freshly imported tools get good plans before autovacuum comes by."""
    if connection.vendor != "postgresql":
        return
    tables = [m._meta.db_table for m in apps.get_app_config("catalog").get_models()]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk import.

    An import of thousands of tools holds millions of small objects, and each full
    collection walks them all: about a third of a 10,000-tool import's time
    (benchmarks/catalog_bench.py). Use it in commands and tasks, not in a threaded web
    worker, where it would pause collection for every thread.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
