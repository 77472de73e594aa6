"""A synthetic, valid and varied tool catalog for benchmarks, the same for the same seed.

    .venv/bin/python benchmarks/generate_catalog.py DEST --tools 10000 [--version-index 0]

writes ``DEST/<platform>/<name>.yaml``. From Python, ``generate(n_tools, seed,
version_index)`` returns the definitions: version index 0, 1 and 2 give versions 1.0.0,
1.1.0 and 1.2.0 of the same tools, each with a changed description and one more
optional input than the last.
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

PLATFORMS = ("linux", "windows", "network", "scheduler", "custom")
CATEGORIES = (
    "system",
    "network",
    "automation",
    "monitoring",
    "security",
    "data",
    "text",
    "storage",
    "backup",
    "database",
    "identity",
    "cloud",
    "containers",
    "logging",
    "messaging",
    "reporting",
    "compliance",
    "deployment",
    "scheduling",
    "diagnostics",
)
TAGS = (
    "storage",
    "capacity",
    "cpu",
    "memory",
    "latency",
    "dns",
    "tls",
    "certificates",
    "users",
    "groups",
    "permissions",
    "firewall",
    "routing",
    "vlan",
    "bgp",
    "backup",
    "restore",
    "snapshot",
    "cron",
    "jobs",
    "queue",
    "logs",
    "metrics",
    "alerts",
    "audit",
    "inventory",
    "packages",
    "patching",
    "services",
    "processes",
    "files",
    "search",
    "csv",
    "json",
    "sql",
    "postgres",
    "mysql",
    "redis",
    "kubernetes",
    "docker",
    "aws",
    "azure",
    "gcp",
    "ldap",
    "sso",
    "mfa",
    "vpn",
    "http",
    "smtp",
    "ssh",
    "powershell",
    "registry",
    "eventlog",
    "iis",
    "ad",
    "read-only",
    "destructive",
    "slow",
    "fast",
    "experimental",
)
VERBS = (
    "check",
    "list",
    "show",
    "find",
    "scan",
    "count",
    "rotate",
    "restart",
    "collect",
    "export",
    "sync",
    "verify",
    "measure",
    "trace",
    "report",
    "clean",
)
NOUNS = (
    "disk",
    "mounts",
    "users",
    "services",
    "ports",
    "routes",
    "certs",
    "logs",
    "jobs",
    "queues",
    "tables",
    "backups",
    "packages",
    "processes",
    "interfaces",
    "vlans",
    "zones",
    "events",
    "sessions",
    "buckets",
)
TEAMS = ("ops-team", "net-team", "db-team", "sec-team", "platform", "windows-admins")
SCOPES = ("host", "cluster", "site", "tenant", "global", "file", "service")
COMPLETENESS = ("full", "partial", "sampled", "incremental")
CAPABILITY_WORDS = (
    "inventory",
    "health_check",
    "capacity_check",
    "change",
    "cleanup",
    "diagnosis",
    "report",
    "search",
    "remediation",
    "verification",
)
PATTERN_WORDS = ("quick", "thorough", "sampled", "incremental", "parallel", "single_target")
DEPENDENCIES = (
    ("df", "binary"),
    ("ssh", "binary"),
    ("psql", "binary"),
    ("requests", "python"),
    ("pyyaml", "python"),
    ("ldap3", "library"),
    ("netbox", "service"),
    ("vault", "service"),
    ("sudo", "permission"),
    ("admin_share", "permission"),
)
# Context variables the estimate expressions may read: (name, meaning, sample range).
CONTEXT_VARIABLES = (
    ("N", "number of items", (1, 1000)),
    ("hosts", "hosts to contact", (1, 50)),
    ("rows", "rows to read", (10, 100_000)),
    ("size_mb", "data size in MB", (1, 5000)),
    ("depth", "directory depth", (1, 12)),
)
TIME_TEMPLATES = (
    "{a} + {b} * {x}",
    "max({a}, {b} * {x})",
    "{a} + {b} * {x} + {c} * {y}",
    "{a} * log2({x} + 1)",
    "ceil({x} / {c}) * {a}",
    "{a} + sqrt({x}) * {b}",
)
COST_TEMPLATES = ("{c}", "0.01 * {x}", "{c} + 0.001 * {x}", "min({a}, 0.1 * {x})")

# Inputs a tool may take: (name, kind). The added inputs of later versions are not here.
INPUTS = (
    ("host", "hostname"),
    ("path", "path"),
    ("limit", "integer"),
    ("threshold_pct", "percent"),
    ("timeout_s", "number"),
    ("query", "text"),
    ("recursive", "boolean"),
    ("include_hidden", "boolean"),
    ("labels", "object"),
    ("names", "array"),
    ("port", "port"),
    ("output_format", "enum"),
    ("since_minutes", "integer"),
    ("sample_ratio", "ratio"),
    ("severity", "enum"),
    ("user", "text"),
)
ADDED_INPUTS = (
    ("verbose", {"type": "boolean", "default": False, "description": "Say more in the result."}),
    (
        "max_results",
        {
            "type": "integer",
            "minimum": 1,
            "maximum": 10_000,
            "default": 100,
            "description": "Stop after this many results.",
        },
    ),
)
ENUMS = {
    "output_format": ["table", "json", "csv"],
    "severity": ["info", "warning", "error", "critical"],
}


def queries(n: int, seed: int = 0) -> list[str]:
    """Distinct queries a person might type, from the words the generated tools use."""
    rng = random.Random(seed)
    words = [*VERBS, *NOUNS, *TAGS, *CATEGORIES, "on", "the", "is", "which", "host", "slow"]
    seen: set[str] = set()
    while len(seen) < n:
        seen.add(" ".join(rng.sample(words, rng.randint(2, 6))))
    return sorted(seen)


def version_number(version_index: int) -> str:
    return f"1.{version_index}.0"


def generate(n_tools: int = 10_000, seed: int = 0, version_index: int = 0) -> list[dict[str, Any]]:
    """``n_tools`` valid definitions, the same for the same seed; see the module docstring."""
    if version_index not in (0, 1, 2):
        raise ValueError("version_index must be 0, 1 or 2")
    return [_tool(index, seed, version_index) for index in range(n_tools)]


def _tool(index: int, seed: int, version_index: int) -> dict[str, Any]:
    # One generator per tool: the same tool whatever the catalog's size or version.
    rng = random.Random(f"quiver-bench:{seed}:{index}")
    name = f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}_{index:05d}"
    platform = PLATFORMS[index % len(PLATFORMS)]
    category = rng.choice(CATEGORIES)
    inputs = [_input(rng, input_name, kind) for input_name, kind in _sample(rng, INPUTS, 2, 5)]
    properties = {input_name: schema for input_name, schema, _ in inputs}
    required = [n for n, schema, _ in inputs if "default" not in schema and rng.random() < 0.6]
    input_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        input_schema["required"] = required
    if rng.random() < 0.5:
        input_schema["additionalProperties"] = False
    samples = {input_name: sample for input_name, _, sample in inputs}
    definition: dict[str, Any] = {
        "name": name,
        "version": version_number(version_index),
        "description": _description(rng, name, category, platform),
        "platform": platform,
        "category": category,
        "status": rng.choices(("active", "testing", "deprecated"), (90, 7, 3))[0],
        "enabled": rng.random() < 0.9,
        "tags": sorted(rng.sample(TAGS, rng.randint(1, 5))),
        "defaults": _defaults(rng, inputs),
        "dependencies": [
            {"name": dep, "type": kind, "required": rng.random() < 0.8}
            for dep, kind in _sample(rng, DEPENDENCIES, 0, 2)
        ],
        "metadata": {
            "author": rng.choice(TEAMS),
            "documentation_url": f"https://docs.example.org/tools/{name}",
        },
        "input_schema": input_schema,
        "output_schema": {
            "type": "object",
            "properties": {
                "result": {"type": "array", "items": {"type": "object"}},
                "count": {"type": "integer", "minimum": 0},
            },
        },
        "runtime": _runtime(rng, name),
        "capabilities": _capabilities(rng, name, required, samples),
    }
    if definition["runtime"]["kind"] == "script":
        definition["script"] = _script(properties, required)
    _revise(definition, version_index)
    return definition


def _sample(rng: random.Random, items: tuple[Any, ...], low: int, high: int) -> list[Any]:
    return rng.sample(items, rng.randint(low, high))


def _description(rng: random.Random, name: str, category: str, platform: str) -> str:
    verb, noun, _ = name.split("_")
    return f"{verb.title()} {noun} on {platform} targets for {category} work. " + rng.choice(
        (
            "Results come largest first.",
            "Reads only; changes nothing.",
            "Safe to run during business hours.",
            "Needs an account with read access to the target.",
            "Output is one row per item, with a summary count.",
        )
    )


def _input(rng: random.Random, name: str, kind: str) -> tuple[str, dict[str, Any], Any]:
    """An input's name, its JSON Schema, and a value that fits it (for examples)."""
    text = f"The {name.replace('_', ' ')}."
    if kind == "hostname":
        return (
            name,
            {"type": "string", "pattern": "^[a-z0-9.-]+$", "description": text},
            (f"srv{rng.randint(1, 99)}.example.org"),
        )
    if kind == "path":
        schema = {"type": "string", "minLength": 1, "default": "/", "description": text}
        return name, schema, rng.choice(("/", "/var/log", "/srv/data"))
    if kind == "integer":
        top = rng.choice((100, 1000, 10_000))
        schema = {"type": "integer", "minimum": 1, "maximum": top, "description": text}
        if rng.random() < 0.7:
            schema["default"] = rng.randint(1, top)
        return name, schema, rng.randint(1, top)
    if kind == "percent":
        schema = {"type": "integer", "minimum": 0, "maximum": 100, "default": 80}
        return name, schema, rng.randint(0, 100)
    if kind == "number":
        schema = {"type": "number", "exclusiveMinimum": 0, "default": 30, "description": text}
        return name, schema, round(rng.uniform(0.5, 120), 1)
    if kind == "ratio":
        schema = {"type": "number", "minimum": 0, "maximum": 1, "default": 1.0}
        return name, schema, round(rng.random(), 2)
    if kind == "port":
        schema = {"type": "integer", "minimum": 1, "maximum": 65535, "description": text}
        return name, schema, rng.choice((22, 80, 443, 5432, 8080))
    if kind == "text":
        schema = {"type": "string", "minLength": 1, "maxLength": 200, "description": text}
        return name, schema, rng.choice(("error", "backup", "svc-deploy", "alice"))
    if kind == "boolean":
        return name, {"type": "boolean", "default": False, "description": text}, True
    if kind == "enum":
        choices = ENUMS[name]
        schema = {"type": "string", "enum": choices, "default": choices[0]}
        return name, schema, rng.choice(choices)
    if kind == "array":
        schema = {"type": "array", "items": {"type": "string"}, "maxItems": 20, "default": []}
        return name, schema, [f"item{i}" for i in range(rng.randint(1, 3))]
    if kind == "object":
        schema = {"type": "object", "additionalProperties": {"type": "string"}}
        return name, schema, {"env": rng.choice(("prod", "staging")), "team": "ops"}
    raise ValueError(f"unknown input kind {kind}")


