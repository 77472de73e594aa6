"""A call's arguments checked against its tool's input schema, with defaults filled in.

Runs before anything is queued: a call that fails here never reaches a worker. The
compiled validator and the plan of defaults are built once per schema and kept, keyed by
a stable identity of the schema (a version's content hash) so that the hot path neither
serialises nor hashes the schema again.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any

from catalog.definitions.json_schemas import CompiledSchema, compiled_validator, schema_errors
from catalog.definitions.problems import FieldError

CACHE_SIZE = 4096


class ArgumentsInvalid(ValueError):
    """Arguments that do not fit the schema; ``errors`` names each field and problem."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors))


@dataclass(frozen=True)
class _Defaults:
    """Where an object schema's defaults go: own properties, then nested objects."""

    values: tuple[tuple[str, Any, bool], ...]  # (name, default, needs a copy)
    nested: tuple[tuple[str, _Defaults], ...]

    def fill(self, instance: dict[str, Any]) -> None:
        for name, default, mutable in self.values:
            if name not in instance:
                instance[name] = copy.deepcopy(default) if mutable else default
        for name, plan in self.nested:
            child = instance.get(name)
            if isinstance(child, dict):
                plan.fill(child)


@dataclass(frozen=True)
class _Prepared:
    validator: CompiledSchema
    defaults: _Defaults


def _defaults_of(schema: Any) -> _Defaults:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return _Defaults((), ())
    values, nested = [], []
    for name, sub in properties.items():
        if not isinstance(sub, dict):
            continue
        if "default" in sub:
            default = sub["default"]
            values.append((name, default, isinstance(default, dict | list)))
        plan = _defaults_of(sub)
        if plan.values or plan.nested:
            nested.append((name, plan))
    return _Defaults(tuple(values), tuple(nested))


_cache: OrderedDict[str, _Prepared] = OrderedDict()
_lock = Lock()


def _prepared(schema: dict[str, Any], key: str | None) -> _Prepared:
    if key is None:
        return _Prepared(compiled_validator(schema), _defaults_of(schema))
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    prepared = _Prepared(compiled_validator(schema), _defaults_of(schema))
    with _lock:
        _cache[key] = prepared
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return prepared


def prepare_arguments(
    schema: dict[str, Any], arguments: Any, *, key: str | None = None
) -> dict[str, Any]:
    """The arguments with the schema's defaults filled in; raises ArgumentsInvalid.

    ``key`` identifies the schema for the cache (a tool version's content hash); without
    one the schema is hashed on each call. The caller's dict is not changed.
    """
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise ArgumentsInvalid([FieldError("arguments", "must be an object of named values")])
    prepared = _prepared(schema, key)
    # Nested defaults are written into nested objects: copy those, not only the top.
    filled = copy.deepcopy(arguments) if prepared.defaults.nested else dict(arguments)
    prepared.defaults.fill(filled)
    if not prepared.validator.is_valid(filled):
        raise ArgumentsInvalid(schema_errors(filled, prepared.validator, "arguments"))
    return filled
