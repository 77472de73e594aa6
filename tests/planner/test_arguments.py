"""Arguments are checked against the input schema, with defaults filled, before queueing."""

from __future__ import annotations

from typing import Any

import pytest

from planner.arguments import ArgumentsInvalid, prepare_arguments

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "host": {"type": "string", "minLength": 1},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 443},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "tls": {
            "type": "object",
            "properties": {"verify": {"type": "boolean", "default": True}},
        },
    },
    "required": ["host"],
    "additionalProperties": False,
}


def test_defaults_are_filled_and_given_values_kept() -> None:
    given = {"host": "web-01", "tls": {}}
    filled = prepare_arguments(SCHEMA, given, key="v1")
    assert filled == {"host": "web-01", "port": 443, "tags": [], "tls": {"verify": True}}
    assert given == {"host": "web-01", "tls": {}}  # the caller's arguments are untouched


def test_mutable_defaults_are_not_shared_between_calls() -> None:
    first = prepare_arguments(SCHEMA, {"host": "a"}, key="v1")
    first["tags"].append("changed")
    assert prepare_arguments(SCHEMA, {"host": "b"}, key="v1")["tags"] == []


def test_each_bad_field_is_named() -> None:
    with pytest.raises(ArgumentsInvalid) as refused:
        prepare_arguments(SCHEMA, {"port": "eighty", "extra": 1}, key="v1")
    assert [(e.path, e.message) for e in refused.value.errors] == [
        ("arguments", "has unknown field(s) extra; allowed fields: host, port, tags, tls"),
        ("arguments.host", "is required"),
        ("arguments.port", "must be an integer, not text"),
    ]


def test_arguments_must_be_an_object() -> None:
    with pytest.raises(ArgumentsInvalid) as refused:
        prepare_arguments(SCHEMA, ["web-01"])
    assert refused.value.errors[0].message == "must be an object of named values"


def test_no_arguments_means_an_empty_object() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "default": 3}}}
    assert prepare_arguments(schema, None) == {"n": 3}


def test_a_key_serves_the_compiled_schema_from_the_cache() -> None:
    from planner import arguments

    prepare_arguments(SCHEMA, {"host": "a"}, key="cache-check")
    cached = arguments._cache["cache-check"]
    prepare_arguments(SCHEMA, {"host": "b"}, key="cache-check")
    assert arguments._cache["cache-check"] is cached
