"""Each validation rule gives its message at the right path."""

from __future__ import annotations

import time

import pytest

from catalog.definitions import expressions
from catalog.definitions.format import content_hash, normalize, suggest_version
from catalog.definitions.json_schemas import compiled_validator, schema_errors
from catalog.definitions.validation import check_definition, check_script, validate_definition
from tests.factories import make_definition


def errors_of(definition: dict) -> dict[str, str]:
    return {e.path: e.message for e in validate_definition(definition)}


def pattern(**overrides: object) -> list[dict]:
    definition = make_definition()
    definition["capabilities"][0]["patterns"][0].update(overrides)
    return definition["capabilities"]


def test_a_valid_definition_has_no_errors() -> None:
    assert validate_definition(make_definition()) == []


def test_a_minimal_definition_is_valid() -> None:
    minimal = {"name": "ping", "description": "Ping.", "platform": "network", "category": "net"}
    assert validate_definition(minimal) == []


def test_definition_must_be_a_mapping() -> None:
    assert errors_of(["not", "a", "mapping"]) == {
        "": "a tool definition must be a mapping, not a list"
    }


@pytest.mark.parametrize("field", ["name", "description", "platform", "category"])
def test_required_fields_are_named(field: str) -> None:
    definition = make_definition()
    del definition[field]
    assert errors_of(definition) == {field: "is required"}


@pytest.mark.parametrize("name", ["disk usage", "math.gcd", "café", "d" * 65, ""])
def test_a_name_must_be_legal_in_every_llm_format(name: str) -> None:
    message = errors_of(make_definition(name=name))["name"]
    assert message.endswith(
        "is not a valid tool name: use letters, digits, '_' and '-', at most 64 characters"
    )


@pytest.mark.parametrize("name", ["getWeather", "ChatOCR", "calculate_BMI", "3d-render", "d" * 64])
def test_a_name_is_kept_in_its_own_case(name: str) -> None:
    assert "name" not in errors_of(make_definition(name=name))


def test_unknown_fields_are_listed() -> None:
    message = errors_of(make_definition(colour="blue"))[""]
    assert "unknown field(s) colour" in message


def test_platform_must_be_known() -> None:
    assert errors_of(make_definition(platform="mac")) == {
        "platform": "must be one of: linux, windows, network, scheduler, custom"
    }


@pytest.mark.parametrize("version", ["1.2", "v1.2.3", "01.2.3", "1.2.3.4"])
def test_version_must_be_semver(version: str) -> None:
    assert "is not a semantic version" in errors_of(make_definition(version=version))["version"]


def test_prerelease_versions_are_semver() -> None:
    assert validate_definition(make_definition(version="2.0.0-rc.1+build.5")) == []


def test_input_schema_must_be_valid_json_schema() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integr"}}}
    errors = errors_of(make_definition(input_schema=schema))
    assert "input_schema.properties.n.type" in errors
    assert "is not valid JSON Schema" in errors["input_schema.properties.n.type"]


def test_input_schema_must_be_of_type_object() -> None:
    errors = errors_of(make_definition(input_schema={"type": "array"}))
    assert errors == {"input_schema.type": "must be 'object'"}


def test_output_schema_must_be_of_type_object() -> None:
    errors = errors_of(make_definition(output_schema={"type": "string"}))
    assert errors == {"output_schema.type": "must be 'object'"}


def test_schema_defaults_must_fit_their_property() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "maximum": 5, "default": 9}},
    }
    errors = errors_of(make_definition(input_schema=schema))
    assert "does not fit its schema" in errors["input_schema.properties.n.default"]


def test_nested_schema_defaults_are_checked() -> None:
    schema = {
        "type": "object",
        "properties": {
            "opts": {"type": "object", "properties": {"mode": {"enum": ["a", "b"], "default": "c"}}}
        },
    }
    errors = errors_of(make_definition(input_schema=schema))
    assert "input_schema.properties.opts.properties.mode.default" in errors


def test_tool_defaults_must_fit_the_input_they_name() -> None:
    errors = errors_of(make_definition(defaults={"threshold_pct": "high"}))
    assert "does not fit input 'threshold_pct'" in errors["defaults.threshold_pct"]


