"""Import from what people already have: OpenAI function-calling tools, an MCP tools/list
result and Anthropic tool definitions, their schemas normalised to JSON Schema with each
change reported, and what cannot be normalised refused with nothing imported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.definitions.validation import check_definition
from catalog.formats.files import ReadResult, parse_text, read_path
from catalog.formats.foreign import slugify, tool_name
from catalog.formats.uploads import StagedImport
from catalog.models import Tenant, Tool
from catalog.services import ImportFailed
from tests.factories import make_definition

SAMPLES = Path(__file__).resolve().parent / "foreign_samples"
SAMPLE_CATALOG = Path(__file__).resolve().parents[2] / "catalog" / "sample_catalog"


def read(name: str) -> ReadResult:
    return read_path(SAMPLES / name)


def notes_of(result: ReadResult) -> list[str]:
    return [str(note) for source in result.sources for note in source.notes]


def changes(result: ReadResult) -> dict[str, str]:
    """Every note on a schema or name, as ``{"tool: path": message}``."""
    out = {}
    for source in result.sources:
        for note in source.notes:
            if note.path:
                tool = note.tool
                out[f"{tool}: {note.path}"] = note.message
    return out


def one_tool(item: dict[str, Any]) -> ReadResult:
    return parse_text(json.dumps([item]), "tools.json")


def openai_tool(parameters: Any, name: str = "tool", **extra: Any) -> dict[str, Any]:
    function = {"name": name, "description": "Does a thing.", "parameters": parameters, **extra}
    return {"type": "function", "function": function}


def schema_of(result: ReadResult) -> dict[str, Any]:
    assert not result.problems, result.problems
    (source,) = result.sources
    schema: dict[str, Any] = source.data["input_schema"]
    return schema


def import_file(tenant: Tenant, name: str, **kwargs: Any) -> services.ImportReport:
    result = read(name)
    return services.import_definitions(
        tenant, result.sources, actor=None, problems=result.problems, **kwargs
    )


# -- each format imports -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_list_of_openai_function_tools_imports_as_custom_tools(tenant: Tenant) -> None:
    report = import_file(tenant, "openai_tools.json")
    assert report.ok and report.count("new") == 3
    tool = Tool.objects.for_tenant(tenant).get(name="getWeather")
    assert (tool.platform, tool.category) == ("custom", "imported")
    version = tool.current_version
    assert version is not None
    assert version.description == "Get the current weather and a forecast for a city."
    assert sorted(version.tags) == ["imported", "openai"]
    assert version.metadata == {
        "source_format": "openai",
        "original_name": "getWeather",
        "strict": False,
    }
    assert version.runtime_kind == "none"
    assert version.input_schema["properties"]["days"] == {
        "type": "integer",
        "description": "Days of forecast",
        "default": 3,
        "minimum": 1,
        "maximum": 14,
    }


@pytest.mark.django_db
def test_an_mcp_tools_list_result_in_its_json_rpc_envelope_imports(tenant: Tenant) -> None:
    report = import_file(tenant, "mcp_tools_list.json")
    assert report.ok, report.problems
    names = sorted(Tool.objects.for_tenant(tenant).values_list("name", flat=True))
    assert names == ["github_create_issue", "listDirectory", "read_file"]
    listing = Tool.objects.for_tenant(tenant).get(name="listDirectory").current_version
    assert listing is not None
    assert listing.metadata["annotations"] == {"title": "List directory", "readOnlyHint": True}
    entries = listing.output_schema["properties"]["entries"]
    assert entries["items"]["properties"]["is_dir"] == {"type": "boolean"}
    read_file = Tool.objects.for_tenant(tenant).get(name="read_file").current_version
    assert read_file is not None
    assert read_file.metadata["title"] == "Read file"
    assert sorted(read_file.tags) == ["imported", "mcp"]


def test_an_mcp_result_without_the_envelope_and_its_next_page_are_read() -> None:
    tool = {"name": "ping", "description": "Ping a host.", "inputSchema": {"type": "object"}}
    result = parse_text(json.dumps({"tools": [tool], "nextCursor": "page-2"}), "mcp.json")
    assert not result.problems
    assert result.sources[0].data["name"] == "ping"
    assert any('nextCursor "page-2"' in note for note in notes_of(result))


@pytest.mark.django_db
def test_anthropic_tool_definitions_import_from_a_tools_list(tenant: Tenant) -> None:
    report = import_file(tenant, "anthropic_tools.json")
    assert report.ok, report.problems
    assert report.count("new") == 3
    calculate = Tool.objects.for_tenant(tenant).get(name="calculate").current_version
    assert calculate is not None
    assert calculate.metadata["extra"] == {"cache_control": {"type": "ephemeral"}}
    assert calculate.input_schema["properties"]["point"] == {
        "type": "array",
        "prefixItems": [{"type": "number"}, {"type": "number"}],
        "minItems": 2,
        "maxItems": 2,
    }


def test_anthropic_tools_may_be_a_bare_list_in_yaml() -> None:
    text = yaml.safe_dump(
        [{"name": "ping", "description": "Ping a host.", "input_schema": {"type": "object"}}]
    )
    result = parse_text(text, "tools.yaml")
    assert not result.problems
    assert result.sources[0].data["metadata"]["source_format"] == "anthropic"


def test_the_older_openai_functions_list_and_the_flat_responses_form_are_read() -> None:
    legacy = {"name": "ping", "description": "Ping a host.", "parameters": {"type": "object"}}
    flat = {"type": "function", **legacy, "name": "trace", "strict": True}
    result = parse_text(json.dumps({"functions": [legacy]}), "functions.json")
    assert result.sources[0].data["metadata"]["source_format"] == "openai-functions"
    assert result.sources[0].data["tags"] == ["imported", "openai"]
    result = parse_text(json.dumps([flat]), "responses.json")
    assert result.sources[0].data["name"] == "trace"
    assert result.sources[0].data["metadata"]["strict"] is True


def test_an_openai_function_without_parameters_takes_no_arguments() -> None:
    result = one_tool({"type": "function", "function": {"name": "now", "description": "Time."}})
    assert schema_of(result) == {"type": "object", "properties": {}}
    assert "tool takes no arguments" in changes(result)["now: input_schema"]


def test_every_converted_sample_is_a_valid_quiver_definition() -> None:
    for name in ("openai_tools.json", "mcp_tools_list.json", "anthropic_tools.json"):
        result = read(name)
        assert not result.problems
        for source in result.sources:
            assert check_definition(source.data)[0] == [], source.label


# -- messy types, each change reported ---------------------------------------------------


def test_messy_openai_types_are_normalised_and_each_change_reported_by_tool_and_path() -> None:
    found = changes(read("openai_tools.json"))
    expected = {
        "getWeather: input_schema.properties.city.type": '"String" → "string"',
        "getWeather: input_schema.properties.days.type": '"int" → "integer"',
        "getWeather: input_schema.properties.days.default": '"3" → 3',
        "getWeather: input_schema.properties.include_hourly.type": '"bool" → "boolean"',
        "getWeather: input_schema.properties.include_hourly.default": '"false" → false',
        "search_flights: input_schema.type": 'missing → "object"',
        "search_flights: input_schema.properties.date.type": (
            '"datetime" → "string", with format "date-time"'
        ),
        "search_flights: input_schema.properties.passengers.type": '"Integer" → "integer"',
        "search_flights: input_schema.properties.max_price.type": '"float" → "number"',
        "search_flights: input_schema.properties.cabin.type": (
            '"Optional[str]" → ["string", "null"]'
        ),
        "search_flights: input_schema.properties.filters.type": '"dict" → "object"',
        "search_flights: input_schema.properties.filters.properties.airlines.type": (
            '"List[str]" → "array", with items {"type": "string"}'
        ),
        "search_flights: input_schema.properties.filters.properties.stops.type": (
            '"long" → "integer"'
        ),
        "search_flights: input_schema.properties.price_range.type": '"tuple" → "array"',
        "search_flights: input_schema.properties.price_range.items": (
            "a list of schemas → prefixItems"
        ),
        "send_email: input_schema.properties.to.items": '"str" → {"type": "string"}',
        "send_email: input_schema.properties.body.type": '"text" → "string"',
        "send_email: input_schema.properties.attachments.type": (
            '"any" → no type (any value is allowed)'
        ),
    }
    for where, message in expected.items():
        assert where in found, where
        assert found[where].startswith(message), (where, found[where])


def test_the_normalised_schema_is_what_the_notes_say() -> None:
    result = read("openai_tools.json")
    flights = result.sources[1].data["input_schema"]
    assert list(flights) == ["type", "properties", "required"]
    assert flights["required"] == ["origin", "destination"]
    props = flights["properties"]
    assert props["cabin"] == {"type": ["string", "null"]}
    assert props["price_range"] == {
        "type": "array",
        "prefixItems": [{"type": "number"}, {"type": "number"}],
    }
    assert props["filters"]["properties"]["airlines"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    assert "required" not in props["filters"]
    assert result.sources[2].data["input_schema"]["properties"]["attachments"] == {}


@pytest.mark.parametrize(
    ("written", "schema"),
    [
        ("Dict", {"type": "object"}),
        ("map", {"type": "object"}),
        ("OBJECT", {"type": "object"}),
        ("List", {"type": "array"}),
        ("set", {"type": "array", "uniqueItems": True}),
        ("double", {"type": "number"}),
        ("Number", {"type": "number"}),
        ("decimal", {"type": "number"}),
        ("Boolean", {"type": "boolean"}),
        ("None", {"type": "null"}),
        ("NoneType", {"type": "null"}),
        ("Any", {}),
        ("int | None", {"type": ["integer", "null"]}),
        ("Union[int, str]", {"type": ["integer", "string"]}),
        (
            "typing.Optional[typing.List[int]]",
            {"type": ["array", "null"], "items": {"type": "integer"}},
        ),
        ("dict[str, Any]", {"type": "object"}),
        ("Tuple[int, ...]", {"type": "array", "items": {"type": "integer"}}),
        ("Literal['asc', 'desc']", {"type": "string", "enum": ["asc", "desc"]}),
        ("string[]", {"type": "array", "items": {"type": "string"}}),
        ("uuid", {"type": "string", "format": "uuid"}),
    ],
)
def test_type_names_in_any_case_and_python_forms_become_json_schema(
    written: str, schema: dict[str, Any]
) -> None:
    result = one_tool(openai_tool({"type": "object", "properties": {"x": {"type": written}}}))
    assert schema_of(result)["properties"]["x"] == schema
    (note,) = [n for n in result.sources[0].notes if n.path == "input_schema.properties.x.type"]
    assert note.message.startswith(json.dumps(written))


def test_a_list_of_type_names_is_normalised_member_by_member() -> None:
    result = one_tool(
        openai_tool({"type": "object", "properties": {"x": {"type": ["str", "None"]}}})
    )
    assert schema_of(result)["properties"]["x"] == {"type": ["string", "null"]}
    assert changes(result)["tool: input_schema.properties.x.type"] == (
        '["str", "None"] → ["string", "null"]'
    )


def test_optional_true_leaves_a_property_out_of_required_and_false_puts_it_in() -> None:
    result = one_tool(
        openai_tool(
            {
                "type": "object",
                "properties": {
                    "a": {"type": "string", "optional": True},
                    "b": {"type": "string", "optional": False},
                    "c": {"type": "string", "optional": "true"},
                },
                "required": ["a"],
            }
        )
    )
    schema = schema_of(result)
    assert schema["required"] == ["b"]
    assert all("optional" not in prop for prop in schema["properties"].values())
    found = changes(result)
    assert found["tool: input_schema.properties.a.optional"] == (
        'true: removed, and "a" taken out of input_schema.required'
    )
    assert found["tool: input_schema.properties.b.optional"] == (
        'false: removed, and "b" added to input_schema.required'
    )
    assert found["tool: input_schema.properties.c.optional"].startswith("true: removed")


def test_required_true_on_a_property_moves_to_the_parents_list_and_false_is_dropped() -> None:
    result = read("openai_tools.json")
    found = changes(result)
    assert found["search_flights: input_schema.properties.origin.required"] == (
        "true: moved to input_schema.required"
    )
    assert found[
        "search_flights: input_schema.properties.filters.properties.stops.required"
    ].startswith("false: removed")


def test_properties_written_as_a_list_of_named_parameters_become_a_mapping() -> None:
    result = read("anthropic_tools.json")
    note = result.sources[2].data["input_schema"]
    assert note == {
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "pinned": {"type": "boolean"},
        },
        "required": ["text"],
    }
    found = changes(result)
    assert found["record_note: input_schema.properties.pinned.default"] == (
        '"yes" removed: it is not a boolean'
    )


def test_enum_values_and_defaults_are_coerced_only_when_unambiguous() -> None:
    result = one_tool(
        openai_tool(
            {
                "type": "object",
                "properties": {
                    "level": {"type": "integer", "enum": ["1", "2"], "default": "10"},
                    "code": {"type": "string", "enum": [200, 404]},
                    "ratio": {"type": "number", "default": "0.5"},
                    "mode": {"type": "string", "enum": ["a", "b"], "default": "c"},
                },
            }
        )
    )
    props = schema_of(result)["properties"]
    assert props["level"]["enum"] == [1, 2]
    assert "default" not in props["level"]  # 10 is not one of the enum
    assert props["code"]["enum"] == ["200", "404"]
    assert props["ratio"]["default"] == 0.5
    assert "default" not in props["mode"]
    found = changes(result)
    assert found["tool: input_schema.properties.level.enum[0]"].startswith('"1" → 1')
    assert found["tool: input_schema.properties.level.default"] == (
        "10 removed: it is not one of the enum"
    )
    assert found["tool: input_schema.properties.code.enum[1]"].startswith('404 → "404"')


def test_older_drafts_and_openapi_keywords_become_draft_2020_12() -> None:
    result = one_tool(
        openai_tool(
            {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {
                    "n": {"type": "integer", "minimum": "0", "exclusiveMinimum": True},
                    "label": {"type": "string", "nullable": True},
                    "pair": {
                        "type": "array",
                        "items": [{"type": "string"}],
                        "additionalItems": False,
                    },
                    "card": {"type": "string"},
                    "cvv": {"type": "string"},
                },
                "dependencies": {"card": ["cvv"]},
                "required": True,
            }
        )
    )
    schema = schema_of(result)
    assert "$schema" not in schema and "required" not in schema
    assert schema["properties"]["n"] == {"type": "integer", "exclusiveMinimum": 0}
    assert schema["properties"]["label"] == {"type": ["string", "null"]}
    assert schema["properties"]["pair"] == {
        "type": "array",
        "prefixItems": [{"type": "string"}],
        "items": False,
    }
    assert schema["dependentRequired"] == {"card": ["cvv"]}
    assert check_definition(result.sources[0].data)[0] == []
    found = changes(result)
    assert "input_schema.$schema" in " ".join(found)
    exclusive = [
        n.message
        for n in result.sources[0].notes
        if n.path == "input_schema.properties.n.exclusiveMinimum"
    ]
    assert exclusive == ['true → "0", the minimum made exclusive', '"0" → 0']
    assert found["tool: input_schema.properties.label.nullable"] == (
        'true → type ["string", "null"]'
    )


def test_nested_properties_without_a_type_are_objects() -> None:
    result = one_tool(
        openai_tool({"type": "object", "properties": {"opts": {"properties": {"x": {}}}}})
    )
    assert schema_of(result)["properties"]["opts"]["type"] == "object"
    assert changes(result)["tool: input_schema.properties.opts.type"] == (
        'missing → "object" (it has properties)'
    )


def test_a_clean_schema_is_taken_as_it_is_with_no_notes_but_the_format() -> None:
    parameters = {
        "type": "object",
        "properties": {"q": {"type": "string", "minLength": 1}},
        "required": ["q"],
        "additionalProperties": False,
    }
    result = one_tool(openai_tool(parameters, name="search"))
    assert schema_of(result) == parameters
    (note,) = result.sources[0].notes
    assert note.path == "" and note.message.startswith("read as OpenAI function-calling tools")


def test_names_are_kept_as_written_where_every_llm_format_accepts_them() -> None:
    assert tool_name("getWeather") == "getWeather"
    assert tool_name("ChatOCR") == "ChatOCR"
    assert tool_name("3d-render") == "3d-render"
    assert tool_name("math.gcd") == "math_gcd"
    assert tool_name("Résumé Parser") == "Resume_Parser"
    assert tool_name(" spaced ") == "spaced"
    assert len(tool_name("x" * 100)) == 64
    assert tool_name("!!!") == ""


def test_an_illegal_name_is_rewritten_and_reported() -> None:
    found = changes(one_tool(openai_tool({"type": "object"}, name="weather.get now")))
    assert found["weather.get now: name"].startswith('"weather.get now" → "weather_get_now"')


def test_categories_become_quiver_categories() -> None:
    assert slugify("getWeather") == "get_weather"
    assert slugify("getHTTPStatus") == "get_http_status"
    assert slugify("github.create_issue") == "github_create_issue"
    assert slugify("Résumé Parser") == "resume_parser"
    assert slugify("3d-render") == "tool_3d-render"
    assert slugify("already_fine") == "already_fine"
    assert len(slugify("x" * 100)) == 64
    assert slugify("!!!") == ""


# -- the habits of public function-calling data sets ---------------------------------------


def one_property(schema: Any, required: bool = True) -> ReadResult:
    parameters = {"type": "object", "properties": {"p": schema}}
    if required:
        parameters["required"] = ["p"]
    return one_tool(openai_tool(parameters))


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("ArrayList", {"type": "array"}),
        ("LinkedList", {"type": "array"}),
        ("HashSet", {"type": "array", "uniqueItems": True}),
        ("HashMap", {"type": "object"}),
        ("List<String>", {"type": "array", "items": {"type": "string"}}),
        ("Map<String, Integer>", {"type": "object", "additionalProperties": {"type": "integer"}}),
        ("Long", {"type": "integer"}),
        ("Double", {"type": "number"}),
        ("Str", {"type": "string"}),
        ("BOOL", {"type": "boolean"}),
    ],
)
def test_java_and_python_type_names_become_json_schema_types(
    written: str, meant: dict[str, Any]
) -> None:
    result = one_property({"type": written})
    assert schema_of(result)["properties"]["p"] == meant
    assert changes(result)["tool: input_schema.properties.p.type"].startswith(f'"{written}" → ')


def test_an_empty_type_allows_any_value_and_says_so() -> None:
    result = one_property({"type": "", "description": "Anything"})
    assert schema_of(result)["properties"]["p"] == {"description": "Anything"}
    assert changes(result)["tool: input_schema.properties.p.type"] == (
        '"" removed: with no type given, any value is allowed'
    )


@pytest.mark.parametrize("written", ["yes", "Yes", "1", 1, "y"])
def test_optional_yes_leaves_the_property_out_of_required(written: Any) -> None:
    result = one_property({"type": "string", "optional": written})
    assert schema_of(result)["required"] == []
    assert (
        "taken out of input_schema.required"
        in (changes(result)["tool: input_schema.properties.p.optional"])
    )


def test_optional_no_puts_the_property_in_required() -> None:
    result = one_property({"type": "string", "optional": "no"}, required=False)
    assert schema_of(result)["required"] == ["p"]


def test_allowed_strings_on_an_array_are_the_values_of_its_items() -> None:
    result = one_property({"type": "array", "enum": ["rock", "jazz"]})
    assert schema_of(result)["properties"]["p"] == {
        "type": "array",
        "items": {"type": "string", "enum": ["rock", "jazz"]},
    }
    assert changes(result)["tool: input_schema.properties.p.enum"].startswith("moved to items")


def test_allowed_arrays_on_an_array_stay_as_written() -> None:
    result = one_property({"type": "array", "enum": [["a"], ["b"]]})
    assert schema_of(result)["properties"]["p"] == {"type": "array", "enum": [["a"], ["b"]]}


@pytest.mark.parametrize(
    ("kind", "values", "kept"),
    [
        ("boolean", [True, False, "dontcare"], [True, False]),
        ("integer", [1, 2, "dontcare"], [1, 2]),
        ("number", [0.5, "don't care", "n/a"], [0.5]),
    ],
)
def test_a_no_preference_placeholder_among_typed_values_is_dropped_and_reported(
    kind: str, values: list[Any], kept: list[Any]
) -> None:
    result = one_property({"type": kind, "enum": values})
    assert schema_of(result)["properties"]["p"] == {"type": kind, "enum": kept}
    assert "removed: not a" in changes(result)["tool: input_schema.properties.p.enum"]


def test_a_value_with_no_reading_is_still_refused() -> None:
    result = one_property({"type": "integer", "enum": [1, "maybe"]})
    (problem,) = result.problems
    assert (problem.tool, problem.path) == ("tool", "input_schema.properties.p.enum[1]")
    assert problem.message == '"maybe" is not an integer: fix the type or the value'


def test_a_dontcare_string_among_strings_is_an_ordinary_value() -> None:
    result = one_property({"type": "string", "enum": ["cheap", "dontcare"]})
    assert schema_of(result)["properties"]["p"]["enum"] == ["cheap", "dontcare"]


# -- refusals ----------------------------------------------------------------------------


def test_what_cannot_be_normalised_is_refused_per_tool_and_path_saying_why() -> None:
    result = read("refused_tools.json")
    assert result.sources == []
    problems = {
        (p.file + (f" ({p.tool})" if p.tool else ""), p.path): p.message for p in result.problems
    }
    assert problems[
        ("refused_tools.json#1 (make_widget)", "input_schema.properties.shape.type")
    ].startswith('"widget" is not a type JSON Schema knows')
    assert (
        "points outside this schema (https://example.com/schemas/spec.json)"
        in (problems[("refused_tools.json#1 (make_widget)", "input_schema.properties.spec.$ref")])
    )
    assert problems[("refused_tools.json#2 (no_description)", "description")] == (
        "has no description; agents need one to choose a tool"
    )
    assert problems[("refused_tools.json#3 (takes_a_list)", "input_schema.type")].startswith(
        'is "array": parameters must describe an object of named arguments'
    )
    assert "only function tools can be imported" in problems[("refused_tools.json#4", "type")]


@pytest.mark.django_db
def test_a_refused_tool_means_nothing_is_imported(tenant: Tenant) -> None:
    good = read("openai_tools.json")
    bad = read("refused_tools.json")
    with pytest.raises(ImportFailed) as failed:
        services.import_definitions(
            tenant,
            good.sources + bad.sources,
            actor=None,
            problems=good.problems + bad.problems,
        )
    assert len(failed.value.report.problems) == 5
    assert not Tool.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize(
    ("schema", "path", "reason"),
    [
        ("string", "input_schema", 'parameters is "string", not a JSON Schema object'),
        ({"type": "object", "properties": ["a"]}, "input_schema.properties", "is a list, but not"),
        ({"type": 7}, "input_schema.type", "must be a type name or a list of them, not 7"),
        (
            {"type": "object", "properties": {"x": {"type": "integer", "enum": ["one"]}}},
            "input_schema.properties.x.enum[0]",
            '"one" is not an integer: fix the type or the value',
        ),
        (
            {"type": "object", "properties": {"x": {"type": "str", "optional": "maybe"}}},
            "input_schema.properties.x.optional",
            'must be true or false, not "maybe"',
        ),
    ],
)
def test_other_schemas_that_cannot_be_normalised_are_refused(
    schema: Any, path: str, reason: str
) -> None:
    result = one_tool(openai_tool(schema))
    assert result.sources == []
    assert [(p.path, p.message[: len(reason)]) for p in result.problems] == [(path, reason)]


def test_a_tool_without_a_name_or_with_an_unusable_one_is_refused() -> None:
    result = one_tool({"type": "function", "function": {"description": "x", "parameters": {}}})
    assert [(p.path, p.message) for p in result.problems] == [
        ("name", "is missing: every tool needs a name")
    ]
    result = one_tool(openai_tool({}, name="???"))
    assert result.problems[0].message.startswith('"???" has no letters or digits')


def test_a_schema_nested_too_deep_or_with_a_bound_that_is_not_a_number_is_refused() -> None:
    deep: dict[str, Any] = {"type": "object"}
    node = deep
    for _ in range(100):
        node["properties"] = {"x": {"type": "object"}}
        node = node["properties"]["x"]
    result = one_tool(openai_tool(deep))
    assert result.sources == []
    # Read from a file, the JSON itself is refused first (catalog.definitions.safe_data).
    assert result.problems[0].message.startswith("is nested too deep (at most 64 levels")
    result = one_tool(openai_tool({"type": "object", "properties": {"n": {"maximum": "lots"}}}))
    assert [(p.path, p.message) for p in result.problems] == [
        ("input_schema.properties.n.maximum", 'must be a number, not "lots"')
    ]


def test_the_tools_of_a_whole_chat_request_body_are_read() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "weather in Paris?"}],
        "tools": [openai_tool({"type": "object"}, name="weather")],
    }
    result = parse_text(json.dumps(body), "request.json")
    assert [s.data["name"] for s in result.sources] == ["weather"]


def test_a_json_rpc_error_is_refused() -> None:
    text = json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "nope"}})
    result = parse_text(text, "mcp.json")
    assert [str(p) for p in result.problems] == [
        "mcp.json: is a JSON-RPC error response (nope), not tools"
    ]


# -- Quiver's own format is unaffected ---------------------------------------------------


def test_a_quiver_file_is_read_exactly_as_before() -> None:
    definition = make_definition(name="disk_usage")
    for text, name in (
        (yaml.safe_dump(definition), "a.yaml"),
        (json.dumps([definition]), "b.json"),
    ):
        result = parse_text(text, name)
        assert not result.problems
        assert [s.data for s in result.sources] == [definition]
        assert notes_of(result) == []


def test_a_quiver_definition_with_input_schema_is_never_taken_for_anthropic() -> None:
    minimal = {
        "name": "ping",
        "description": "Ping a host.",
        "input_schema": {"type": "object"},
    }
    for quiver_field in ({"platform": "linux"}, {"category": "network"}, {"tags": ["x"]}):
        result = parse_text(json.dumps({**minimal, **quiver_field}), "ping.json")
        assert result.sources[0].data == {**minimal, **quiver_field}
        assert result.sources[0].notes == ()


def test_the_sample_catalog_is_read_with_no_notes() -> None:
    result = read_path(SAMPLE_CATALOG)
    assert result.sources and not result.problems
    assert notes_of(result) == []


def test_quiver_and_foreign_tools_may_share_a_file() -> None:
    quiver = make_definition(name="disk_usage")
    mcp = {"name": "ping", "description": "Ping a host.", "inputSchema": {"type": "object"}}
    result = parse_text(json.dumps([quiver, mcp]), "mixed.json")
    assert [s.data["name"] for s in result.sources] == ["disk_usage", "ping"]
    assert result.sources[0].data == quiver


# -- the notes reach the import report, the CLI and the wizard ---------------------------


@pytest.mark.django_db
def test_the_import_report_carries_each_note_as_a_warning(tenant: Tenant) -> None:
    report = import_file(tenant, "openai_tools.json", dry_run=True)
    warnings = {(f"{w.file} ({w.tool})", w.path): w.message for w in report.warnings}
    assert (
        warnings[("openai_tools.json#1 (getWeather)", "input_schema.properties.days.type")]
        == '"int" → "integer"'
    )
    assert len(report.warnings) == len(notes_of(read("openai_tools.json")))


@pytest.mark.django_db
def test_the_import_command_imports_an_mcp_file_and_prints_the_notes(
    tenant: Tenant, capsys: Any
) -> None:
    call_command("import_tools", str(SAMPLES / "mcp_tools_list.json"), "--tenant", "acme")
    out = capsys.readouterr().out
    assert "Imported: 3 new, 0 changed, 0 unchanged, 0 problem(s)." in out
    assert "warning: mcp_tools_list.json#2 (listDirectory): " in out
    assert "new       listDirectory (1.0.0)" in out
    assert Tool.objects.for_tenant(tenant).filter(name="listDirectory").exists()


@pytest.mark.django_db
def test_the_import_command_refuses_a_file_it_cannot_normalise(tenant: Tenant, capsys: Any) -> None:
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("import_tools", str(SAMPLES / "refused_tools.json"), "--tenant", "acme")
    assert '"widget" is not a type JSON Schema knows' in capsys.readouterr().err
    assert not Tool.objects.exists()


@pytest.fixture
def as_editor(client: Client, editor: Any, settings: Any) -> Client:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    client.force_login(editor)
    return client


def sample_upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (SAMPLES / name).read_bytes(), content_type="application/json")


@pytest.mark.django_db
def test_the_wizard_preview_shows_each_change_as_a_warning(as_editor: Client) -> None:
    response = as_editor.post("/import/", {"uploads": [sample_upload("openai_tools.json")]})
    assert response.status_code == 302, response.content.decode()[:2000]
    page = as_editor.get(response.url).content.decode()
    assert "3 new, 0 changed, 0 unchanged, 0 problems" in page
    assert "Warnings (" in page
    assert '<td class="mono">getWeather</td><td class="mono">openai_tools.json#1</td>' in page
    assert "input_schema.properties.days.type" in page
    assert "&quot;int&quot; → &quot;integer&quot;" in page
    assert "get_weather" not in page


@pytest.mark.django_db
def test_the_wizard_applies_a_foreign_upload_and_keeps_its_notes(
    as_editor: Client, tenant: Tenant
) -> None:
    response = as_editor.post("/import/", {"uploads": [sample_upload("mcp_tools_list.json")]})
    token = response.url.rstrip("/").split("/")[-1]
    staged = StagedImport.find(token)
    assert staged is not None
    sources = staged.sources()
    assert sources is not None and all(s.notes for s in sources[:2])
    assert as_editor.post(reverse("catalog:import_apply", args=[token])).status_code == 302
    assert Tool.objects.for_tenant(tenant).count() == 3
    assert "mcp_tools_list.json#2" in as_editor.get(response.url).content.decode()


@pytest.mark.django_db
def test_the_wizard_refuses_an_upload_it_cannot_normalise_at_the_upload_field(
    as_editor: Client, tenant: Tenant
) -> None:
    response = as_editor.post("/import/", {"uploads": [sample_upload("refused_tools.json")]})
    assert response.status_code == 200
    page = response.content.decode()
    assert "refused_tools.json#2 (no_description): description: has no description" in page
    assert not Tool.objects.for_tenant(tenant).exists()