def _defaults(rng: random.Random, inputs: list[tuple[str, dict[str, Any], Any]]) -> dict[str, Any]:
    defaults: dict[str, Any] = {"freshness": rng.choice(("live", "cached"))}
    name, _schema, sample = rng.choice(inputs)
    defaults[name] = copy.deepcopy(sample)
    return defaults


def _runtime(rng: random.Random, name: str) -> dict[str, Any]:
    kind = rng.choices(("none", "script", "callable"), (50, 35, 15))[0]
    runtime: dict[str, Any] = {
        "kind": kind,
        "timeout_s": rng.choice((5, 10, 30, 60, 120)),
        "memory_mb": rng.choice((128, 256, 512, 1024)),
        "network": rng.random() < 0.4,
    }
    if kind == "callable":
        runtime["callable"] = f"bench.{name}"
    return runtime


def _script(properties: dict[str, Any], required: list[str]) -> str:
    python_types = {
        "string": "str",
        "integer": "int",
        "number": "float",
        "boolean": "bool",
        "array": "list",
        "object": "dict",
    }
    # Parameters without a default come first, as Python requires.
    ordered = sorted(properties, key=lambda n: n not in required)
    params = []
    for name in ordered:
        annotation = python_types[properties[name].get("type", "string")]
        params.append(f"{name}: {annotation}" + ("" if name in required else " = None"))
    return (
        f"def main({', '.join(params)}) -> dict:\n"
        "    rows = []\n"
        "    return {'result': rows, 'count': len(rows)}\n"
    )


