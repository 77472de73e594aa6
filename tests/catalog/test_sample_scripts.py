"""The sample tool catalog: format, schemas, estimates and the behaviour of its script tools.

Plain pytest: no Django, no database. Every YAML file under catalog/sample_catalog is
loaded, checked against the definition format, and every ``script`` tool is executed in a
fresh namespace with hand-computed expectations.
"""

from __future__ import annotations

import ast
import copy
import inspect
import json
import math
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from catalog.definitions import expressions

ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR = ROOT / "catalog" / "sample_catalog"
FORMAT_SCHEMA = json.loads(
    (ROOT / "catalog" / "definitions" / "schemas" / "tool_definition.schema.json").read_text()
)
MIN_PER_PLATFORM = {"linux": 14, "windows": 12, "network": 12, "scheduler": 10, "custom": 12}
PATTERN_FIELDS = {
    "typical_use_cases",
    "context_variables",
    "time_estimate_ms",
    "cost_estimate",
    "complexity_score",
    "scope",
    "completeness",
    "limitations",
    "policy",
    "preference_match",
    "required_inputs",
    "expected_outputs",
    "examples",
}
PREFERENCE_KEYS = {"speed", "accuracy", "cost", "complexity", "completeness"}
# Modules a script may import: pure computation only (no files, network or environment).
SAFE_MODULES = {
    "base64",
    "binascii",
    "collections",
    "csv",
    "datetime",
    "difflib",
    "http",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "math",
    "re",
    "statistics",
    "string",
    "time",  # time.sleep only: a sample job that takes as long as it says
    "urllib.parse",
    "zoneinfo",
}
FORBIDDEN_CALLS = {"open", "exec", "eval", "compile", "__import__", "input", "globals", "vars"}
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _definitions_in(document: Any) -> list[dict[str, Any]]:
    """A file holds one definition, a list of them, or a mapping with a 'tools' list."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("tools"), list):
        return document["tools"]
    return [document] if document else []


def _load_catalog() -> list[tuple[Path, dict[str, Any]]]:
    entries = []
    for path in sorted(CATALOG_DIR.rglob("*.y*ml")):
        for document in yaml.load_all(path.read_text(encoding="utf-8"), Loader=LOADER):
            entries.extend((path, tool) for tool in _definitions_in(document))
    return entries


ENTRIES = _load_catalog()
TOOLS = [tool for _, tool in ENTRIES]
BY_NAME = {tool["name"]: tool for tool in TOOLS}
SCRIPT_TOOLS = [t for t in TOOLS if (t.get("runtime") or {}).get("kind") == "script"]
TOOL_IDS = [t["name"] for t in TOOLS]
SCRIPT_IDS = [t["name"] for t in SCRIPT_TOOLS]


def load_main(name: str) -> Callable[..., dict[str, Any]]:
    """Execute the tool's script in a fresh namespace and return its ``main``."""
    namespace: dict[str, Any] = {"__name__": f"quiver_script_{name}"}
    code = compile(BY_NAME[name]["script"], f"<{name}>", "exec", dont_inherit=True)
    exec(code, namespace)  # noqa: S102
    return namespace["main"]


def patterns_of(tool: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for c in tool.get("capabilities", []) for p in c.get("patterns", [])]


def iter_examples(tool: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for p in patterns_of(tool) for e in p.get("examples", [])]


# -- Catalog-wide checks -----------------------------------------------------------


def test_catalog_size_platforms_and_unique_names() -> None:
    assert len(TOOLS) >= 64
    names = [t["name"] for t in TOOLS]
    assert len(names) == len(set(names)), "tool names must be unique"
    counts = {platform: 0 for platform in MIN_PER_PLATFORM}
    for tool in TOOLS:
        counts[tool["platform"]] += 1
    for platform, minimum in MIN_PER_PLATFORM.items():
        assert counts[platform] >= minimum, (platform, counts[platform])
    statuses = {t.get("status", "active") for t in TOOLS}
    assert {"active", "testing", "deprecated"} <= statuses
    assert len({t.get("version") for t in TOOLS}) >= 10


def test_destructive_patterns_are_guarded() -> None:
    guarded = [
        p
        for t in TOOLS
        for p in patterns_of(t)
        if p["policy"]["requires_approval"] or not p["policy"]["production_safe"]
    ]
    assert len(guarded) >= 10
    for pattern in guarded:
        assert pattern["policy"]["max_cost"] is not None, pattern["name"]


def test_at_least_half_of_the_samples_can_be_run() -> None:
    described_only = [t["name"] for t in TOOLS if t["runtime"]["kind"] == "none"]
    assert len(SCRIPT_TOOLS) >= len(TOOLS) / 2, (len(SCRIPT_TOOLS), described_only)


def test_the_readme_counts_the_samples_that_load_and_run() -> None:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"a sample catalog of (\d+) tools, (\d+) of which run", readme)
    assert found, "README.md must say how many sample tools there are"
    assert (int(found[1]), int(found[2])) == (len(TOOLS), len(SCRIPT_TOOLS))
    assert f"has {len(TOOLS)} examples. {len(SCRIPT_TOOLS)} of them run" in readme


def test_runnable_samples_show_approval_production_refusal_and_a_cost_cap() -> None:
    policies = [p["policy"] for t in SCRIPT_TOOLS for p in patterns_of(t)]
    assert any(p["requires_approval"] and p["production_safe"] for p in policies)
    assert any(not p["production_safe"] for p in policies)
    # device_config_backup's cost grows with the devices (D): the sample stays under the
    # cap, a backup of 50 devices goes over it and is refused.
    [pattern] = patterns_of(BY_NAME["device_config_backup"])
    cap, cost = pattern["policy"]["max_cost"], pattern["cost_estimate"]
    samples = {n: v["sample"] for n, v in pattern["context_variables"].items()}
    assert (
        expressions.evaluate(cost, samples)
        <= cap
        < expressions.evaluate(cost, {**samples, "D": 50})
    )


def test_a_runnable_sample_outlives_its_short_timeout_with_a_large_input() -> None:
    tool = BY_NAME["rundeck_job_run"]
    assert tool["runtime"]["timeout_s"] == 3
    job = "3f2b8a6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    main = load_main("rundeck_job_run")
    assert main(job_id=job, options={"records": "10000"}, wait=False)["status"] == "running"
    # The job's run takes 10 s with 10,000 records: the sandbox stops it at 3 s. Measured
    # here without sleeping: the duration the script would wait for.
    assert tool["runtime"]["timeout_s"] < 0.05 + 10_000 / 1000
    assert main(job_id=job, options={"records": "100"})["duration_s"] < 1


def test_a_runnable_sample_fails_like_a_broken_system_for_one_input() -> None:
    with pytest.raises(RuntimeError, match="0x8024402C"):
        load_main("windows_update_status")(computer="sql-win-09")


