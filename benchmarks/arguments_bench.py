"""Time argument validation with defaults (planner.arguments.prepare_arguments).

    .venv/bin/python benchmarks/arguments_bench.py [--calls 20000]

The issue's target is 100 µs per call. Each schema of the sample catalog gets valid
arguments built from its own required properties; the calls are timed one by one after
the cache is warm, so the figure is what a request pays, not the first compile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from time import perf_counter_ns
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_US = 100.0

SAMPLES: dict[str, Any] = {
    "string": "web-01",
    "integer": 3,
    "number": 1.5,
    "boolean": True,
    "array": [],
    "object": {},
}


def _sample(schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type", "string")
    kind = kind[0] if isinstance(kind, list) else kind
    value = SAMPLES.get(kind, "x")
    if kind in ("integer", "number") and "minimum" in schema:
        value = schema["minimum"]
    if kind == "string" and schema.get("minLength", 0) > len(value):
        value = "x" * schema["minLength"]
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from catalog.definitions.format import content_hash, normalize
    from catalog.formats.files import read_path
    from planner.arguments import ArgumentsInvalid, prepare_arguments

    cases = []
    for source in read_path(ROOT / "catalog" / "sample_catalog").sources:
        d = normalize(source.data)
        schema = d["input_schema"]
        required = schema.get("required", [])
        properties = schema.get("properties", {})
        arguments = {name: _sample(properties.get(name, {})) for name in required}
        try:
            prepare_arguments(schema, arguments)
        except ArgumentsInvalid:
            continue  # a sample this simple builder cannot satisfy; left out
        cases.append((schema, arguments, content_hash(d)))
    timings = []
    for i in range(args.calls):
        schema, arguments, key = cases[i % len(cases)]
        started = perf_counter_ns()
        prepare_arguments(schema, arguments, key=key)
        timings.append((perf_counter_ns() - started) / 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95)]
    verdict = "PASS" if p95 <= TARGET_US else "MISSED"
    print(f"{len(cases)} sample schemas, {args.calls} calls, cache warm after the first round")
    print(
        f"prepare_arguments: p50 {p50:.1f} µs, p95 {p95:.1f} µs "
        f"(target {TARGET_US:.0f} µs) {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