def _capabilities(
    rng: random.Random, name: str, required: list[str], samples: dict[str, Any]
) -> list[dict[str, Any]]:
    noun = name.split("_")[1]
    return [
        {
            "name": f"{noun}_{word}",
            "description": f"{word.replace('_', ' ').capitalize()} of {noun}.",
            "patterns": [
                _pattern(rng, pattern_word, required, samples)
                for pattern_word in _sample(rng, PATTERN_WORDS, 1, 3)
            ],
        }
        for word in _sample(rng, CAPABILITY_WORDS, 1, 3)
    ]


def _pattern(
    rng: random.Random, name: str, required: list[str], samples: dict[str, Any]
) -> dict[str, Any]:
    variables = _sample(rng, CONTEXT_VARIABLES, 1, 2)
    context = {
        var: {"description": meaning, "sample": rng.randint(*bounds)}
        for var, meaning, bounds in variables
    }
    x = variables[0][0]
    y = variables[-1][0]
    numbers = {
        "a": rng.randint(10, 2000),
        "b": round(rng.uniform(0.1, 20), 2),
        "c": rng.randint(1, 50),
        "x": x,
        "y": y,
    }
    # Copies, so that no two parts of a definition share an object (YAML would alias them).
    example_input = {key: copy.deepcopy(samples[key]) for key in required}
    for key in rng.sample(sorted(samples), rng.randint(0, len(samples))):
        example_input[key] = copy.deepcopy(samples[key])
    examples: list[dict[str, Any]] = [{"input": example_input}]
    if rng.random() < 0.5:
        examples[0]["output"] = {"result": [], "count": 0}
        minimal = {key: copy.deepcopy(samples[key]) for key in required}
        examples.append({"description": "only what is required", "input": minimal})
    return {
        "name": name,
        "description": f"{name.replace('_', ' ').capitalize()} pass over the targets.",
        "typical_use_cases": [f"{name.replace('_', ' ')} check", "weekly review"][
            : rng.randint(1, 2)
        ],
        "context_variables": context,
        "time_estimate_ms": rng.choice(TIME_TEMPLATES).format(**numbers),
        "cost_estimate": rng.choice(COST_TEMPLATES).format(**numbers),
        "complexity_score": round(rng.random(), 2),
        "scope": rng.choice(SCOPES),
        "completeness": rng.choice(COMPLETENESS),
        "limitations": ["network mounts may hang", "needs read access"][: rng.randint(0, 2)],
        "policy": {
            "max_cost": rng.choice((None, 1, 5, 10, 100)),
            "requires_approval": rng.random() < 0.1,
            "production_safe": rng.random() < 0.85,
        },
        "preference_match": {
            key: round(rng.random(), 2)
            for key in ("speed", "accuracy", "cost", "complexity", "completeness")
        },
        "required_inputs": list(required),
        "expected_outputs": ["result", "count"],
        "examples": examples,
    }


def _revise(definition: dict[str, Any], version_index: int) -> None:
    """Later versions: a reworded description and one more optional input each."""
    for index in range(version_index):
        input_name, schema = ADDED_INPUTS[index]
        definition["input_schema"]["properties"][input_name] = dict(schema)
        definition["description"] += f" Revised in {version_number(index + 1)}: takes {input_name}."
    if definition.get("script") and version_index:
        added = ", ".join(f"{name}=None" for name, _ in ADDED_INPUTS[:version_index])
        definition["script"] = definition["script"].replace(") -> dict:", f", {added}) -> dict:")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic catalog as a YAML tree.")
    parser.add_argument("dest", type=Path, help="folder to write <platform>/<name>.yaml into")
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--version-index", type=int, default=0, choices=(0, 1, 2))
    parser.add_argument("--format", default="yaml", choices=("yaml", "json"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from catalog.formats.files import write_tree

    definitions = generate(args.tools, args.seed, args.version_index)
    count = write_tree(definitions, args.dest, fmt=args.format)
    print(f"Wrote {count} definitions ({version_number(args.version_index)}) to {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
