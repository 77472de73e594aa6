"""Code-defined tools describe themselves: the definition comes from the function's
docstring, signature and return annotation, and passes the catalog's own validation."""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import Field
from typing_extensions import TypedDict

from catalog.definitions.validation import validate_definition
from planner import callables
from planner.code_tools import NotDerivable, derive_definition


class Mode(enum.Enum):
    FAST = "fast"
    FULL = "full"


class Usage(TypedDict):
    mount: str
    used_pct: float


@dataclasses.dataclass
class Report:
    hosts: list[str]
    total: int = 0


def disk_usage(
    mount: Annotated[str, Field(description="Where the disk is mounted")],
    threshold_pct: int = 80,
    mode: Mode = Mode.FAST,
    unit: Literal["GB", "MB"] = "GB",
    tags: list[str] | None = None,
    labels: dict[str, str] | None = None,
) -> Usage:
    """How full a disk is.

    Reads the mount's usage and compares it with a threshold.

    Args:
        mount: ignored here, the annotation says it first
        threshold_pct (int): Percent above which the disk counts as full.
        tags: Labels to attach to the report.
    """
    return {"mount": mount, "used_pct": 1.0}


def test_the_description_is_the_docstrings_first_paragraph() -> None:
    definition = derive_definition(disk_usage, "disk_usage")
    assert definition["description"] == "How full a disk is."
    assert definition["runtime"] == {"kind": "callable", "callable": "disk_usage"}


def test_the_inputs_come_from_the_signature() -> None:
    schema = derive_definition(disk_usage, "disk_usage")["input_schema"]
    properties = schema["properties"]
    assert schema["required"] == ["mount"]
    assert schema["additionalProperties"] is False
    assert properties["mount"] == {"type": "string", "description": "Where the disk is mounted"}
    assert properties["threshold_pct"] == {
        "type": "integer",
        "default": 80,
        "description": "Percent above which the disk counts as full.",
    }
    assert properties["mode"]["enum"] == ["fast", "full"]
    assert properties["mode"]["default"] == "fast"
    assert properties["unit"] == {"type": "string", "enum": ["GB", "MB"], "default": "GB"}
    assert {"type": "array", "items": {"type": "string"}} in properties["tags"]["anyOf"]
    assert properties["tags"]["description"] == "Labels to attach to the report."
    assert {"type": "null"} in properties["labels"]["anyOf"]
    assert "title" not in str(schema) and "$ref" not in str(schema)


def test_the_outputs_come_from_a_typeddict_or_a_dataclass() -> None:
    usage = derive_definition(disk_usage, "disk_usage")["output_schema"]
    assert usage["properties"]["used_pct"] == {"type": "number"}
    assert usage["required"] == ["mount", "used_pct"]

    def report() -> Report:
        """A report."""
        return Report(hosts=[])

    def anything() -> dict[str, Any]:
        """Anything at all."""
        return {}

    assert derive_definition(report, "report")["output_schema"]["properties"]["hosts"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    assert derive_definition(anything, "anything")["output_schema"] == {"type": "object"}


def test_a_derived_definition_passes_the_catalogs_validation() -> None:
    assert validate_definition(derive_definition(disk_usage, "disk_usage")) == []


def test_a_function_that_cannot_describe_itself_says_why() -> None:
    def undocumented(x: int) -> int:
        return x

    def variadic(*hosts: str) -> None:
        """Takes any number of hosts."""

    with pytest.raises(NotDerivable, match="needs a docstring"):
        derive_definition(undocumented, "undocumented")
    with pytest.raises(NotDerivable, match=r"takes \*hosts"):
        derive_definition(variadic, "variadic")


def test_the_registry_exports_every_schema_and_resets_for_tests() -> None:
    before = set(callables.export_schema())
    callables.tool("test_disk_usage", platform="linux", category="storage")(disk_usage)
    try:
        exported = callables.export_schema()["test_disk_usage"]
        assert exported["input_schema"]["required"] == ["mount"]
        definition = callables.definition("test_disk_usage")
        # What export_schema gives is what the definition holds, descriptions included.
        assert exported["input_schema"] == definition["input_schema"]
        assert exported["output_schema"] == definition["output_schema"]
        assert definition["name"] == "test_disk_usage"
        assert (definition["platform"], definition["category"]) == ("linux", "storage")
        assert validate_definition(definition) == []
    finally:
        callables.reset(keep=before)
    assert "test_disk_usage" not in callables.export_schema()
    with pytest.raises(KeyError):
        callables.definition("test_disk_usage")
