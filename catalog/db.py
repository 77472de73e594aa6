"""Database helpers the catalog's constraints need on both SQLite and PostgreSQL."""

from typing import Any

from django.db import models
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