@pytest.mark.parametrize(("path", "tool"), ENTRIES, ids=TOOL_IDS)
def test_definition_follows_format(path: Path, tool: dict[str, Any]) -> None:
    errors = sorted(Draft202012Validator(FORMAT_SCHEMA).iter_errors(tool), key=str)
    assert not errors, [e.message for e in errors]
    assert path.parent.name == tool["platform"]
    assert path.stem == tool["name"]
    for key in (
        "version",
        "category",
        "tags",
        "dependencies",
        "input_schema",
        "output_schema",
        "runtime",
        "capabilities",
    ):
        assert key in tool, key
    assert tool["metadata"]["author"]
    assert tool["metadata"]["documentation_url"].startswith("https://")
    assert 1 <= len(tool["capabilities"]) <= 3
    assert tool["runtime"]["kind"] in ("none", "script")
    if tool["runtime"]["kind"] == "script":
        assert tool["runtime"]["network"] is False, "samples never use the network"
        assert tool["runtime"]["memory_mb"] == 256
        assert 1 <= tool["runtime"]["timeout_s"] <= 30
    else:
        assert "script" not in tool


def _defaults_fit(schema: dict[str, Any], where: str) -> None:
    if "default" in schema:
        subschema = {k: v for k, v in schema.items() if k != "default"}
        errors = list(Draft202012Validator(subschema).iter_errors(schema["default"]))
        assert not errors, f"{where}.default: {errors[0].message}"
    for keyword in ("properties", "patternProperties", "$defs"):
        for name, sub in (schema.get(keyword) or {}).items():
            if isinstance(sub, dict):
                _defaults_fit(sub, f"{where}.{keyword}.{name}")
    for keyword in ("items", "additionalProperties"):
        sub = schema.get(keyword)
        if isinstance(sub, dict):
            _defaults_fit(sub, f"{where}.{keyword}")


@pytest.mark.parametrize("tool", TOOLS, ids=TOOL_IDS)
def test_argument_and_result_schemas(tool: dict[str, Any]) -> None:
    for key in ("input_schema", "output_schema"):
        schema = tool[key]
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        _defaults_fit(schema, key)
    inputs = tool["input_schema"]
    assert inputs.get("additionalProperties") is False
    for name, prop in inputs["properties"].items():
        assert prop.get("description"), f"input {name} needs a description"
    assert set(inputs.get("required", [])) <= set(inputs["properties"])
    assert tool["output_schema"]["required"]


@pytest.mark.parametrize("tool", TOOLS, ids=TOOL_IDS)
def test_patterns_are_complete(tool: dict[str, Any]) -> None:
    input_validator = Draft202012Validator(tool["input_schema"])
    output_validator = Draft202012Validator(tool["output_schema"])
    for capability in tool["capabilities"]:
        assert 1 <= len(capability["patterns"]) <= 3, capability["name"]
        names = [p["name"] for p in capability["patterns"]]
        assert len(names) == len(set(names))
        for pattern in capability["patterns"]:
            where = f"{tool['name']}.{capability['name']}.{pattern['name']}"
            assert set(pattern) >= PATTERN_FIELDS, (where, PATTERN_FIELDS - set(pattern))
            assert len(pattern["typical_use_cases"]) >= 3, where
            assert set(pattern["preference_match"]) == PREFERENCE_KEYS, where
            assert set(pattern["policy"]) == {"max_cost", "requires_approval", "production_safe"}
            assert pattern["context_variables"], where
            samples = {
                name: spec.get("sample", 1) for name, spec in pattern["context_variables"].items()
            }
            for key in ("time_estimate_ms", "cost_estimate"):
                value = expressions.evaluate(pattern[key], samples)
                assert math.isfinite(value) and value >= 0, (where, key, value)
            assert set(pattern["required_inputs"]) <= set(tool["input_schema"]["properties"])
            assert pattern["expected_outputs"] and pattern["limitations"], where
            assert pattern["examples"], where
            for example in pattern["examples"]:
                input_validator.validate(example["input"])
                if "output" in example:
                    output_validator.validate(example["output"])


# -- Script tools: static checks ---------------------------------------------------


def _annotation_types(annotation: Any) -> set[str]:
    names = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        list: "array",
        tuple: "array",
        dict: "object",
        type(None): "null",
    }
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return set().union(*(_annotation_types(arg) for arg in typing.get_args(annotation)))
    origin = typing.get_origin(annotation) or annotation
    return {names[origin]}


@pytest.mark.parametrize("tool", SCRIPT_TOOLS, ids=SCRIPT_IDS)
def test_script_is_pure_and_matches_input_schema(tool: dict[str, Any]) -> None:
    tree = ast.parse(tool["script"])
    assert any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            modules = []
        for module in modules:
            assert module in SAFE_MODULES, f"{tool['name']} imports {module}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, f"{tool['name']} calls {node.func.id}"

    signature = inspect.signature(load_main(tool["name"]))
    schema = tool["input_schema"]
    properties = schema["properties"]
    assert list(signature.parameters) == list(properties), "parameter names and order"
    required = set(schema.get("required", []))
    for name, parameter in signature.parameters.items():
        assert parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
        assert parameter.annotation is not parameter.empty, f"{name} needs a type hint"
        declared = properties[name]["type"]
        declared = {declared} if isinstance(declared, str) else set(declared)
        assert _annotation_types(parameter.annotation) == declared, name
        if parameter.default is parameter.empty:
            assert name in required and "default" not in properties[name], name
        else:
            assert name not in required, name
            default = parameter.default
            default = list(default) if isinstance(default, tuple) else default
            assert properties[name].get("default") == default, name
    assert signature.return_annotation in (dict, "dict")


@pytest.mark.parametrize("tool", SCRIPT_TOOLS, ids=SCRIPT_IDS)
def test_script_examples_produce_valid_output(tool: dict[str, Any]) -> None:
    main = load_main(tool["name"])
    validator = Draft202012Validator(tool["output_schema"])
    examples = iter_examples(tool)
    assert examples
    for example in examples:
        result = main(**copy.deepcopy(example["input"]))
        assert isinstance(result, dict)
        validator.validate(result)
        assert json.loads(json.dumps(result)) == result, "result must be plain JSON"
        assert main(**copy.deepcopy(example["input"])) == result, "must be deterministic"
        if "output" in example:
            assert result == example["output"]


# -- Script tools: hand-computed behaviour -----------------------------------------

LOG = (
    "2024-05-01 10:00:01 INFO api started on port 8080\n"
    "2024-05-01 10:00:05 ERROR db timeout after 3000 ms\n"
    "2024-05-01 10:00:40 ERROR db timeout after 2500 ms\n"
    "2024-05-01 10:01:02 WARN cache miss ratio 4\n"
    "2024-05-01 10:01:30 CRITICAL worker 7 crashed\n"
    "   a continuation line without level\n"
)
STORE = {
    "store": {
        "book": [
            {"title": "A", "price": 8.95, "tags": ["x"]},
            {"title": "B", "price": 12.99},
            {"title": "C", "price": 22},
        ],
        "bicycle": {"color": "red", "price": 19.95},
        "odd key": {"v": 1},
    }
}
CSV = "host,cpu,ok,env\nweb1,12.5,true,prod\nweb2,80,false,prod\ndb1,,yes,staging\n"

