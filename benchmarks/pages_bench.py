"""Time the tool list page and its live-search responses with 10,000 tools, against the
issue's target of 100 ms p95 server time.

    .venv/bin/python benchmarks/pages_bench.py [--tools 10000] [--db sqlite|postgres|both]
                                               [--runs 100]

Like ``catalog_bench.py``, each database is measured by a child process of this script
with its own environment: a temporary ``QUIVER_VAR_DIR`` (SQLite file, cache, secret
key) and, for PostgreSQL, the database ``quiver_bench_pages`` dropped and recreated (and
left in place for ``EXPLAIN ANALYZE``). What each figure means is in
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import Any

from catalog_bench import (
    STATES,
    _analyze,
    _code_version,
    _percentiles,
    _say,
    _server_version,
    run_child,
)
from generate_catalog import generate

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "quiver_bench_pages"
DATABASES = ("sqlite", "postgres")
TARGET_TOOLS = 10_000
PAGE_TARGET_MS = 100.0
WARMUP = 5

# (label, query string, sent by htmx). Deep pages are computed from the catalog size.
LIST_CASES: tuple[tuple[str, dict[str, str], bool], ...] = (
    ("list, first page", {}, False),
    ("list, middle page", {"page": "middle"}, False),
    ("list, last page", {"page": "last"}, False),
    ("list, platform + status", {"platform": "linux", "status": "active"}, False),
    ("list, platform + tag", {"platform": "network", "tag": "dns"}, False),
    (
        "list, category + enabled, page 2",
        {"category": "backup", "enabled": "yes", "page": "2"},
        False,
    ),
    ("list, sorted by newest", {"ordering": "-updated_at"}, False),
    ("list, sorted by status, middle page", {"ordering": "status", "page": "middle"}, False),
    ("list, sorted by name descending", {"ordering": "-name", "page": "last"}, False),
)
SEARCH_CASES: tuple[tuple[str, dict[str, str], bool], ...] = (
    ("live search 'disk'", {"q": "disk"}, True),
    ("live search 'backup' (a tag too)", {"q": "backup"}, True),
    ("live search 'business hours'", {"q": "business hours"}, True),
    ("live search 'check_users_0'", {"q": "check_users_0"}, True),
    ("live search, no match", {"q": "no such words"}, True),
    ("live search 'scan' + platform", {"q": "scan", "platform": "windows"}, True),
    ("htmx page 3 of a filter", {"platform": "custom", "page": "3"}, True),
)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child:
        return _run_child(args)
    databases = DATABASES if args.db == "both" else (args.db,)
    print(
        f"Quiver pages benchmark: {args.tools:,} tools, {args.runs} runs per page, seed {args.seed}"
    )
    print(f"Code: {_code_version()}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="quiver-pages-bench-") as scratch:
        for db in databases:
            results[db] = _run_database(db, args, Path(scratch))
    print()
    _print_report(results, args.tools)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tools", type=int, default=TARGET_TOOLS, help="catalog size")
    parser.add_argument("--db", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--runs", type=int, default=100, help="timed requests per page")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the parent: one child process per database ------------------------------------------


def _run_database(db: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    child_args = [f"--tools={args.tools}", f"--runs={args.runs}", f"--seed={args.seed}"]
    return run_child(Path(__file__), db, child_args, scratch / db, BENCH_DATABASE)


# -- the child: one database, every page -------------------------------------------------


def _run_child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from catalog.database import collector_paused
    from catalog.formats.files import Source
    from catalog.models import Role
    from catalog.services import import_definitions, set_membership
    from catalog.services.tenants import create_tenant

    say = _say(args.child)
    call_command("migrate", verbosity=0)
    server = _server_version()
    say(f"migrated a fresh {connection.vendor} database ({server})")
    tenant = create_tenant(slug="bench", name="Benchmark")
    admin = get_user_model().objects.create_user("bench-admin", password="not-used-here")
    set_membership(tenant, user=admin, role=Role.ADMIN, actor=None)
    sources = [
        Source(f"{d['platform']}/{d['name']}.yaml", None, d)
        for d in generate(args.tools, args.seed, 0)
    ]
    start = perf_counter()
    with collector_paused():
        report = import_definitions(tenant, sources, actor=None, reason="benchmark")
    say(f"imported {args.tools:,} tools in {perf_counter() - start:.1f} s ({report.summary()})")
    del sources

    client = Client()
    client.force_login(admin)
    results: dict[str, Any] = {"db": args.child, "server": server, "load": [os.getloadavg()[0]]}
    for state in STATES:
        if state == "analyzed":
            say(f"{_analyze()} done")
        say(f"pages, {STATES[state]}:")
        results[state] = _measure_pages(client, args, say)
    results["load"].append(os.getloadavg()[0])
    args.results.write_text(json.dumps(results, indent=2))
    return 0


def _measure_pages(
    client: Any, args: argparse.Namespace, say: Callable[[str], None]
) -> dict[str, dict[str, float]]:
    from django.urls import reverse

    url = reverse("catalog:tool_list")
    last_page = max(1, -(-args.tools // 50))
    pages = {"middle": str(max(1, last_page // 2)), "last": str(last_page)}
    figures = {}
    for label, params, htmx in (*LIST_CASES, *SEARCH_CASES):
        query = {
            key: pages.get(value, value) if key == "page" else value
            for key, value in params.items()
        }
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

        def call(
            query: dict[str, str] = query, headers: dict[str, str] = headers, label: str = label
        ) -> Any:
            response = client.get(url, query, **headers)
            if response.status_code != 200:
                raise SystemExit(f"{label}: HTTP {response.status_code}")
            return response

        for _ in range(WARMUP):
            response = call()
        rows = response.content.count(b'name="name" value=')
        timings = []
        for _ in range(args.runs):
            start = perf_counter()
            call()
            timings.append((perf_counter() - start) * 1000)
        figures[label] = {**_percentiles(timings), "rows": rows}
        one = figures[label]
        say(f"{label}: p50 {one['p50']:.1f} ms, p95 {one['p95']:.1f} ms ({rows} rows)")
    return figures


# -- the report ----------------------------------------------------------------------------


def _print_report(results: dict[str, dict[str, Any]], n_tools: int) -> None:
    databases = list(results)
    width = 44

    def row(label: str, values: list[str]) -> None:
        print(f"{label:<{width}}" + "".join(f"  {value:>34}" for value in values))

    target = f"target p95 ≤ {PAGE_TARGET_MS:g} ms"
    print(f"Server time per request, p50 / p95 ({n_tools:,} tools; {target})")
    row("", databases)
    row("", [results[db]["server"] for db in databases])
    misses = []
    for state, description in STATES.items():
        print(f"{description}:")
        labels = list(results[databases[0]][state])
        for label in labels:
            cells = []
            for db in databases:
                one = results[db][state][label]
                verdict = "PASS" if one["p95"] <= PAGE_TARGET_MS else "MISSED"
                if verdict == "MISSED":
                    misses.append(f"{db}, {description}: {label}")
                cells.append(f"{one['p50']:.1f} / {one['p95']:.1f} ms {verdict}")
            row(f"  {label}", cells)
    row("load average at start / end", [_load(results[db]["load"]) for db in databases])
    print()
    if misses:
        print(f"MISSED the {PAGE_TARGET_MS:g} ms p95 target:")
        for miss in misses:
            print(f"  {miss}")
    else:
        print(f"PASS: every page and live-search response within {PAGE_TARGET_MS:g} ms at p95.")


def _load(load: list[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load) + f" ({os.cpu_count()} CPUs)"


if __name__ == "__main__":
    sys.exit(main())