def test_tool_defaults_for_context_are_free() -> None:
    assert validate_definition(make_definition(defaults={"freshness": "live"})) == []


def test_script_must_parse() -> None:
    errors = errors_of(make_definition(script="def main(:\n    pass\n"))
    assert errors["script"].startswith("has a syntax error at line 1")


def test_script_must_define_main() -> None:
    errors = errors_of(make_definition(script="def run():\n    return {}\n"))
    assert errors == {"script": "must define a function main(...) at the top level"}


def test_script_tools_need_a_script() -> None:
    assert errors_of(make_definition(script="")) == {
        "script": "is required when the runtime kind is 'script'"
    }


def test_script_is_refused_for_described_only_tools() -> None:
    errors = errors_of(make_definition(runtime={"kind": "none"}))
    assert errors == {"script": "is only used with runtime kind 'script', not 'none'"}


def test_check_script_accepts_async_main() -> None:
    assert check_script("async def main():\n    return {}\n") == []


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "calls '__import__', which is not allowed"),
        ("().__class__", "uses attributes (a.b)"),
        ("9**9**9", "raises to a power other than a number up to 10"),
        ("open('/etc/passwd')", "calls 'open'"),
        ("M * 2", "uses M, not a declared context variable"),
        ("'a' * 3", "only numbers are allowed"),
        ("[1] * 10", "uses lists"),
        ("N / 0", "divides by zero"),
        ("N +", "is not a valid expression"),
        ("1" * 501, "is longer than 500 characters"),
        ("1e300 * 1e300 * N", "larger than"),
    ],
)
def test_unsafe_or_wrong_expressions_are_refused(expression: str, message: str) -> None:
    errors = errors_of(make_definition(capabilities=pattern(time_estimate_ms=expression)))
    assert message in errors["capabilities[0].patterns[0].time_estimate_ms"]


def test_hostile_expressions_are_refused_fast() -> None:
    hostile = ["9**9**9", "__import__('os').system('id')", "().__class__.__bases__[0]"]
    start = time.perf_counter()
    for expression in hostile * 100:
        with pytest.raises(expressions.ExpressionError):
            expressions.evaluate(expression, {"N": 1})
    assert time.perf_counter() - start < 1.0


def test_expressions_evaluate_over_context_variables() -> None:
    assert expressions.evaluate("2000 + 0.5 * N", {"N": 100}) == 2050.0
    assert expressions.evaluate("max(1, log2(N)) if N > 1 else 0", {"N": 8}) == 3.0
    assert expressions.evaluate("round(N / 3, 2)", {"N": 10}) == 3.33
    assert expressions.evaluate(7, {}) == 7.0


def test_negative_estimates_are_refused() -> None:
    errors = errors_of(make_definition(capabilities=pattern(cost_estimate="1 - N")))
    assert "is negative" in errors["capabilities[0].patterns[0].cost_estimate"]


def test_unit_values_must_lie_between_zero_and_one() -> None:
    errors = errors_of(make_definition(capabilities=pattern(complexity_score=1.5)))
    assert errors == {"capabilities[0].patterns[0].complexity_score": "must be at most 1"}
    prefs = pattern(preference_match={"speed": -0.1})
    errors = errors_of(make_definition(capabilities=prefs))
    assert errors == {"capabilities[0].patterns[0].preference_match.speed": "must be at least 0"}


def test_examples_must_fit_the_input_schema() -> None:
    errors = errors_of(make_definition(capabilities=pattern(examples=[{"input": {"x": 1}}])))
    assert (
        "does not fit the input schema" in errors["capabilities[0].patterns[0].examples[0].input"]
    )


def test_capability_names_are_unique_in_a_tool() -> None:
    capabilities = make_definition()["capabilities"] * 2
    errors = errors_of(make_definition(capabilities=capabilities))
    assert errors["capabilities[1].name"] == "'disk_capacity_check' is used twice"


def test_compiled_validators_are_cached_by_schema() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert compiled_validator(schema) is compiled_validator(dict(schema))