# name -> list of (kwargs, expected subset of the result)
GOOD: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {
    "cron_next_runs": [
        (
            {"expression": "*/15 9-17 * * mon-fri", "start": "2024-03-01T16:50:00", "count": 4},
            {
                "count": 4,
                "runs": [
                    "2024-03-01T17:00:00",
                    "2024-03-01T17:15:00",
                    "2024-03-01T17:30:00",
                    "2024-03-01T17:45:00",
                ],
            },
        ),
        # Friday evening: the next runs are on Monday morning.
        (
            {"expression": "*/15 9-17 * * mon-fri", "start": "2024-03-01T17:50:00", "count": 2},
            {"runs": ["2024-03-04T09:00:00", "2024-03-04T09:15:00"]},
        ),
        # Day-of-month and day-of-week both restricted: either may match (Mondays win here).
        (
            {"expression": "0 12 1 * 1", "start": "2024-04-01T12:00:00", "count": 3},
            {"runs": ["2024-04-08T12:00:00", "2024-04-15T12:00:00", "2024-04-22T12:00:00"]},
        ),
        (
            {"expression": "@monthly", "start": "2024-01-31T12:00:00+01:00", "count": 2},
            {"runs": ["2024-02-01T00:00:00+01:00", "2024-03-01T00:00:00+01:00"]},
        ),
        (
            {"expression": "0 0 29 2 *", "start": "2024-03-01T00:00:00", "count": 1},
            {"runs": ["2028-02-29T00:00:00"]},
        ),
        (
            {"expression": "5 4 * * sun", "start": "2024-05-04T00:00:00"},
            {
                "count": 5,
                "runs": [
                    "2024-05-05T04:05:00",
                    "2024-05-12T04:05:00",
                    "2024-05-19T04:05:00",
                    "2024-05-26T04:05:00",
                    "2024-06-02T04:05:00",
                ],
            },
        ),
    ],
    "cidr_calculator": [
        (
            {"cidr": "192.168.10.77/26", "contains": "192.168.10.100"},
            {
                "network": "192.168.10.64",
                "cidr": "192.168.10.64/26",
                "prefix_length": 26,
                "netmask": "255.255.255.192",
                "hostmask": "0.0.0.63",
                "broadcast": "192.168.10.127",
                "total_addresses": 64,
                "usable_hosts": 62,
                "first_host": "192.168.10.65",
                "last_host": "192.168.10.126",
                "is_private": True,
                "host_bits_set": True,
                "contains": True,
            },
        ),
        (
            {"cidr": "10.20.0.0/22", "contains": "10.20.4.1"},
            {
                "broadcast": "10.20.3.255",
                "netmask": "255.255.252.0",
                "usable_hosts": 1022,
                "last_host": "10.20.3.254",
                "host_bits_set": False,
                "contains": False,
            },
        ),
        (
            {"cidr": "10.0.0.0/31"},
            {
                "usable_hosts": 2,
                "first_host": "10.0.0.0",
                "last_host": "10.0.0.1",
                "contains": None,
            },
        ),
        (
            {"cidr": "2001:db8::/64", "contains": "10.0.0.1"},
            {"version": 6, "broadcast": None, "total_addresses": 2**64, "contains": False},
        ),
        ({"cidr": "8.8.8.0/24"}, {"is_private": False, "usable_hosts": 254}),
    ],
    "subnet_split": [
        (
            {"cidr": "10.0.0.0/24", "count": 3},
            {
                "new_prefix": 26,
                "subnet_count": 4,
                "addresses_per_subnet": 64,
                "subnets": [
                    {
                        "cidr": "10.0.0.0/26",
                        "first_host": "10.0.0.1",
                        "last_host": "10.0.0.62",
                        "usable_hosts": 62,
                    },
                    {
                        "cidr": "10.0.0.64/26",
                        "first_host": "10.0.0.65",
                        "last_host": "10.0.0.126",
                        "usable_hosts": 62,
                    },
                    {
                        "cidr": "10.0.0.128/26",
                        "first_host": "10.0.0.129",
                        "last_host": "10.0.0.190",
                        "usable_hosts": 62,
                    },
                    {
                        "cidr": "10.0.0.192/26",
                        "first_host": "10.0.0.193",
                        "last_host": "10.0.0.254",
                        "usable_hosts": 62,
                    },
                ],
            },
        ),
        (
            {"cidr": "10.0.0.0/30", "new_prefix": 31},
            {
                "subnet_count": 2,
                "subnets": [
                    {
                        "cidr": "10.0.0.0/31",
                        "first_host": "10.0.0.0",
                        "last_host": "10.0.0.1",
                        "usable_hosts": 2,
                    },
                    {
                        "cidr": "10.0.0.2/31",
                        "first_host": "10.0.0.2",
                        "last_host": "10.0.0.3",
                        "usable_hosts": 2,
                    },
                ],
            },
        ),
        (
            {"cidr": "192.168.8.0/23", "new_prefix": 25},
            {"parent": "192.168.8.0/23", "subnet_count": 4},
        ),
    ],
    "http_status_explain": [
        (
            {"code": 429},
            {
                "phrase": "Too Many Requests",
                "class": "client_error",
                "retryable": True,
                "is_error": True,
                "registered": True,
            },
        ),
        ({"code": 404}, {"phrase": "Not Found", "retryable": False, "is_error": True}),
        ({"code": 301}, {"class": "redirection", "is_error": False, "retryable": False}),
        ({"code": 299}, {"phrase": "Unknown", "class": "success", "registered": False}),
        (
            {"code": 503},
            {"phrase": "Service Unavailable", "class": "server_error", "retryable": True},
        ),
    ],
    "chmod_convert": [
        (
            {"mode": "755"},
            {
                "source_format": "octal",
                "octal": "0755",
                "symbolic": "rwxr-xr-x",
                "special": [],
                "warnings": [],
                "file_type": None,
                "permissions": {
                    "owner": {"read": True, "write": True, "execute": True},
                    "group": {"read": True, "write": False, "execute": True},
                    "other": {"read": True, "write": False, "execute": True},
                },
            },
        ),
        (
            {"mode": "4755"},
            {
                "symbolic": "rwsr-xr-x",
                "special": ["setuid"],
                "warnings": ["setuid executable: runs with the owner's privileges"],
            },
        ),
        (
            {"mode": "-rw-r-----"},
            {"source_format": "symbolic", "octal": "0640", "file_type": "file"},
        ),
        (
            {"mode": "drwxrwxrwt"},
            {
                "octal": "1777",
                "file_type": "directory",
                "special": ["sticky"],
                "warnings": ["world-writable"],
            },
        ),
        ({"mode": "2750"}, {"symbolic": "rwxr-s---", "special": ["setgid"]}),
        ({"mode": "rwSr--r--"}, {"octal": "4644", "special": ["setuid"], "warnings": []}),
    ],
    "log_stats": [
        (
            {"log_text": LOG, "top": 2},
            {
                "total_lines": 6,
                "unparsed_lines": 1,
                "counts_by_level": {"INFO": 1, "WARNING": 1, "ERROR": 2, "CRITICAL": 1},
                "error_count": 3,
                "error_rate": 0.5,
                "top_messages": [
                    {"message": "db timeout after N ms", "count": 2, "level": "ERROR"},
                    {"message": "api started on port N", "count": 1, "level": "INFO"},
                ],
                "errors_per_minute": {"2024-05-01T10:00": 2, "2024-05-01T10:01": 1},
                "peak_error_minute": {"minute": "2024-05-01T10:00", "errors": 2},
                "first_timestamp": "2024-05-01T10:00",
                "last_timestamp": "2024-05-01T10:01",
            },
        ),
        (
            {"log_text": LOG, "min_level": "ERROR"},
            {
                "top_messages": [
                    {"message": "db timeout after N ms", "count": 2, "level": "ERROR"},
                    {"message": "worker N crashed", "count": 1, "level": "CRITICAL"},
                ]
            },
        ),
        (
            {"log_text": "boot ok\nall quiet\n"},
            {
                "total_lines": 2,
                "unparsed_lines": 2,
                "counts_by_level": {},
                "error_count": 0,
                "error_rate": 0.0,
                "peak_error_minute": None,
                "first_timestamp": None,
            },
        ),
    ],
    "json_path_query": [
        (
            {"document": STORE, "path": "$.store.book[*].title"},
            {
                "count": 3,
                "matches": ["A", "B", "C"],
                "paths": [
                    "$.store.book[0].title",
                    "$.store.book[1].title",
                    "$.store.book[2].title",
                ],
            },
        ),
        (
            {"document": STORE, "path": "store.book[-1].price"},
            {"matches": [22], "paths": ["$.store.book[2].price"]},
        ),
        (
            {"document": STORE, "path": "$..price"},
            {"count": 4, "matches": [8.95, 12.99, 22, 19.95]},
        ),
        (
            {"document": STORE, "path": "$.store['odd key'].v"},
            {"matches": [1], "paths": ['$.store["odd key"].v']},
        ),
        ({"document": STORE, "path": "$.store.book[0:2].title"}, {"matches": ["A", "B"]}),
        ({"document": STORE, "path": "$..*"}, {"count": 18}),
        ({"document": STORE, "path": "$.nothing.here"}, {"count": 0, "matches": []}),
        ({"document": "[1, 2, 3]", "path": "[1]"}, {"matches": [2], "paths": ["$[1]"]}),
    ],
    "unit_convert": [
        (
            {"value": 1, "from_unit": "GiB", "to_unit": "MiB"},
            {"result": 1024, "dimension": "data_size", "formatted": "1 GiB = 1,024 MiB"},
        ),
        (
            {"value": 100, "from_unit": "Mbps", "to_unit": "MB/s"},
            {"result": 12.5, "dimension": "data_rate"},
        ),
        ({"value": 100, "from_unit": "C", "to_unit": "F"}, {"result": 212}),
        ({"value": -40, "from_unit": "F", "to_unit": "C"}, {"result": -40}),
        ({"value": 0, "from_unit": "kelvin", "to_unit": "C"}, {"result": -273.15}),
        ({"value": 1, "from_unit": "TB", "to_unit": "GiB", "precision": 2}, {"result": 931.32}),
        ({"value": 1.5, "from_unit": "h", "to_unit": "min"}, {"result": 90, "dimension": "time"}),
        (
            {"value": 5, "from_unit": "gib", "to_unit": "mib"},
            {"from_unit": "GiB", "to_unit": "MiB", "result": 5120},
        ),
    ],
    "text_diff": [
        (
            {"old": "a\nb\nc", "new": "a\nB\nc"},
            {
                "identical": False,
                "similarity": 0.6667,
                "lines_added": 1,
                "lines_removed": 1,
                "hunks": 1,
                "unified_diff": "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c",
            },
        ),
        (
            {"old": "x\ny\n", "new": "x\ny\n"},
            {"identical": True, "similarity": 1.0, "hunks": 0, "unified_diff": ""},
        ),
        (
            {"old": "a: 1\nb:   2\n", "new": "a: 1\nb: 2\n", "ignore_whitespace": True},
            {"identical": True, "lines_added": 0},
        ),
        (
            {
                "old": "one\n",
                "new": "one\ntwo\nthree\n",
                "old_label": "v1",
                "new_label": "v2",
                "context_lines": 0,
            },
            {
                "lines_added": 2,
                "lines_removed": 0,
                "similarity": 0.5,
                "unified_diff": "--- v1\n+++ v2\n@@ -1,0 +2,2 @@\n+two\n+three",
            },
        ),
    ],
    "percentile_stats": [
        (
            {"values": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]},
            {
                "count": 10,
                "min": 1,
                "max": 10,
                "sum": 55,
                "mean": 5.5,
                "median": 5.5,
                "stdev": 3.0277,  # sqrt(82.5 / 9)
                "percentiles": {"p50": 5.5, "p90": 9.1, "p95": 9.55, "p99": 9.91},
            },
        ),
        (
            {"values": [100, 120, 250, 90, 3000], "percentiles": [50, 99.9], "precision": 2},
            {"mean": 712.0, "median": 120, "percentiles": {"p50": 120.0, "p99.9": 2989.0}},
        ),
        (
            {"values": [7.5]},
            {"stdev": 0.0, "percentiles": {"p50": 7.5, "p90": 7.5, "p95": 7.5, "p99": 7.5}},
        ),
    ],
    "regex_tester": [
        (
            {
                "pattern": r"(?P<user>\w+)@(?P<host>[\w.]+)",
                "text": "mail alice@example.org and bob@ex.net",
                "replacement": r"\g<user> at \g<host>",
            },
            {
                "group_count": 2,
                "group_names": ["user", "host"],
                "match_count": 2,
                "full_match": False,
                "truncated": False,
                "matches": [
                    {
                        "match": "alice@example.org",
                        "start": 5,
                        "end": 22,
                        "groups": ["alice", "example.org"],
                        "named_groups": {"user": "alice", "host": "example.org"},
                    },
                    {
                        "match": "bob@ex.net",
                        "start": 27,
                        "end": 37,
                        "groups": ["bob", "ex.net"],
                        "named_groups": {"user": "bob", "host": "ex.net"},
                    },
                ],
                "substituted": "mail alice at example.org and bob at ex.net",
            },
        ),
        (
            {"pattern": "^error", "text": "Error one\nerror two\nok", "flags": ["i", "m"]},
            {"match_count": 2, "substituted": None},
        ),
        (
            {"pattern": "o", "text": "foo boo", "max_matches": 3},
            {"match_count": 3, "truncated": True},
        ),
        ({"pattern": r"\d+", "text": "12345"}, {"full_match": True, "group_count": 0}),
        ({"pattern": "zzz", "text": "abc"}, {"matched": False, "matches": []}),
    ],
    "semver_tool": [
        (
            {"version": "1.9.3", "compare_to": "1.10.0"},
            {"comparison": -1, "relation": "older", "bumped": None, "is_stable": True},
        ),
        (
            {"version": "2.0.0-rc.1", "compare_to": "2.0.0"},
            {"comparison": -1, "is_prerelease": True, "is_stable": False},
        ),
        ({"version": "1.0.0-alpha.beta", "compare_to": "1.0.0-alpha.1"}, {"comparison": 1}),
        ({"version": "1.0.0-alpha", "compare_to": "1.0.0-alpha.1"}, {"comparison": -1}),
        (
            {"version": "1.2.3", "compare_to": "1.2.3+build.7"},
            {"comparison": 0, "relation": "same precedence"},
        ),
        ({"version": "1.4.2", "bump": "minor"}, {"bumped": "1.5.0"}),
        ({"version": "1.4.2", "bump": "major"}, {"bumped": "2.0.0"}),
        ({"version": "2.0.0-rc.1", "bump": "prerelease"}, {"bumped": "2.0.0-rc.2"}),
        ({"version": "2.0.0-rc.1", "bump": "patch"}, {"bumped": "2.0.0"}),
        ({"version": "1.2.3", "bump": "prerelease", "preid": "beta"}, {"bumped": "1.2.4-beta.0"}),
        (
            {"version": "v1.2.3-alpha.1+001"},
            {
                "version": "1.2.3-alpha.1+001",
                "parsed": {
                    "major": 1,
                    "minor": 2,
                    "patch": 3,
                    "prerelease": ["alpha", "1"],
                    "build": ["001"],
                },
            },
        ),
    ],
    "password_strength": [
        (
            {"password": "password"},
            {
                "length": 8,
                "pool_size": 26,
                "entropy_bits": 37.6,  # 8 * log2(26)
                "effective_entropy_bits": 8.0,
                "score": 0,
                "rating": "very weak",
                "character_classes": ["lower"],
            },
        ),
        (
            # 11 repeats: (12 - 5.5) * log2(26) = 30.55 bits -> score 1.
            {"password": "aaaaaaaaaaaa"},
            {"effective_entropy_bits": 30.55, "score": 1, "rating": "weak"},
        ),
        (
            # 11 * log2(95) = 72.27 bits would be 'strong', but it is shorter than 12.
            {"password": "Tr0ub4dor&3"},
            {
                "pool_size": 95,
                "entropy_bits": 72.27,
                "score": 2,
                "rating": "fair",
                "warnings": ["shorter than 12 characters"],
            },
        ),
        (
            {"password": "X9#mQ2!vLp7@zR4w"},
            {
                "entropy_bits": 105.12,
                "score": 4,
                "rating": "very strong",
                "warnings": [],
                "suggestions": [],
            },
        ),
    ],
    "encode_decode": [
        (
            {"data": "hello world"},
            {"result": "aGVsbG8gd29ybGQ=", "input_bytes": 11, "output_bytes": 16},
        ),
        (
            {"data": "aGVsbG8gd29ybGQ=", "operation": "decode"},
            {"result": "hello world", "result_format": "text"},
        ),
        ({"data": "hi?", "encoding": "base64url"}, {"result": "aGk_"}),
        ({"data": "aGk_", "operation": "decode", "encoding": "base64url"}, {"result": "hi?"}),
        ({"data": "ok", "encoding": "hex"}, {"result": "6f6b"}),
        (
            {"data": "//8A", "operation": "decode"},
            {"result": "ffff00", "result_format": "hex", "output_bytes": 3},
        ),
        ({"data": "a b&c=d", "encoding": "url"}, {"result": "a%20b%26c%3Dd"}),
        ({"data": "hello", "encoding": "base32"}, {"result": "NBSWY3DP"}),
    ],
    "timezone_convert": [
        (
            {"timestamp": "2024-07-01T12:00:00Z", "to_tz": "Asia/Kolkata"},
            {
                "result": "2024-07-01T17:30:00+05:30",
                "utc_offset": "+05:30",
                "abbreviation": "IST",
                "is_dst": False,
                "offset_difference_hours": 5.5,
            },
        ),
        (
            {
                "timestamp": "2024-01-15 09:30",
                "from_tz": "Europe/Berlin",
                "to_tz": "America/New_York",
            },
            {
                "source": "2024-01-15T09:30:00+01:00",
                "result": "2024-01-15T03:30:00-05:00",
                "utc": "2024-01-15T08:30:00Z",
                "abbreviation": "EST",
                "is_dst": False,
                "notes": [],
            },
        ),
        (
            {"timestamp": "2024-07-04T12:00:00", "to_tz": "America/New_York"},
            {"result": "2024-07-04T08:00:00-04:00", "abbreviation": "EDT", "is_dst": True},
        ),
        (
            {"timestamp": "2024-06-01T00:00:00+02:00", "to_tz": "UTC-03:30"},
            {"result": "2024-05-31T18:30:00-03:30", "utc": "2024-05-31T22:00:00Z"},
        ),
        (
            # 02:30 does not exist in New York on 10 March 2024 (clocks jump 02:00 -> 03:00).
            {"timestamp": "2024-03-10T02:30:00", "from_tz": "America/New_York", "to_tz": "UTC"},
            {"notes": ["the local time does not exist (DST gap); it was shifted forward"]},
        ),
    ],
    "csv_summary": [
        (
            {"csv_text": CSV},
            {
                "row_count": 3,
                "column_count": 4,
                "ragged_rows": 0,
                "columns": [
                    {
                        "name": "host",
                        "type": "string",
                        "non_empty": 3,
                        "empty": 0,
                        "distinct": 3,
                        "top_values": [
                            {"value": "web1", "count": 1},
                            {"value": "web2", "count": 1},
                            {"value": "db1", "count": 1},
                        ],
                    },
                    {
                        "name": "cpu",
                        "type": "float",
                        "non_empty": 2,
                        "empty": 1,
                        "distinct": 2,
                        "min": 12.5,
                        "max": 80,
                        "mean": 46.25,
                    },
                    {
                        "name": "ok",
                        "type": "boolean",
                        "non_empty": 3,
                        "empty": 0,
                        "distinct": 3,
                        "top_values": [
                            {"value": "true", "count": 1},
                            {"value": "false", "count": 1},
                            {"value": "yes", "count": 1},
                        ],
                    },
                    {
                        "name": "env",
                        "type": "string",
                        "non_empty": 3,
                        "empty": 0,
                        "distinct": 2,
                        "top_values": [
                            {"value": "prod", "count": 2},
                            {"value": "staging", "count": 1},
                        ],
                    },
                ],
            },
        ),
        (
            {"csv_text": "1;2\n3;4\n", "delimiter": ";", "has_header": False},
            {
                "row_count": 2,
                "columns": [
                    {
                        "name": "column_1",
                        "type": "integer",
                        "non_empty": 2,
                        "empty": 0,
                        "distinct": 2,
                        "min": 1,
                        "max": 3,
                        "mean": 2.0,
                    },
                    {
                        "name": "column_2",
                        "type": "integer",
                        "non_empty": 2,
                        "empty": 0,
                        "distinct": 2,
                        "min": 2,
                        "max": 4,
                        "mean": 3.0,
                    },
                ],
            },
        ),
        ({"csv_text": "a,b\n1\n2,3,4\n"}, {"row_count": 2, "column_count": 3, "ragged_rows": 2}),
    ],
    "duration_humanize": [
        (
            {"duration": 3725},
            {
                "seconds": 3725.0,
                "human": "1 hour, 2 minutes, 5 seconds",
                "compact": "1h 2m 5s",
                "iso8601": "PT1H2M5S",
                "clock": "01:02:05",
            },
        ),
        (
            {"duration": "1.02:03:04"},
            {
                "seconds": 93784.0,
                "human": "1 day, 2 hours, 3 minutes",
                "iso8601": "P1DT2H3M4S",
                "clock": "26:03:04",
            },
        ),
        ({"duration": "PT1H30M"}, {"seconds": 5400.0, "compact": "1h 30m"}),
        ({"duration": "01:30"}, {"seconds": 5400.0}),
        (
            {"duration": "2 days, 4 hours and 5 minutes"},
            {"seconds": 187500.0, "iso8601": "P2DT4H5M"},
        ),
        (
            {"duration": 1209600, "use_weeks": True},
            {"human": "2 weeks", "compact": "2w", "iso8601": "P14D"},
        ),
        ({"duration": 0}, {"human": "0 seconds", "compact": "0s", "iso8601": "PT0S"}),
        ({"duration": "1.5h", "max_units": 1}, {"seconds": 5400.0, "human": "1 hour"}),
    ],
    "windows_event_id_explain": [
        ({"event_id": 4625}, {"known": True, "security_relevant": True}),
        ({"event_id": 6008, "log": "System"}, {"known": True, "security_relevant": False}),
        ({"event_id": 7036, "log": "Security"}, {"known": False, "entries": []}),
        ({"event_id": 12345}, {"known": False, "security_relevant": False}),
    ],
    "filetime_convert": [
        (
            {"value": "133485408000000000"},
            {"iso_utc": "2024-01-01T00:00:00Z", "unix_seconds": 1704067200, "never": False},
        ),
        ({"value": "116444736000000000"}, {"iso_utc": "1970-01-01T00:00:00Z", "unix_seconds": 0}),
        ({"value": "2024-01-01T00:00:00Z"}, {"filetime": 133485408000000000}),
        # 06:30 UTC on 2024-06-01 = unix 1717223400 -> * 10^7 + 116444736000000000.
        (
            {"value": "2024-06-01T08:30:00+02:00", "direction": "to_filetime"},
            {"filetime": 133616970000000000, "iso_utc": "2024-06-01T06:30:00Z"},
        ),
        ({"value": "9223372036854775807"}, {"never": True, "iso_utc": None, "unix_seconds": None}),
        ({"value": "0"}, {"never": True}),
    ],
    # -- made-up systems (sample data in each script; nothing outside it is read) --
    "iptables_list_rules": [
        (
            {"table": "nat"},
            {
                "chains": [
                    {
                        "name": "PREROUTING",
                        "policy": "ACCEPT",
                        "rules": ["-A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80"],
                    },
                    {
                        "name": "POSTROUTING",
                        "policy": "ACCEPT",
                        "rules": ["-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"],
                    },
                    {"name": "OUTPUT", "policy": "ACCEPT", "rules": []},
                ]
            },
        ),
        ({}, {}),
    ],
    "device_config_backup": [
        (
            {"devices": ["core-sw-1", "edge-rtr-1"]},
            {
                "results": [
                    {"device": "core-sw-1", "ok": True, "changed": False, "diff_lines": 0},
                    {"device": "edge-rtr-1", "ok": True, "changed": True, "diff_lines": 6},
                ]
            },
        ),
        (
            {"devices": ["lab-sw-9"]},
            {
                "results": [
                    {"device": "lab-sw-9", "ok": False, "error": "not in the inventory"},
                ]
            },
        ),
    ],
    "cron_job_disable": [
        (
            {"user": "etl", "command_contains": "import_orders"},
            {
                "matched": 1,
                "changed": True,
                "backup_path": "/var/backups/crontab.etl.20240502T101500",
            },
        ),
        ({"user": "etl", "command_contains": "reindex"}, {"matched": 0, "changed": False}),
    ],
    "cron_list_jobs": [
        (
            {"user": "root"},
            {
                "jobs": [
                    {
                        "source": "/etc/cron.d/certbot",
                        "user": "root",
                        "schedule": "0 */12 * * *",
                        "command": "certbot -q renew",
                        "next_run": "2024-05-02T12:00:00",
                    },
                    {
                        "source": "/etc/crontab",
                        "user": "root",
                        "schedule": "17 * * * *",
                        "command": "cd / && run-parts --report /etc/cron.hourly",
                        "next_run": "2024-05-02T11:17:00",
                    },
                ]
            },
        ),
        ({"command_contains": "nothing-like-this"}, {"jobs": []}),
    ],
    "quartz_trigger_job": [
        (
            {"application": "billing", "job_name": "ledgerSync", "action": "pause"},
            {
                "job": "DEFAULT.ledgerSync",
                "action": "pause",
                "accepted": True,
                "next_fire_time": None,
            },
        ),
        (
            {"application": "billing", "job_name": "noSuchJob"},
            {"job": "DEFAULT.noSuchJob", "accepted": False},
        ),
    ],
    "rundeck_job_run": [
        (
            {"job_id": "3f2b8a6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "options": {"env": "staging"}},
            {"execution_id": 48213, "status": "succeeded", "duration_s": 0.15},
        ),
        (
            {
                "job_id": "9b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e",
                "options": {"env": "broken", "records": "0"},
            },
            {"execution_id": 48220, "status": "failed", "duration_s": 0.05},
        ),
        (
            {"job_id": "9b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e", "wait": False},
            {"status": "running", "duration_s": None},
        ),
    ],
    "systemd_timer_list": [
        (
            {},
            {
                "timers": [
                    {
                        "timer": "logrotate.timer",
                        "activates": "logrotate.service",
                        "schedule": "daily",
                        "last": "2024-05-02T00:00:01Z",
                        "next": "2024-05-03T00:00:00Z",
                        "last_result": "success",
                    }
                ]
            },
        ),
        ({"all": True}, {}),
    ],
    "windows_task_list": [
        (
            {"path": "\\Corp\\", "failed_only": True},
            {
                "tasks": [
                    {
                        "name": "NightlyExport",
                        "path": "\\Corp\\",
                        "state": "Ready",
                        "run_as": "CORP\\svc-export",
                        "last_run": "2024-05-02T01:00:00Z",
                        "last_result": "0x80070005 access denied",
                        "next_run": "2024-05-03T01:00:00Z",
                    },
                ]
            },
        ),
        ({"path": "\\Microsoft\\"}, {}),
    ],
    "iis_app_pool_recycle": [
        (
            {"computer": "web-win-02", "pool": "ShopApi", "action": "start"},
            {"pool": "ShopApi", "state": "Started", "new_worker_pid": 8812},
        ),
        ({"pool": "ShopApi"}, {"pool": "ShopApi", "state": "Stopped", "new_worker_pid": None}),
    ],
    "registry_key_read": [
        (
            {"key": "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server"},
            {"exists": True, "values": {"fDenyTSConnections": 0}, "subkeys": ["WinStations"]},
        ),
        ({"key": "HKLM:\\SOFTWARE\\Nothing\\Here"}, {"exists": False}),
        (
            {
                "key": "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations",
                "recurse": True,
            },
            {"values": {"RDP-Tcp\\PortNumber": 3389, "RDP-Tcp\\UserAuthentication": 1}},
        ),
    ],
    "windows_update_status": [
        (
            {"computer": "sql-win-01"},
            {
                "pending": [
                    {
                        "kb": "KB5036893",
                        "title": "2024-04 Cumulative Update",
                        "classification": "Security Updates",
                        "severity": "Critical",
                    }
                ],
                "last_install": "2024-03-14T03:05:00Z",
                "reboot_pending": True,
            },
        ),
        ({"include_optional": True}, {"reboot_pending": False}),
    ],
    "hyperv_vm_list": [
        (
            {"computer": "hv-node-02", "state": "off"},
            {
                "vms": [
                    {
                        "name": "build-agent-07",
                        "state": "off",
                        "uptime_s": 0,
                        "memory_bytes": 0,
                        "cpus": 4,
                        "replication": "NotApplicable",
                        "checkpoints": 3,
                    }
                ]
            },
        ),
        ({"computer": "hv-node-99"}, {"vms": []}),
    ],
    "windows_service_restart": [
        (
            {"computer": "app-win-04", "service_name": "Spooler"},
            {
                "service_name": "Spooler",
                "status": "Running",
                "dependents_restarted": [],
                "ok": True,
            },
        ),
        (
            {"service_name": "W3SVC", "force": True, "timeout_s": 120},
            {"dependents_restarted": ["WAS", "IISADMIN"], "ok": True},
        ),
        ({"service_name": "W3SVC"}, {"ok": False}),
    ],
    "switch_port_shutdown": [
        (
            {
                "device": "access-sw-3f",
                "interface": "Gi1/0/17",
                "reason": "SEC-2291 malware beaconing",
            },
            {"interface": "Gi1/0/17", "admin_status": "down", "persisted": False},
        ),
        (
            {
                "device": "core-sw-1",
                "interface": "Te1/1",
                "action": "no-shutdown",
                "persist": True,
                "reason": "back after SEC-2291",
            },
            {"admin_status": "up", "persisted": True},
        ),
    ],
    "sysctl_read": [
        (
            {"keys": ["vm.swappiness", "net.ipv4.ip_forward"], "expected": {"vm.swappiness": 10}},
            {
                "values": {"vm.swappiness": "60", "net.ipv4.ip_forward": "1"},
                "mismatches": [{"key": "vm.swappiness", "expected": "10", "actual": "60"}],
            },
        ),
        (
            {"keys": ["vm."]},
            {"values": {"vm.swappiness": "60", "vm.overcommit_memory": "0"}, "mismatches": []},
        ),
    ],
    "ad_account_unlock": [
        (
            {"identity": "jsmith", "ticket": "HD-48213"},
            {"unlocked": True, "password_change_required": False},
        ),
        (
            {"identity": "MChen@corp.example", "ticket": "HD-1", "require_password_change": True},
            {"unlocked": False, "password_change_required": True},
        ),
    ],
    "service_restart": [
        (
            {"unit": "nginx", "mode": "reload", "wait_s": 5},
            {
                "unit": "nginx.service",
                "action": "reload",
                "active_state": "active",
                "took_ms": 412,
                "ok": True,
            },
        ),
        ({"unit": "failing-api.service"}, {"active_state": "failed", "ok": False}),
        ({"unit": "stopped-cron", "mode": "try-restart"}, {"action": "none", "ok": False}),
    ],
}

