"""The LLM formats: OpenAI (strict when possible), Anthropic, MCP and the frontend form.

Plain functions over definitions: no database. The strict-mode rules are checked here by
a checker of their own, written from OpenAI's documented rules, not by the converter.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from catalog.definitions.format import normalize
from catalog.llm import formats as llm_formats
from catalog.llm.formats import (
    ConversionCache,
    drop_strict_nulls,
    llm_description,
    strict_parameters,
    to_anthropic,
    to_frontend,
    to_mcp,
    to_openai,
)
from tests.factories import make_definition

SAMPLE = Path(__file__).resolve().parents[2] / "catalog" / "sample_catalog"
SAMPLES = sorted(SAMPLE.rglob("*.yaml"))

# OpenAI strict mode, as documented: keywords allowed per type, and string formats.
ALLOWED = {
    "string": {"pattern", "format"},
    "number": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "integer": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "array": {"items", "minItems", "maxItems"},
    "object": {"properties", "required", "additionalProperties"},
    "boolean": set(),
    "null": set(),
}
FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}


def strict_violations(schema: Any, path: str = "$", root: bool = True) -> list[str]:
    """Every way ``schema`` breaks OpenAI's strict-mode rules."""
    if not isinstance(schema, dict):
        return [f"{path}: not an object schema"]
    problems = []
    if root:
        if schema.get("type") != "object":
            problems.append(f"{path}: the root must be an object")
        for name, sub in (schema.get("$defs") or {}).items():
            problems += strict_violations(sub, f"{path}.$defs.{name}", root=False)
        schema = {k: v for k, v in schema.items() if k != "$defs"}
    if "$ref" in schema:
        extra = set(schema) - {"$ref", "description"}
        return problems + ([f"{path}: keywords beside $ref: {extra}"] if extra else [])
    if "anyOf" in schema:
        extra = set(schema) - {"anyOf", "description"}
        if extra:
            problems.append(f"{path}: keywords beside anyOf: {extra}")
        for i, branch in enumerate(schema["anyOf"]):
            problems += strict_violations(branch, f"{path}.anyOf[{i}]", root=False)
        return problems
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types
    if not types:
        return [*problems, f"{path}: no type"]
    non_null = [t for t in types if t != "null"]
    if len(non_null) > 1:
        problems.append(f"{path}: more than one non-null type")
    kind = non_null[0] if non_null else "null"
    extra = set(schema) - {"type", "description", "enum"} - ALLOWED[kind]
    if extra:
        problems.append(f"{path}: unsupported keywords {sorted(extra)}")
    if "format" in schema and schema["format"] not in FORMATS:
        problems.append(f"{path}: format {schema['format']}")
    if kind == "object":
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            problems.append(f"{path}: additionalProperties must be false")
        if sorted(schema.get("required", [])) != sorted(properties):
            problems.append(f"{path}: every property must be required")
        for name, sub in properties.items():
            problems += strict_violations(sub, f"{path}.{name}", root=False)
    if kind == "array":
        problems += strict_violations(schema.get("items"), f"{path}[]", root=False)
    return problems


def closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def nested(depth: int) -> dict[str, Any]:
    """Closed objects ``depth`` levels deep."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = closed({"child": schema})
    return schema


def sample_definitions() -> list[dict[str, Any]]:
    return [normalize(yaml.safe_load(path.read_text())) for path in SAMPLES]


# -- OpenAI strict -----------------------------------------------------------------------


def test_a_closed_schema_is_exported_strict_with_optional_inputs_made_nullable() -> None:
    definition = make_definition(
        input_schema=closed(
            {
                "host": {"type": "string", "description": "Target host."},
                "threshold_pct": {"type": "integer", "minimum": 0, "default": 80},
                "mode": {"type": "string", "enum": ["fast", "full"]},
            },
            required=["host"],
        )
    )

    function = to_openai(definition)["function"]

    assert function["strict"] is True
    parameters = function["parameters"]
    assert parameters["required"] == ["host", "threshold_pct", "mode"]
    assert parameters["properties"]["host"] == {"type": "string", "description": "Target host."}
    threshold = parameters["properties"]["threshold_pct"]
    assert threshold["type"] == ["integer", "null"]
    assert "default" not in threshold
    assert "(80)" in threshold["description"]
    assert parameters["properties"]["mode"]["enum"] == ["fast", "full", None]
    assert strict_violations(parameters) == []


@pytest.mark.parametrize(
    ("why", "schema"),
    [
        ("open root", {"type": "object", "properties": {"a": {"type": "string"}}}),
        ("free-form map", closed({"labels": {"type": "object", "additionalProperties": True}})),
        ("map of strings", closed({"m": {"type": "object", "additionalProperties": {}}})),
        ("patternProperties", closed({"m": {"type": "object", "patternProperties": {"^x": {}}}})),
        ("unsupported format", closed({"url": {"type": "string", "format": "uri"}})),
        ("oneOf", closed({"v": {"oneOf": [{"type": "string"}, {"type": "integer"}]}})),
        ("uniqueItems", closed({"v": {"type": "array", "items": {}, "uniqueItems": True}})),
        ("array without items", closed({"v": {"type": "array"}})),
        ("untyped value", closed({"v": {"description": "anything"}})),
        ("pattern and length", closed({"v": {"type": "string", "pattern": "^a", "minLength": 2}})),
        ("remote $ref", closed({"v": {"$ref": "https://example.org/s.json"}})),
        ("too deep", nested(11)),
    ],
)
def test_a_schema_strict_mode_cannot_express_is_exported_without_strict(
    why: str, schema: dict[str, Any]
) -> None:
    function = to_openai(make_definition(input_schema=schema))["function"]

    assert "strict" not in function, why
    assert function["parameters"] == schema
    assert strict_parameters(schema) is None


def test_ten_levels_of_objects_are_strict_eleven_are_not() -> None:
    assert strict_parameters(nested(10)) is not None
    assert strict_parameters(nested(11)) is None


def test_string_lengths_become_an_equivalent_pattern() -> None:
    schema = closed({"name": {"type": "string", "minLength": 2, "maxLength": 5}}, ["name"])

    name = strict_parameters(schema)["properties"]["name"]  # type: ignore[index]

    assert name == {"type": "string", "pattern": "^[\\s\\S]{2,5}$"}
    validator = Draft202012Validator(name)
    assert [validator.is_valid(v) for v in ("a", "ab", "abcde", "abcdef")] == [
        False,
        True,
        True,
        False,
    ]


def test_several_types_become_any_of_one_branch_per_type() -> None:
    schema = closed({"d": {"type": ["number", "string"], "minimum": 0, "description": "x"}}, ["d"])

    d = strict_parameters(schema)["properties"]["d"]  # type: ignore[index]

    assert d == {
        "anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}],
        "description": "x",
    }


def test_nested_objects_and_local_refs_are_made_strict() -> None:
    schema = {
        **closed(
            {
                "target": closed(
                    {"host": {"type": "string"}, "port": {"type": "integer"}}, ["host"]
                ),
                "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "maxItems": 3},
                "owner": {"$ref": "#/$defs/tag"},
            },
            ["target"],
        ),
        "$defs": {"tag": {"type": "string", "pattern": "^[a-z]+$"}},
    }

    strict = strict_parameters(schema)

    assert strict is not None
    assert strict_violations(strict) == []
    assert strict["properties"]["target"]["properties"]["port"]["type"] == ["integer", "null"]
    assert strict["properties"]["owner"]["anyOf"] == [{"$ref": "#/$defs/tag"}, {"type": "null"}]
    Draft202012Validator.check_schema(strict)
    assert Draft202012Validator(strict).is_valid(
        {"target": {"host": "a", "port": None}, "tags": None, "owner": "ops"}
    )


def test_nulls_that_stand_for_not_given_are_dropped_before_validation() -> None:
    schema = closed(
        {
            "host": {"type": "string"},
            "limit": {"type": "integer", "default": 10},
            "note": {"type": ["string", "null"]},
            "target": closed({"port": {"type": "integer"}}),
        },
        ["host"],
    )

    arguments = drop_strict_nulls(
        schema, {"host": "a", "limit": None, "note": None, "target": {"port": None}}
    )

    assert arguments == {"host": "a", "note": None, "target": {}}
    assert Draft202012Validator(schema).is_valid(arguments)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_tool_exports_valid_schemas_and_strict_ones_follow_the_rules(
    path: Path,
) -> None:
    definition = normalize(yaml.safe_load(path.read_text()))
    openai = to_openai(definition)
    parameters = openai["function"]["parameters"]

    Draft202012Validator.check_schema(parameters)
    Draft202012Validator.check_schema(to_anthropic(definition)["input_schema"])
    Draft202012Validator.check_schema(to_mcp(definition)["inputSchema"])
    if not openai["function"].get("strict"):
        return
    assert strict_violations(parameters) == []
    # The examples' inputs, as a strict-mode model would send them (every optional input
    # present, null when not given), are valid, and valid again for the tool's own schema
    # once those nulls are dropped.
    strict = Draft202012Validator(parameters)
    own = Draft202012Validator(definition["input_schema"])
    for capability in definition["capabilities"]:
        for pattern in capability["patterns"]:
            for example in pattern["examples"]:
                sent = {name: None for name in parameters["properties"]} | example["input"]
                assert strict.is_valid(sent), (sent, list(strict.iter_errors(sent)))
                assert own.is_valid(drop_strict_nulls(definition["input_schema"], sent))


def test_most_sample_tools_are_strict() -> None:
    strict = [d["name"] for d in sample_definitions() if to_openai(d)["function"].get("strict")]

    assert len(strict) >= 60


# -- descriptions and the other formats ----------------------------------------------------


def test_the_llm_description_adds_a_few_use_cases_and_stays_short() -> None:
    definition = make_definition(description="Check disks.")
    definition["capabilities"][0]["patterns"][0]["typical_use_cases"] = [
        "is the disk full",
        "which volume is almost full",
        "free space on /var",
        "a fourth case",
    ]

    assert llm_description(definition) == (
        "Check disks. Use for: is the disk full; which volume is almost full; free space on /var."
    )
    long = make_definition(description="word " * 400)
    assert len(llm_description(long)) <= llm_formats.MAX_DESCRIPTION_CHARS


def test_anthropic_tools_carry_name_description_and_input_schema() -> None:
    definition = make_definition()

    tool = to_anthropic(definition)

    assert set(tool) == {"name", "description", "input_schema"}
    assert tool["input_schema"] == definition["input_schema"]


def test_mcp_tools_carry_title_schemas_and_annotations() -> None:
    definition = make_definition()

    tool = to_mcp(definition)

    assert tool["name"] == "disk_usage"
    assert tool["title"] == "Disk usage"
    assert tool["inputSchema"] == definition["input_schema"]
    assert tool["outputSchema"] == definition["output_schema"]
    assert tool["annotations"] == {"title": "Disk usage", "readOnlyHint": True}
    assert llm_formats.mcp_tools_list([definition]) == {"tools": [tool]}


def test_mcp_marks_a_tool_that_needs_approval_as_destructive() -> None:
    definition = make_definition()
    definition["capabilities"][0]["patterns"][0]["policy"]["requires_approval"] = True

    annotations = to_mcp(definition)["annotations"]

    assert annotations["readOnlyHint"] is False
    assert annotations["destructiveHint"] is True


def test_mcp_leaves_out_an_output_schema_without_properties() -> None:
    assert "outputSchema" not in to_mcp(make_definition(output_schema={"type": "object"}))


def test_the_frontend_form_lists_parameters() -> None:
    definition = normalize(
        make_definition(
            input_schema=closed(
                {
                    "host": {"type": "string", "description": "Target host."},
                    "names": {"type": "array", "items": {"type": "string"}, "default": []},
                    "mode": {"enum": ["a", "b"]},
                },
                ["host"],
            )
        )
    )

    tool = to_frontend(definition)

    assert tool["title"] == "Disk usage"
    assert tool["platform"] == "linux"
    assert tool["tags"] == ["capacity", "storage"]
    assert tool["version"] == "1.0.0"
    assert tool["capabilities"] == ["disk_capacity_check"]
    assert tool["parameters"] == [
        {
            "name": "host",
            "type": "string",
            "required": True,
            "description": "Target host.",
            "default": None,
            "enum": None,
        },
        {
            "name": "names",
            "type": "array of string",
            "required": False,
            "description": "",
            "default": [],
            "enum": None,
        },
        {
            "name": "mode",
            "type": "string",
            "required": False,
            "description": "",
            "default": None,
            "enum": ["a", "b"],
        },
    ]


def test_converters_do_not_change_the_definition() -> None:
    definition = normalize(make_definition())
    before = copy.deepcopy(definition)

    for fmt in llm_formats.FORMATS:
        llm_formats.convert(definition, fmt)

    assert definition == before


# -- the cache ----------------------------------------------------------------------------


def test_the_conversion_cache_loads_only_what_it_does_not_hold() -> None:
    cache = ConversionCache(maxsize=3)
    calls: list[list[Any]] = []

    def load(keys: list[Any]) -> dict[Any, dict[str, Any]]:
        calls.append(keys)
        return {key: {"k": key} for key in keys if key != "gone"}

    assert cache.get_many(["a", "b"], load) == [{"k": "a"}, {"k": "b"}]
    assert cache.get_many(["b", "c", "gone"], load) == [{"k": "b"}, {"k": "c"}, None]
    assert calls == [["a", "b"], ["c", "gone"]]
    cache.get_many(["d"], load)  # evicts the least recently used: "a"
    cache.get_many(["a"], load)
    assert calls[-1] == ["a"]


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("disk_usage", "Disk usage"),
        ("getWeatherByCity", "Get Weather By City"),
        ("ChatOCR", "Chat OCR"),
        ("calculate_BMI", "Calculate BMI"),
    ],
)
def test_a_title_reads_a_name_kept_as_written_in_words(name: str, title: str) -> None:
    assert llm_formats.title_of({"name": name}) == title