def test_normalized_definitions_hash_the_same_whatever_the_key_order() -> None:
    definition = make_definition()
    reordered = dict(reversed(list(definition.items())))
    assert content_hash(normalize(definition)) == content_hash(normalize(reordered))


def test_suggested_version_follows_what_changed() -> None:
    old = normalize(make_definition())
    patch = normalize(make_definition(description="Shorter."))
    assert suggest_version("1.2.3", old, patch) == "1.2.4"
    minor = make_definition()
    minor["input_schema"]["properties"]["mount"] = {"type": "string"}
    assert suggest_version("1.2.3", old, normalize(minor)) == "1.3.0"
    major = make_definition(input_schema={"type": "object", "properties": {}})
    assert suggest_version("1.2.3", old, normalize(major)) == "2.0.0"


@pytest.mark.parametrize("name", ["import", "export", "validate", "new", "bulk"])
def test_names_the_routes_use_are_reserved(name: str) -> None:
    errors, normalized = check_definition(make_definition(name=name))
    assert normalized is None
    assert [(e.path, e.message) for e in errors] == [
        ("name", f"'{name}' is reserved (the API uses /tools/{name})")
    ]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (
            "^[a-z0-9.-]+$",
            "'Web 1' is not in the expected form: use only lower-case letters, digits, '.' and '-'",
        ),
        ("^[A-Z_]*$", "'Web 1' is not in the expected form: use only capital letters and '_'"),
        # Anything that is not one class of characters is shown as it is.
        ("^[a-f0-9]+$", "'Web 1' is not in the expected form (the pattern ^[a-f0-9]+$)"),
        (r"^\d{3}$", r"'Web 1' is not in the expected form (the pattern ^\d{3}$)"),
    ],
)
def test_a_value_off_its_pattern_is_told_in_words_where_it_can_be(
    pattern: str, message: str
) -> None:
    schema = {"type": "object", "properties": {"host": {"type": "string", "pattern": pattern}}}
    (error,) = schema_errors({"host": "Web 1"}, compiled_validator(schema))
    assert (error.path, error.message) == ("host", message)


# -- regular expressions in schemas ---------------------------------------------------------

EXPONENTIAL = "^(a+)+$"  # Python's re takes about 3 s for 26 characters, doubling with each


def schema_with(**property_schema: object) -> dict:
    return {"type": "object", "properties": {"word": {"type": "string", **property_schema}}}


def test_a_pattern_that_backtracks_exponentially_is_matched_in_linear_time() -> None:
    validator = compiled_validator(schema_with(pattern=EXPONENTIAL))
    started = time.perf_counter()
    errors = schema_errors({"word": "a" * 5000 + "!"}, validator, "arguments")
    assert time.perf_counter() - started < 0.2
    assert [e.path for e in errors] == ["arguments.word"]
    assert "not in the expected form" in errors[0].message


def test_pattern_properties_and_additional_properties_are_matched_in_linear_time() -> None:
    schema = {
        "type": "object",
        "patternProperties": {EXPONENTIAL: {"type": "integer"}},
        "additionalProperties": False,
    }
    started = time.perf_counter()
    errors = schema_errors({"a" * 5000 + "!": 1}, compiled_validator(schema), "arguments")
    assert time.perf_counter() - started < 0.2
    assert "unknown field(s)" in errors[0].message


@pytest.mark.parametrize("regex", ["^(?=a)b", "(?<!x)y", "^(a)\\1$"])
def test_a_pattern_needing_a_backtracking_engine_is_refused_when_saved(regex: str) -> None:
    errors = errors_of(make_definition(input_schema=schema_with(pattern=regex)))
    message = errors["input_schema.properties.word.pattern"]
    assert "not a regular expression Quiver can use" in message and "lookaround" in message


def test_a_pattern_property_needing_a_backtracking_engine_is_refused_when_saved() -> None:
    schema = {"type": "object", "patternProperties": {"^(?!x)": {"type": "string"}}}
    errors = errors_of(make_definition(output_schema=schema))
    assert "not a regular expression" in errors["output_schema.patternProperties.^(?!x)"]


