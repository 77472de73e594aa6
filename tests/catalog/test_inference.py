"""Inferring a tool's input schema from the signature of its script's main()."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from catalog.definitions.inference import InferenceError, infer_input_schema, param_docs
from catalog.definitions.json_schemas import check_json_schema

SAMPLE_DIR = Path(__file__).parents[2] / "catalog" / "sample_catalog"
SCRIPTED = [
    (path.stem, definition)
    for path in sorted(SAMPLE_DIR.rglob("*.yaml"))
    if (definition := yaml.safe_load(path.read_text())).get("script")
]


def props(source: str) -> dict:
    return infer_input_schema(source).schema["properties"]


def test_simple_annotations_give_json_types() -> None:
    found = props("def main(a: int, b: float, c: str, d: bool, e: list, f: dict): pass")
    assert found == {
        "a": {"type": "integer"},
        "b": {"type": "number"},
        "c": {"type": "string"},
        "d": {"type": "boolean"},
        "e": {"type": "array"},
        "f": {"type": "object"},
    }


def test_parameters_without_default_are_required_and_defaults_are_kept() -> None:
    schema = infer_input_schema("def main(host: str, port: int = 443, tls: bool = True): pass")
    assert schema.schema["required"] == ["host"]
    assert schema.schema["properties"]["port"] == {"type": "integer", "default": 443}
    assert schema.schema["properties"]["tls"] == {"type": "boolean", "default": True}
    assert schema.schema["additionalProperties"] is False
    assert schema.signature == "main(host, port=443, tls=True)"


def test_generic_lists_give_their_item_type() -> None:
    found = props(
        "from typing import List, Sequence\n"
        "def main(a: list[str], b: List[int], c: Sequence[float], d: tuple[int, ...]): pass"
    )
    assert found["a"] == {"type": "array", "items": {"type": "string"}}
    assert found["b"] == {"type": "array", "items": {"type": "integer"}}
    assert found["c"] == {"type": "array", "items": {"type": "number"}}
    assert found["d"] == {"type": "array", "items": {"type": "integer"}}


def test_literal_gives_allowed_values() -> None:
    found = props(
        'from typing import Literal\ndef main(mode: Literal["fast", "full"] = "fast"): pass'
    )
    assert found["mode"] == {"type": "string", "enum": ["fast", "full"], "default": "fast"}


@pytest.mark.parametrize(
    "annotation",
    ["Optional[int]", "int | None", "Union[int, None]", "typing.Optional[int]", "'int | None'"],
)
def test_optional_is_the_inner_type_and_not_required(annotation: str) -> None:
    source = f"import typing\nfrom typing import Optional, Union\ndef main(n: {annotation}): pass"
    schema = infer_input_schema(source).schema
    assert schema["properties"]["n"] == {"type": "integer"}
    assert "required" not in schema


def test_union_of_types_lists_them() -> None:
    assert props("def main(x: int | str): pass")["x"] == {"type": ["integer", "string"]}


def test_none_default_is_optional_without_a_default() -> None:
    schema = infer_input_schema("def main(limit: int = None): pass").schema
    assert schema["properties"]["limit"] == {"type": "integer"}
    assert "required" not in schema


def test_unannotated_parameters_take_their_type_from_the_default() -> None:
    found = props("def main(a, b=3, c='x', d=[1, 2], e=(1, 2)): pass")
    assert found["a"] == {}
    assert found["b"] == {"type": "integer", "default": 3}
    assert found["c"] == {"type": "string", "default": "x"}
    assert found["d"] == {"type": "array", "default": [1, 2]}
    assert found["e"] == {"type": "array", "default": [1, 2]}


def test_computed_defaults_are_left_out_with_a_note() -> None:
    result = infer_input_schema("import os\ndef main(path: str = os.getcwd()): pass")
    assert result.schema["properties"]["path"] == {"type": "string"}
    assert "required" not in result.schema
    assert any("computed" in note for note in result.notes)


def test_keyword_only_and_kwargs() -> None:
    result = infer_input_schema("def main(*, host: str, **extra): pass")
    assert result.schema["required"] == ["host"]
    assert "additionalProperties" not in result.schema
    assert result.signature == "main(*, host, **extra)"
    assert any("**extra" in note for note in result.notes)


def test_annotated_text_becomes_the_description() -> None:
    source = (
        "from typing import Annotated\ndef main(host: Annotated[str, 'The machine to ask.']): pass"
    )
    assert props(source)["host"] == {"type": "string", "description": "The machine to ask."}


def test_google_style_docstring_gives_descriptions() -> None:
    source = '''
def main(host: str, port: int = 443):
    """Probe a port.

    Args:
        host: The machine
            to ask.
        port (int): TCP port to try.

    Returns:
        Whether it answered.
    """
'''
    found = props(source)
    assert found["host"]["description"] == "The machine to ask."
    assert found["port"]["description"] == "TCP port to try."


def test_sphinx_and_numpy_style_docstrings_give_descriptions() -> None:
    assert param_docs(":param host: The machine.\n:param int port: The port.\n:returns: x") == {
        "host": "The machine.",
        "port": "The port.",
    }
    numpy = (
        "Parameters\n----------\nn : int\n    How many.\nm : str\n    Which.\n\n"
        "Returns\n-------\nint\n"
    )
    assert param_docs(numpy) == {"n": "How many.", "m": "Which."}


def test_async_main_is_read_too() -> None:
    assert props("async def main(n: int): pass") == {"n": {"type": "integer"}}


def test_script_without_main_or_with_a_syntax_error_says_so() -> None:
    with pytest.raises(InferenceError, match="no function main"):
        infer_input_schema("def helper(): pass")
    with pytest.raises(InferenceError, match="syntax error at line 2"):
        infer_input_schema("x = 1\ndef main(:\n")


def test_nested_main_does_not_count() -> None:
    with pytest.raises(InferenceError):
        infer_input_schema("class A:\n    def main(self, n: int): pass\n")


@pytest.mark.parametrize(("name", "definition"), SCRIPTED, ids=[n for n, _ in SCRIPTED])
def test_sample_scripts_give_valid_schemas_naming_their_declared_inputs(
    name: str, definition: dict
) -> None:
    schema = infer_input_schema(definition["script"]).schema
    assert check_json_schema(schema, "input_schema") == []
    declared = set((definition.get("input_schema") or {}).get("properties", {}))
    assert set(schema["properties"]) == declared
