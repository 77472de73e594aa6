"""Database helpers the catalog's constraints need on both SQLite and PostgreSQL."""

from typing import Any

from django.db import models


@models.JSONField.register_lookup
class JSONType(models.Transform):
    """``field__json_type="object"``: the JSON type of a value, for check constraints."""

    lookup_name = "json_type"
    output_field = models.CharField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        raise NotImplementedError(f"json_type is not supported on {connection.vendor}")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="json_type", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="jsonb_typeof", **extra)
