"""Time the catalog's hot paths on fresh SQLite and PostgreSQL databases, against targets.

    .venv/bin/python benchmarks/catalog_bench.py [--tools 10000] [--db sqlite|postgres|both]

Each database is measured by a child process of this script with its own environment: a
temporary ``QUIVER_VAR_DIR`` (SQLite file, cache, secret key) and, for PostgreSQL, the
database ``quiver_bench`` dropped and recreated. What each figure means is in
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from time import perf_counter
from typing import Any

from generate_catalog import CATEGORIES, TAGS, generate, version_number

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
BENCH_DATABASE = "quiver_bench"
DATABASES = ("sqlite", "postgres")

LOOKUPS = 2000  # random names per lookup figure
LIST_SAMPLES_PER_KIND = 100  # random filters and pages per kind of list
VALIDATIONS = 1000  # definitions validated one by one
PAGE_SIZE = 50

# The targets, for 10,000 tools on PostgreSQL.
TARGET_TOOLS = 10_000
IMPORT_TARGET_S = 30.0
LOOKUP_TARGET_MS = 2.0
LIST_TARGET_MS = 20.0

# The database's state when the reads are timed.
STATES = {"fresh": "right after the imports", "analyzed": "after (VACUUM) ANALYZE"}

LIST_KINDS = ("enabled", "platform", "platform+tag", "platform+category")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child:
        return _run_child(args)
    databases = DATABASES if args.db == "both" else (args.db,)
    print(f"Quiver catalog benchmark: {args.tools:,} tools x 3 versions, seed {args.seed}")
    print(f"Code: {_code_version()}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="quiver-bench-") as scratch:
        tree = Path(scratch) / "tree"
        _write_tree(tree, args.tools, args.seed)
        for db in databases:
            results[db] = _run_database(db, args, Path(scratch), tree)
    print()
    _print_report(results, args.tools)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tools", type=int, default=TARGET_TOOLS, help="catalog size")
    parser.add_argument("--db", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--seed", type=int, default=0)
    # Used by the parent to start a child for one database.
    parser.add_argument("--child", choices=DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the parent: one child process per database ------------------------------------------


def _code_version() -> str:
    """The commit measured, and whether files differ from it (read-only git commands)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
    except OSError:
        return "unknown (no git)"
    files = [line[3:] for line in changed if line.strip()]
    if not files:
        return f"commit {commit}"
    return f"commit {commit} + uncommitted changes to " + ", ".join(files)


def _write_tree(tree: Path, n_tools: int, seed: int) -> None:
    sys.path.insert(0, str(ROOT))
    from catalog.formats.files import write_tree

    start = perf_counter()
    write_tree(generate(n_tools, seed, 0), tree)
    print(f"Wrote the 1.0.0 catalog as YAML files in {perf_counter() - start:.1f} s (not timed)")


def _run_database(db: str, args: argparse.Namespace, scratch: Path, tree: Path) -> dict[str, Any]:
    child_args = [f"--tools={args.tools}", f"--seed={args.seed}", f"--tree={tree}"]
    return run_child(Path(__file__), db, child_args, scratch / db, BENCH_DATABASE)


def run_child(
    script: Path, db: str, child_args: list[str], var_dir: Path, database: str
) -> dict[str, Any]:
    """Run ``script --child=<db>`` against a fresh database and return its results.

    SQLite gets the new ``var_dir``; PostgreSQL gets ``database`` dropped and recreated.
    DEBUG is off on both (with it on, Django keeps every query it runs) and no cache is
    shared, so nothing is cached between the calls being timed.
    """
    var_dir.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CACHE_URL", "SECRET_KEY", "DEBUG")
    }
    # The test client speaks plain HTTP, so no HTTPS redirect.
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        QUIVER_VAR_DIR=str(var_dir),
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
    )
    if db == "postgres":
        _recreate_postgres_database(database)
        env.update(
            DATABASE_URL=f"{POSTGRES_SERVER}/{database}", SECRET_KEY="benchmark-only-not-secret"
        )
    results_file = var_dir / "results.json"
    command = [
        sys.executable,
        str(script.resolve()),
        f"--child={db}",
        *child_args,
        f"--results={results_file}",
    ]
    print(f"\n[{db}] starting a child process with a fresh database", flush=True)
    if subprocess.run(command, env=env, cwd=ROOT).returncode != 0:
        raise SystemExit(f"[{db}] the benchmark failed; see the output above")
    return json.loads(results_file.read_text())


