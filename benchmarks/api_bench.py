"""Time the REST API with 10,000 tools: a tool by name (target 10 ms p95), filtered list
pages (50 ms p95), ``llm/tools?q=...&k=20`` warm (30 ms p95) and the OpenAI export of
1,000 tools warm (50 ms p95); then load-test tool-by-name and llm/tools under gunicorn
(2 workers) with wrk in another process.

    .venv/bin/python benchmarks/api_bench.py [--tools 10000] [--db postgres|sqlite|both]
                                             [--runs 200] [--load-seconds 10] [--no-load]

Like ``pages_bench.py``, each database is measured by a child process with a fresh
database: SQLite in a temporary ``QUIVER_VAR_DIR``; PostgreSQL in ``quiver_bench_api``,
dropped and recreated (and left in place for ``EXPLAIN ANALYZE``). The child imports
the generated catalog into one tenant and 1,000 more tools into a second (untimed), runs
``VACUUM ANALYZE``, then calls the endpoints through the whole stack (middleware, API-key
authentication, DRF) with Django's test client, timing each request from ``client.get``
to the finished response. Throttling is off: the figures are the endpoints' own.

The load test serves the same database with ``gunicorn --workers 2`` on loopback and
drives it with ``wrk`` (one thread, a few connections, names and queries rotating) from
a separate process; on a 2-CPU machine the client takes a share of the CPUs too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import Any

from catalog_bench import (
    _analyze,
    _code_version,
    _percentiles,
    _say,
    _server_version,
    run_child,
    seed_tenant,
)
from generate_catalog import queries as generated_queries

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "quiver_bench_api"
DATABASES = ("sqlite", "postgres")
TARGETS_MS = {"tool": 10.0, "list": 50.0, "llm_q": 30.0, "llm_export": 50.0}
WARMUP = 10
LOAD_CONNECTIONS = 4

# (label, query string) of the filtered list pages; "middle" is computed from the size.
LIST_CASES: tuple[tuple[str, dict[str, str]], ...] = (
    ("first page", {}),
    ("middle page", {"page": "middle"}),
    ("platform + status", {"platform": "linux", "status": "active"}),
    ("platform + tag", {"platform": "network", "tag": "dns"}),
    ("category + enabled, page 2", {"category": "backup", "enabled": "yes", "page": "2"}),
    ("search 'disk'", {"q": "disk"}),
    ("search + platform", {"q": "scan", "platform": "windows"}),
    ("sorted by newest", {"ordering": "-updated_at"}),
    ("sorted by status, middle page", {"ordering": "status", "page": "middle"}),
)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child:
        return _run_child(args)
    databases = DATABASES if args.db == "both" else (args.db,)
    print(f"Quiver API benchmark: {args.tools:,} tools, {args.runs} runs, seed {args.seed}")
    print(f"Code: {_code_version()}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="quiver-api-bench-") as scratch:
        for db in databases:
            child_args = [
                f"--tools={args.tools}",
                f"--export-tools={args.export_tools}",
                f"--runs={args.runs}",
                f"--seed={args.seed}",
                f"--load-seconds={args.load_seconds}",
                *(["--no-load"] if args.no_load else []),
            ]
            results[db] = run_child(
                Path(__file__), db, child_args, Path(scratch) / db, BENCH_DATABASE
            )
    print()
    for db, figures in results.items():
        _print_report(db, figures, args)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tools", type=int, default=10_000, help="catalog size")
    parser.add_argument("--export-tools", type=int, default=1_000, help="tools exported")
    parser.add_argument("--db", choices=(*DATABASES, "both"), default="postgres")
    parser.add_argument("--runs", type=int, default=200, help="timed requests per figure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--load-seconds", type=int, default=10, help="wrk duration")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn load test")
    parser.add_argument("--child", choices=DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the child -----------------------------------------------------------------------------


def _run_child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ["API_THROTTLE_READ"] = "off"
    os.environ["API_THROTTLE_WRITE"] = "off"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from catalog.models import Role

    say = _say(args.child)
    call_command("migrate", verbosity=0)
    server = _server_version()
    say(f"migrated a fresh {connection.vendor} database ({server})")
    try:
        llm_url: str | None = reverse("api:llm-tools")
    except NoReverseMatch:
        llm_url = None
    user = get_user_model().objects.create_user("bench-admin", password="not-used-here")
    tokens, names = {}, []
    for slug, count, seed in (
        ("bench", args.tools, args.seed),
        ("export", args.export_tools if llm_url else 0, args.seed + 1),
    ):
        if not count:
            continue
        seeded, tokens[slug] = seed_tenant(
            slug, count, seed, user=user, role=Role.ADMIN, all_usable=slug == "export", say=say
        )
        if slug == "bench":
            names = seeded
    say(f"{_analyze()} done")

    client = Client()

    def get(slug: str, url: str, params: dict[str, Any] | None = None) -> Any:
        response = client.get(url, params or {}, HTTP_AUTHORIZATION=f"Bearer {tokens[slug]}")
        assert response.status_code == 200, (url, params, response.content[:300])
        return response

    rng = random.Random(args.seed)
    results: dict[str, Any] = {"db": args.child, "server": server, "load": [os.getloadavg()[0]]}

    picked = rng.sample(names, min(len(names), WARMUP + args.runs + 1))
    fresh, picked = picked[0], picked[1:]
    # Each tool read for the first time: its content is not in the process's cache yet.
    results["tool"] = _timed([lambda n=n: get("bench", f"/api/v1/tools/{n}") for n in picked])
    results["tool_queries"] = _count_queries(lambda: get("bench", f"/api/v1/tools/{fresh}"))
    say(_line("tool by name, first read", results["tool"]) + f", {results['tool_queries']} queries")
    # The same tools again: their versions' content comes from the cache.
    results["tool_again"] = _timed([lambda n=n: get("bench", f"/api/v1/tools/{n}") for n in picked])
    results["tool_again_queries"] = _count_queries(lambda: get("bench", f"/api/v1/tools/{fresh}"))
    say(
        _line("tool by name, read again", results["tool_again"])
        + f", {results['tool_again_queries']} queries"
    )

    last_page = max(1, -(-args.tools // 50))
    results["lists"] = {}
    for label, params in LIST_CASES:
        query = {k: str(last_page // 2 or 1) if v == "middle" else v for k, v in params.items()}
        unpaged = {k: v for k, v in query.items() if k != "page"}
        pages = -(-get("bench", "/api/v1/tools", unpaged).json()["count"] // 50)
        if "page" in query:  # a small catalog may have fewer pages
            query["page"] = str(min(int(query["page"]), max(pages, 1)))
        figures = _timed([lambda q=query: get("bench", "/api/v1/tools", q)] * (WARMUP + args.runs))
        figures["count"] = get("bench", "/api/v1/tools", query).json()["count"]
        results["lists"][label] = figures
        say(_line(f"list, {label}", figures) + f", {figures['count']:,} matching")

    queries = generated_queries(WARMUP + args.runs + 1, args.seed)
    if llm_url:
        start = perf_counter()
        get("bench", llm_url, {"q": queries[0], "k": 20})
        results["llm_index_ms"] = (perf_counter() - start) * 1000
        say(f"llm/tools first q (builds the index): {results['llm_index_ms']:.0f} ms")
        results["llm_q"] = _timed(
            [lambda q=q: get("bench", llm_url, {"q": q, "k": 20}) for q in queries[1:]]
        )
        say(_line("llm/tools q, k=20, distinct queries, warm", results["llm_q"]))
        body = get("export", llm_url, {"format": "openai"}).json()
        results["llm_export_count"] = body["count"]
        results["llm_export"] = _timed(
            [lambda: get("export", llm_url, {"format": "openai"})] * (WARMUP + args.runs)
        )
        say(
            _line(
                f"llm/tools OpenAI export of {body['count']:,} tools, warm", results["llm_export"]
            )
        )

    results["load"].append(os.getloadavg()[0])
    if not args.no_load:
        results["load_test"] = _load_test(args, tokens["bench"], picked, queries, llm_url, say)
    args.results.write_text(json.dumps(results, indent=2))
    return 0


def _timed(calls: list[Callable[[], Any]]) -> dict[str, float]:
    for call in calls[:WARMUP]:
        call()
    timings = []
    for call in calls[WARMUP:]:
        start = perf_counter()
        call()
        timings.append((perf_counter() - start) * 1000)
    return _percentiles(timings)


def _count_queries(call: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


# -- the load test -------------------------------------------------------------------------

LUA = """
local paths = {%(paths)s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Authorization"] = "Bearer %(token)s"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%.3f %%d\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _load_test(
    args: argparse.Namespace,
    token: str,
    names: list[str],
    queries: list[str],
    llm_url: str | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Requests per second and latency under gunicorn (2 workers), driven by wrk."""
    from urllib.parse import urlencode

    from django.db import connections

    wrk, gunicorn = shutil.which("wrk"), Path(sys.executable).with_name("gunicorn")
    if wrk is None or not gunicorn.exists():
        say("load test skipped: it needs wrk (apt-get) and gunicorn (pip install .[serve])")
        return {}
    connections.close_all()
    port = _free_port()
    server = subprocess.Popen(
        [str(gunicorn), "config.wsgi:application", "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=os.environ.copy(), start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    endpoints = {"tool by name": [f"/api/v1/tools/{n}" for n in names]}
    if llm_url:
        endpoints["llm/tools q, k=20"] = [
            f"{llm_url}?{urlencode({'q': q, 'k': 20})}" for q in queries[: len(names)]
        ]
    figures: dict[str, Any] = {}
    try:
        _wait_until_up(base + endpoints["tool by name"][0], token)
        with tempfile.TemporaryDirectory(prefix="quiver-wrk-") as scratch:
            for label, paths in endpoints.items():
                script = Path(scratch) / "rotate.lua"
                listed = ", ".join(json.dumps(p) for p in paths)
                script.write_text(LUA % {"paths": listed, "token": token})
                _wrk(wrk, base, script, 3)  # warm both workers (indexes, caches)
                figures[label] = _wrk(wrk, base, script, args.load_seconds)
                one = figures[label]
                say(
                    f"load, {label}: {one['rps']:.0f} requests/s, p50 {one['p50']:.1f} ms, "
                    f"p95 {one['p95']:.1f} ms, p99 {one['p99']:.1f} ms, {one['errors']} errors"
                )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return figures


def _wrk(wrk: str, base: str, script: Path, seconds: int) -> dict[str, float]:
    command = [wrk, "-t1", f"-c{LOAD_CONNECTIONS}", f"-d{seconds}s", "-s", str(script), base]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", output)
    if match is None:
        raise SystemExit(f"wrk printed no result:\n{output}")
    requests, micros = int(match[1]), int(match[2])
    return {
        "requests": requests,
        "rps": requests / (micros / 1e6),
        "p50": float(match[3]),
        "p95": float(match[4]),
        "p99": float(match[5]),
        "errors": int(match[6]),
        "connections": LOAD_CONNECTIONS,
        "seconds": seconds,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, token: str, timeout: float = 30) -> None:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


# -- the report ----------------------------------------------------------------------------


def _line(label: str, figures: dict[str, float]) -> str:
    return f"{label}: p50 {figures['p50']:.2f} ms, p95 {figures['p95']:.2f} ms (n={figures['n']})"


def _verdict(p95: float, target: float) -> str:
    return f"{'PASS' if p95 <= target else 'MISSED'} (p95 {p95:.2f} ms, target {target:g} ms)"


def _print_report(db: str, results: dict[str, Any], args: argparse.Namespace) -> None:
    load = results["load"]
    print(f"== {db}: {results['server']}; load average {load[0]:.2f} -> {load[1]:.2f}")
    tool, again = results["tool"], results["tool_again"]
    print(
        f"  tool by name, first read: p50 {tool['p50']:.2f} ms, {results['tool_queries']} queries"
    )
    print(f"    {_verdict(tool['p95'], TARGETS_MS['tool'])}")
    print(
        f"  tool by name, read again: p50 {again['p50']:.2f} ms, "
        f"{results['tool_again_queries']} queries"
    )
    print(f"    {_verdict(again['p95'], TARGETS_MS['tool'])}")
    print(f"  filtered list pages ({args.tools:,} tools, 50 a page):")
    worst = 0.0
    for label, figures in results["lists"].items():
        worst = max(worst, figures["p95"])
        print(f"    {_line(label, figures)}, {figures['count']:,} matching")
    print(f"    slowest: {_verdict(worst, TARGETS_MS['list'])}")
    if "llm_q" in results:
        print(f"  llm/tools first q (index build): {results['llm_index_ms']:.0f} ms")
        q = results["llm_q"]
        print(f"  llm/tools q, k=20, warm, distinct queries: p50 {q['p50']:.2f} ms")
        print(f"    {_verdict(q['p95'], TARGETS_MS['llm_q'])}")
        export = results["llm_export"]
        count = results["llm_export_count"]
        print(f"  llm/tools OpenAI export of {count:,} tools, warm: p50 {export['p50']:.2f} ms")
        print(f"    {_verdict(export['p95'], TARGETS_MS['llm_export'])}")
    else:
        print("  llm/tools: not available in this build")
    for label, one in results.get("load_test", {}).items():
        print(
            f"  load (gunicorn 2 workers, wrk {one['connections']} connections, "
            f"{one['seconds']} s), {label}: {one['rps']:.0f} requests/s, "
            f"p50 {one['p50']:.1f} ms, p95 {one['p95']:.1f} ms, p99 {one['p99']:.1f} ms, "
            f"{one['errors']} errors"
        )


if __name__ == "__main__":
    sys.exit(main())