# name -> list of (kwargs, fragment of the ValueError message)
BAD: dict[str, list[tuple[dict[str, Any], str]]] = {
    "cron_next_runs": [
        ({"expression": "61 * * * *", "start": "2024-01-01T00:00"}, "outside 0-59"),
        ({"expression": "* * *", "start": "2024-01-01T00:00"}, "expected 5 fields"),
        ({"expression": "0 0 31 2 *", "start": "2024-01-01T00:00"}, "fewer than 5 times"),
        ({"expression": "* * * * *", "start": "yesterday"}, "ISO 8601"),
        ({"expression": "* * * * *", "start": "2024-01-01T00:00", "count": 0}, "count"),
        ({"expression": "5-1 * * * *", "start": "2024-01-01T00:00"}, "backwards"),
    ],
    "cidr_calculator": [
        ({"cidr": "10.0.0.0/33"}, "not a valid"),
        ({"cidr": "not-an-ip"}, "not a valid"),
        ({"cidr": "10.0.0.0/8", "contains": "10.0.0.0/24"}, "single IP address"),
    ],
    "subnet_split": [
        ({"cidr": "10.0.0.0/24", "new_prefix": 26, "count": 4}, "exactly one"),
        ({"cidr": "10.0.0.0/24"}, "exactly one"),
        ({"cidr": "10.0.0.0/24", "new_prefix": 20}, "between 24 and 32"),
        ({"cidr": "10.0.0.0/8", "new_prefix": 24}, "limit is 1024"),
    ],
    "http_status_explain": [
        ({"code": 99}, "100 to 599"),
        ({"code": 600}, "100 to 599"),
        ({"code": "abc"}, "integer"),
        ({"code": True}, "integer"),
    ],
    "chmod_convert": [
        ({"mode": "999"}, "octal"),
        ({"mode": "rwxrwxrwz"}, "symbolic"),
        ({"mode": ""}, "empty"),
        ({"mode": "xrwxrwxrwx"}, "file type"),
    ],
    "log_stats": [
        ({"log_text": "   \n"}, "non-empty"),
        ({"log_text": LOG, "top": 0}, "between 1 and 50"),
        ({"log_text": LOG, "min_level": "LOUD"}, "min_level"),
    ],
    "json_path_query": [
        ({"document": "{bad", "path": "$"}, "not valid JSON"),
        ({"document": STORE, "path": "$.store[?(@.x)]"}, "unsupported selector"),
        ({"document": STORE, "path": "$.store."}, "expected a key"),
        ({"document": STORE, "path": "$['a"}, "unclosed"),
    ],
    "unit_convert": [
        ({"value": 1, "from_unit": "GB", "to_unit": "s"}, "cannot convert"),
        ({"value": 1, "from_unit": "kb", "to_unit": "B"}, "ambiguous"),
        ({"value": 1, "from_unit": "parsec", "to_unit": "m"}, "unknown unit"),
        ({"value": -300, "from_unit": "C", "to_unit": "K"}, "absolute zero"),
        ({"value": "1", "from_unit": "B", "to_unit": "KB"}, "must be a number"),
    ],
    "text_diff": [
        ({"old": None, "new": "x"}, "strings"),
        ({"old": "a", "new": "b", "context_lines": -1}, "between 0 and 100"),
    ],
    "percentile_stats": [
        ({"values": []}, "non-empty"),
        ({"values": [1, "a"]}, "finite numbers"),
        ({"values": [1, float("nan")]}, "finite numbers"),
        ({"values": [1, 2], "percentiles": [101]}, "between 0 and 100"),
    ],
    "regex_tester": [
        ({"pattern": "(unclosed", "text": "x"}, "invalid regular expression"),
        ({"pattern": "a", "text": "a", "flags": ["z"]}, "unknown flag"),
        ({"pattern": "a", "text": "a", "max_matches": 0}, "between 1 and 1000"),
        ({"pattern": "(a)", "text": "a", "replacement": r"\2"}, "invalid replacement"),
    ],
    "semver_tool": [
        ({"version": "1.2"}, "not a semantic version"),
        ({"version": "01.2.3"}, "not a semantic version"),
        ({"version": "1.2.3", "compare_to": "latest"}, "compare_to"),
        ({"version": "1.2.3", "bump": "huge"}, "bump must be one of"),
    ],
    "password_strength": [
        ({"password": ""}, "non-empty"),
        ({"password": "x" * 2000}, "longer than 1024"),
        ({"password": "abc", "min_length": 0}, "positive"),
    ],
    "encode_decode": [
        ({"data": "zz", "operation": "decode", "encoding": "hex"}, "not valid hex"),
        ({"data": "abc$", "operation": "decode"}, "not valid base64"),
        ({"data": "x", "operation": "rot13"}, "operation"),
        ({"data": "x", "encoding": "uuencode"}, "encoding must be one of"),
    ],
    "timezone_convert": [
        ({"timestamp": "2024-01-01T00:00:00", "to_tz": "Mars/Base"}, "unknown time zone"),
        ({"timestamp": "soon", "to_tz": "UTC"}, "ISO 8601"),
        ({"timestamp": "2024-01-01T00:00:00", "to_tz": "UTC+15"}, "larger than 14 hours"),
    ],
    "csv_summary": [
        ({"csv_text": ""}, "non-empty"),
        ({"csv_text": "a\n1\n", "delimiter": ";;"}, "single character"),
        ({"csv_text": "a\n1\n2\n3\n", "max_rows": 2}, "max_rows"),
    ],
    "duration_humanize": [
        ({"duration": "soon"}, "cannot read"),
        ({"duration": -5}, "non-negative"),
        ({"duration": "3 fortnights"}, "unknown duration unit"),
        ({"duration": 60, "max_units": 0}, "max_units"),
    ],
    "windows_event_id_explain": [
        ({"event_id": 70000}, "0 to 65535"),
        ({"event_id": -1}, "0 to 65535"),
        ({"event_id": 4625, "log": "Setup"}, "log must be"),
        ({"event_id": "abc"}, "integer"),
    ],
    "filetime_convert": [
        ({"value": "abc"}, "neither a FILETIME"),
        ({"value": "-5"}, "out of range"),
        ({"value": "2024-01-01", "direction": "to_iso"}, "not a FILETIME integer"),
        ({"value": "1", "direction": "sideways"}, "direction"),
    ],
    "iptables_list_rules": [({"table": "security"}, "table must be one of")],
    "device_config_backup": [
        ({"devices": []}, "at least one device"),
        ({"devices": ["core-sw-1"], "commit_message": " "}, "commit_message"),
    ],
    "cron_job_disable": [
        ({"user": "etl", "command_contains": "/opt"}, "must match exactly one"),
        ({"user": "etl", "command_contains": "ab"}, "at least 3"),
        ({"user": " ", "command_contains": "import"}, "owner"),
    ],
    "cron_list_jobs": [({"command_contains": "x" * 201}, "at most 200")],
    "quartz_trigger_job": [
        ({"application": "billing", "job_name": "ledgerSync", "action": "delete"}, "action"),
        ({"application": "billing", "job_name": " "}, "job_name"),
    ],
    "rundeck_job_run": [
        ({"job_id": "00000000-0000-0000-0000-000000000000"}, "no job"),
        (
            {"job_id": "3f2b8a6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "options": {"records": "many"}},
            "whole number",
        ),
    ],
    "systemd_timer_list": [({"host": "h" * 254}, "at most 253")],
    "windows_task_list": [({"path": "Corp"}, "backslash")],
    "iis_app_pool_recycle": [
        ({"pool": "Nope"}, "no application pool"),
        ({"pool": "ShopApi", "action": "stop"}, "action"),
    ],
    "registry_key_read": [({"key": "HKXX:\\Software"}, "must start with")],
    "windows_update_status": [],
    "hyperv_vm_list": [({"state": "sleeping"}, "state must be one of")],
    "windows_service_restart": [
        ({"service_name": "NoSuchSvc"}, "no service"),
        ({"service_name": "Spooler", "timeout_s": 1}, "between 5 and 600"),
    ],
    "switch_port_shutdown": [
        ({"device": "nope", "interface": "Gi1/0/1", "reason": "because"}, "inventory"),
        ({"device": "core-sw-1", "interface": "port 7", "reason": "because"}, "Gi1/0/17"),
        ({"device": "core-sw-1", "interface": "Gi1/0/1", "reason": "  x  "}, "reason"),
    ],
    "sysctl_read": [({"keys": []}, "at least one"), ({"keys": ["kernel.nope"]}, "no kernel")],
    "ad_account_unlock": [
        ({"identity": "jsmith", "ticket": "48213"}, "help-desk ticket"),
        ({"identity": "ghost", "ticket": "HD-1"}, "no account"),
    ],
    "service_restart": [
        ({"unit": "nginx; rm -rf /"}, "not a systemd unit name"),
        ({"unit": "nginx", "mode": "bounce"}, "mode must be"),
        ({"unit": "nginx", "wait_s": 0}, "between 1 and 300"),
    ],
}


def _check_subset(result: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        assert key in result, key
        if isinstance(value, float) and not isinstance(result[key], dict):
            assert result[key] == pytest.approx(value, abs=1e-9), key
        else:
            assert result[key] == value, key


def test_every_script_tool_has_hand_computed_cases() -> None:
    assert set(GOOD) == set(SCRIPT_IDS)
    assert set(BAD) == set(SCRIPT_IDS)
    for name in SCRIPT_IDS:
        assert len(GOOD[name]) >= 2, name
        assert len(BAD[name]) >= (0 if name == "windows_update_status" else 1), name


@pytest.mark.parametrize("name", SCRIPT_IDS, ids=SCRIPT_IDS)
def test_script_hand_computed_results(name: str) -> None:
    main = load_main(name)
    validator = Draft202012Validator(BY_NAME[name]["output_schema"])
    for kwargs, expected in GOOD.get(name, []):
        result = main(**copy.deepcopy(kwargs))
        validator.validate(result)
        _check_subset(result, expected)


@pytest.mark.parametrize("name", SCRIPT_IDS, ids=SCRIPT_IDS)
def test_script_rejects_bad_input(name: str) -> None:
    main = load_main(name)
    for kwargs, message in BAD.get(name, []):
        with pytest.raises(ValueError, match=message):
            main(**copy.deepcopy(kwargs))


def test_event_id_details() -> None:
    entry = load_main("windows_event_id_explain")(event_id="4740")["entries"][0]
    assert entry["log"] == "Security"
    assert entry["severity"] == "warning"
    assert "locked out" in entry["summary"]


def test_password_is_never_echoed() -> None:
    result = load_main("password_strength")(password="Tr0ub4dor&3")
    assert "Tr0ub4dor&3" not in json.dumps(result)
    assert result["crack_time_seconds"] > 0


def test_http_hint_for_rate_limit_mentions_retry_after() -> None:
    assert "Retry-After" in load_main("http_status_explain")(code=429)["hint"]