def _recreate_postgres_database(database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        name = sql.Identifier(database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


# -- the child: one database, every figure -------------------------------------------------


def _run_child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from catalog.services.tenants import create_tenant

    call_command("migrate", verbosity=0)
    say = _say(args.child)
    server = _server_version()
    say(f"migrated a fresh {connection.vendor} database ({server})")
    tenant = create_tenant(slug="bench", name="Benchmark")
    results: dict[str, Any] = {"db": args.child, "server": server}
    results["load"] = [os.getloadavg()[0]]
    results["imports"], names, sample = _measure_imports(tenant, args, say)
    results["rows"] = _count_rows(tenant, args.tools)
    say("rows: " + ", ".join(f"{count:,} {table}" for table, count in results["rows"].items()))
    # Reads twice: as the imports leave the database, then with fresh planner statistics
    # (what autovacuum gives a server some time after a large import).
    for state in STATES:
        if state == "analyzed":
            start = perf_counter()
            command = _analyze()
            say(f"{command}: {perf_counter() - start:.2f} s")
        say(f"reads, {STATES[state]}:")
        rng = random.Random(args.seed)  # the same names, filters and pages in both states
        results[state] = {
            "lookups": _measure_lookups(tenant, names, rng, say),
            "lists": _measure_lists(tenant, rng, say),
        }
    results["validate"] = _measure_validation(sample, say)
    results["load"].append(os.getloadavg()[0])
    args.results.write_text(json.dumps(results, indent=2))
    return 0


def _say(db: str) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(f"[{db}] {message}", flush=True)

    return say


def seed_tenant(
    slug: str, count: int, seed: int, *, user: Any, role: str, all_usable: bool, say: Any
) -> tuple[list[str], str]:
    """A tenant holding ``count`` generated tools, ``user`` a member with ``role``, and an
    API key of that role: returns the tools' names and the key's token (in a child only).

    With ``all_usable`` every tool is enabled and active, so every one is exported.
    """
    from catalog.database import collector_paused
    from catalog.formats.files import Source
    from catalog.services import create_api_key, import_definitions, set_membership
    from catalog.services.tenants import create_tenant

    tenant = create_tenant(slug=slug, name=slug.title())
    set_membership(tenant, user=user, role=role, actor=None)
    definitions = generate(count, seed, 0)
    if all_usable:
        for d in definitions:
            d.update(enabled=True, status="active")
    sources = [Source(f"{d['platform']}/{d['name']}.yaml", None, d) for d in definitions]
    start = perf_counter()
    with collector_paused():
        report = import_definitions(tenant, sources, actor=None, reason="benchmark")
    say(f"{slug}: imported {count:,} tools in {perf_counter() - start:.1f} s ({report.summary()})")
    token = create_api_key(tenant, name="bench", role=role, actor=user)[1]
    return [d["name"] for d in definitions], token


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute("show server_version")
        version = cursor.fetchone()[0].split()[0]
        cursor.execute("show autovacuum")
        return f"PostgreSQL {version}, autovacuum {cursor.fetchone()[0]}"


def _analyze() -> str:
    """Refresh the planner's statistics (and on PostgreSQL clear dead rows); the command."""
    from django.db import connection

    command = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(command)
    return command


@contextmanager
def _counting_queries() -> Iterator[list[int]]:
    """Count the queries run inside the block: ``count[0]`` afterwards."""
    from django.db import connection

    count = [0]

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def _measure_imports(
    tenant: Any, args: argparse.Namespace, say: Callable[[str], None]
) -> tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]:
    """Read the tree, import 1.0.0, 1.1.0 and 1.2.0, then 1.2.0 again (no changes).

    Like ``manage.py import_tools``, each step runs with the garbage collector paused.
    """
    from catalog.database import collector_paused
    from catalog.formats.files import Source, read_path
    from catalog.services.importing import import_definitions

    start = perf_counter()
    with collector_paused():
        read = read_path(args.tree)
    read_s = perf_counter() - start
    if read.problems or len(read.sources) != args.tools:
        raise SystemExit(f"reading the tree went wrong: {read.problems[:5]}")
    say(f"read {len(read.sources):,} YAML files (read_path) in {read_s:.2f} s")
    passes: list[dict[str, Any]] = [{"label": "read", "seconds": read_s, "queries": 0}]
    sources = read.sources
    del read
    steps = ((0, "new", ""), (1, "changed", ""), (2, "changed", ""), (2, "unchanged", " again"))
    for step, (version_index, action, again) in enumerate(steps):
        if step in (1, 2):
            sources = [
                Source(f"{d['platform']}/{d['name']}.yaml", None, d)
                for d in generate(args.tools, args.seed, version_index)
            ]
        with _counting_queries() as queries, collector_paused():
            start = perf_counter()
            report = import_definitions(tenant, sources, actor=None, reason="benchmark")
            seconds = perf_counter() - start
        label = version_number(version_index) + again
        if report.count(action) != args.tools:
            raise SystemExit(f"import of {label}: {report.summary()}")
        passes.append({"label": label, "seconds": seconds, "queries": queries[0]})
        say(f"import {label}: {seconds:.2f} s, {queries[0]:,} queries ({report.summary()})")
    names = [source.data["name"] for source in sources]
    sample = random.Random(args.seed).sample(
        [source.data for source in sources], min(VALIDATIONS, len(sources))
    )
    return passes, names, sample


def _count_rows(tenant: Any, n_tools: int) -> dict[str, int]:
    from catalog.models import AuditLog, Capability, Pattern, Tool, ToolTag, ToolVersion

    tools = Tool.objects.for_tenant(tenant)
    versions = ToolVersion.objects.filter(tool__tenant=tenant)
    rows = {
        "tools": tools.count(),
        "versions": versions.count(),
        "capabilities": Capability.objects.filter(version__tool__tenant=tenant).count(),
        "patterns": Pattern.objects.filter(capability__version__tool__tenant=tenant).count(),
        "tags": ToolTag.objects.filter(tenant=tenant).count(),
        "audit entries": AuditLog.objects.for_tenant(tenant).count(),
    }
    at_last = tools.filter(current_version__version=version_number(2)).count()
    if rows["tools"] != n_tools or rows["versions"] != 3 * n_tools or at_last != n_tools:
        raise SystemExit(f"the catalog is not as imported: {rows}, {at_last} at 1.2.0")
    return rows


def _timed(calls: list[Callable[[], Any]], warmup: int = 20) -> list[float]:
    """Milliseconds of each call, after a few untimed ones."""
    for call in calls[:warmup]:
        call()
    timings = []
    for call in calls:
        start = perf_counter()
        call()
        timings.append((perf_counter() - start) * 1000)
    return timings


def _percentiles(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {"n": len(ordered), "p50": rank(50), "p95": rank(95), "p99": rank(99)}


def _measure_lookups(
    tenant: Any, names: list[str], rng: random.Random, say: Callable[[str], None]
) -> dict[str, dict[str, float]]:
    from django.db import connection

    from catalog.selectors import current_version_by_name, tool_by_name

    def round_trip(_name: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
            cursor.fetchone()

    lookups: dict[str, Callable[[str], Any]] = {
        "round trip (select 1)": round_trip,
        "current_version_by_name": partial(current_version_by_name, tenant),
        "tool_by_name": partial(tool_by_name, tenant),
    }
    figures = {}
    for label, lookup in lookups.items():
        chosen = rng.choices(names, k=LOOKUPS)
        figures[label] = _percentiles(_timed([partial(lookup, name) for name in chosen]))
        say(_format_percentiles(label, figures[label]))
    return figures


def _measure_lists(
    tenant: Any, rng: random.Random, say: Callable[[str], None]
) -> dict[str, dict[str, float]]:
    from django.core.paginator import Paginator

    from catalog.models import Platform, Tool

    def queryset(filters: dict[str, str]) -> Any:
        return Tool.objects.for_tenant(tenant).live().filter(enabled=True, **filters)

    def page_of(filters: dict[str, str], number: int) -> Callable[[], Any]:
        def call() -> Any:
            paginator = Paginator(queryset(filters).order_by("name"), PAGE_SIZE)
            page = paginator.page(number)
            return list(page.object_list), paginator.count

        return call

    counts: dict[tuple[tuple[str, str], ...], int] = {}
    calls_by_kind: dict[str, list[Callable[[], Any]]] = {}
    for kind in LIST_KINDS:
        calls_by_kind[kind] = []
        for _ in range(LIST_SAMPLES_PER_KIND):
            filters: dict[str, str] = {}
            if kind != "enabled":
                filters["platform"] = rng.choice(Platform.values)
            if kind == "platform+tag":
                filters["tag_rows__name"] = rng.choice(TAGS)
            if kind == "platform+category":
                filters["category"] = rng.choice(CATEGORIES)
            key = tuple(sorted(filters.items()))
            if key not in counts:  # untimed: to pick a page that exists
                counts[key] = queryset(filters).count()
            pages = max(1, math.ceil(counts[key] / PAGE_SIZE))
            calls_by_kind[kind].append(page_of(filters, rng.randint(1, pages)))
    figures = {}
    everything: list[float] = []
    for kind, calls in calls_by_kind.items():
        timings = _timed(calls)
        everything += timings
        figures[kind] = _percentiles(timings)
        say(_format_percentiles(f"list {kind}", figures[kind]))
    figures["all"] = _percentiles(everything)
    say(_format_percentiles("list (all kinds)", figures["all"]))
    return figures


def _measure_validation(
    sample: list[dict[str, Any]], say: Callable[[str], None]
) -> dict[str, float]:
    from catalog.definitions.validation import validate_definition

    def check(definition: dict[str, Any]) -> None:
        if validate_definition(definition):
            raise SystemExit(f"{definition['name']} is not valid")

    figures = _percentiles(_timed([partial(check, d) for d in sample], warmup=0))
    say(_format_percentiles("validate_definition", figures))
    return figures


def _format_percentiles(label: str, figures: dict[str, float]) -> str:
    return (
        f"{label}: p50 {figures['p50']:.2f} ms, p95 {figures['p95']:.2f} ms, "
        f"p99 {figures['p99']:.2f} ms over {figures['n']:,}"
    )


# -- the report ----------------------------------------------------------------------------


def _print_report(results: dict[str, dict[str, Any]], n_tools: int) -> None:
    databases = list(results)
    width = 40

    def row(label: str, values: list[str]) -> None:
        print(f"{label:<{width}}" + "".join(f"  {value:>32}" for value in values))

    row(f"Figures ({n_tools:,} tools)", databases)
    row("", [results[db]["server"] for db in databases])
    labels = (
        f"read {n_tools:,} YAML files (read_path)",
        f"import {n_tools:,} tools (1.0.0, all new)",
        "import pass 2 (1.1.0, all changed)",
        "import pass 3 (1.2.0, all changed)",
        "re-import 1.2.0 (no changes)",
    )
    for index, label in enumerate(labels):
        cells = []
        for db in databases:
            one = results[db]["imports"][index]
            queries = f" ({one['queries']:,} q)" if one["queries"] else ""
            cells.append(f"{one['seconds']:.2f} s{queries}")
        row(label, cells)
    for state, description in STATES.items():
        print(f"reads {description}, p50 / p95 / p99:")
        lookups = [results[db][state]["lookups"] for db in databases]
        for key in lookups[0]:
            row(f"  {key}", [_three(figures[key]) for figures in lookups])
        lists = [results[db][state]["lists"] for db in databases]
        row(f"  list {PAGE_SIZE} of {n_tools:,} (all kinds)", [_three(f["all"]) for f in lists])
        for kind in LIST_KINDS:
            row(f"    {kind}", [_three(f[kind]) for f in lists])
    validation = [_three(results[db]["validate"]) for db in databases]
    row("validate_definition p50 / p95 / p99", validation)
    row("load average at start / end", [_load(results[db]["load"]) for db in databases])
    rows = results[databases[0]]["rows"]
    print("rows: " + ", ".join(f"{count:,} {table}" for table, count in rows.items()))

    import_target = IMPORT_TARGET_S * n_tools / TARGET_TOOLS
    print()
    print("Against the targets (the issue sets them for PostgreSQL; SQLite for comparison)")
    if n_tools != TARGET_TOOLS:
        print(f"  (import target scaled from {IMPORT_TARGET_S:g} s for {TARGET_TOOLS:,} tools)")
    for db in databases:
        figures = results[db]
        read_s, import_s = (figures["imports"][i]["seconds"] for i in (0, 1))
        lines = [
            _against(f"import {n_tools:,} tools", import_s, import_target, "s"),
            _against("  + reading the YAML files", read_s + import_s, import_target, "s"),
        ]
        for state, description in STATES.items():
            lookup = figures[state]["lookups"]["current_version_by_name"]["p50"]
            lines.append(
                _against(f"current_version_by_name p50, {description}", lookup, LOOKUP_TARGET_MS)
            )
        for state, description in STATES.items():
            listing = figures[state]["lists"]["all"]["p95"]
            lines.append(_against(f"list p95, {description}", listing, LIST_TARGET_MS))
        for line in lines:
            print(f"  {db:<9}{line}")


def _load(load: list[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load) + f" ({os.cpu_count()} CPUs)"


def _three(figures: dict[str, float]) -> str:
    return f"{figures['p50']:.2f} / {figures['p95']:.2f} / {figures['p99']:.2f} ms"


def _against(label: str, value: float, target: float, unit: str = "ms") -> str:
    if value <= target:
        verdict = f"{target / value:.1f}x headroom"
    else:
        verdict = f"{value / target:.1f}x over, MISSED"
    return f"{label} {value:.2f} {unit} (target {target:g} {unit}: {verdict})"


if __name__ == "__main__":
    sys.exit(main())