def test_defaults_and_examples_are_matched_in_linear_time_when_a_definition_is_checked() -> None:
    definition = make_definition(
        input_schema=schema_with(pattern=EXPONENTIAL, default="a" * 5000 + "!")
    )
    definition["capabilities"][0]["patterns"][0]["examples"] = [
        {"input": {"word": "a" * 5000 + "!"}}
    ]
    started = time.perf_counter()
    errors = errors_of(definition)
    assert time.perf_counter() - started < 0.5
    assert "does not fit its schema" in errors["input_schema.properties.word.default"]


def test_a_schema_referring_to_a_url_is_refused_without_fetching_it() -> None:
    remote = {"type": "object", "properties": {"a": {"$ref": "http://127.0.0.1:9/x.json"}}}
    errors = errors_of(make_definition(input_schema=remote))
    assert "is not fetched: a $ref may only point inside the schema" in errors["input_schema"]


def test_a_capability_with_a_problem_of_shape_does_not_hide_anothers_problems() -> None:
    definition = make_definition()
    first = definition["capabilities"][0]
    second = {**first, "name": "second", "patterns": [dict(first["patterns"][0])]}
    first["patterns"][0]["complexity_score"] = "very"  # of the wrong type
    second["patterns"][0]["cost_estimate"] = "2 **"  # no formula
    definition["capabilities"].append(second)
    definition["input_schema"]["properties"]["threshold_pct"]["type"] = "percent"
    paths = [e.path for e in validate_definition(definition)]
    assert "capabilities[0].patterns[0].complexity_score" in paths
    assert "capabilities[1].patterns[0].cost_estimate" in paths
    assert any(p.startswith("input_schema") for p in paths)


def test_a_definition_that_is_wrong_everywhere_still_reports_without_crashing() -> None:
    for broken in (
        {"name": 5, "runtime": "fast", "capabilities": "many", "input_schema": []},
        {"name": "x", "capabilities": [None, {"name": "ok", "patterns": "no"}]},
        {"runtime": {"kind": "script", "timeout_s": -1}, "script": "def main(:"},
    ):
        errors = validate_definition(broken)
        assert errors and all(e.message for e in errors)
    paths = [e.path for e in validate_definition(broken)]
    assert "script" in paths and "runtime.timeout_s" in paths


HOST = "input_schema.properties.host"


@pytest.mark.parametrize(
    ("script", "properties", "defaults", "expected"),
    [
        # An input main() cannot take by name: a run would fail with a TypeError.
        (
            "def main(host):\n    return 1\n",
            ["host", "count"],
            {},
            ["input_schema.properties.count"],
        ),
        (
            "def main(**rest):\n    return 1\n",
            ["host", "bad name"],
            {},
            ["input_schema.properties.bad name"],
        ),
        # A parameter main() needs that no input gives.
        ("def main(host, port):\n    return 1\n", ["host"], {}, ["script"]),
        ("def main(host, *, port):\n    return 1\n", ["host"], {}, ["script"]),
        ("def main(host, /):\n    return 1\n", ["host"], {}, [HOST, "script"]),
        # What fits: defaults, **kwargs, a default value for what is not an input.
        ("def main(host, port=22):\n    return 1\n", ["host"], {}, []),
        ("def main(host, port):\n    return 1\n", ["host"], {"port": 22}, []),
        ("def main(**rest):\n    return 1\n", ["host", "port"], {}, []),
    ],
)
def test_a_scripts_inputs_must_fit_its_main(
    script: str, properties: list[str], defaults: dict, expected: list[str]
) -> None:
    definition = make_definition(
        script=script,
        input_schema={"type": "object", "properties": {p: {"type": "string"} for p in properties}},
        defaults=defaults,
        capabilities=[],
    )
    assert [e.path for e in validate_definition(definition)] == expected


def test_a_broken_input_schema_does_not_make_the_script_look_wrong() -> None:
    """The inputs stand in as empty while their schema is broken: main(host) must not
    then be said to need an input nobody gave."""
    definition = make_definition(
        script="def main(host):\n    return 1\n",
        input_schema={"type": "object", "properties": "host"},
        capabilities=[],
    )
    paths = [e.path for e in validate_definition(definition)]
    assert paths and all(p.startswith("input_schema") for p in paths), paths
