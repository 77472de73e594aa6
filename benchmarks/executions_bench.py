"""Time runs end to end through real processes: an API request answered with the run's
result (target ≤ 60 ms median), a burst of runs through the workers (≥ 80 runs/s on 2
cores, zero failures), and the sandbox and argument-validation figures of
``sandbox_bench.py`` and ``arguments_bench.py``.

    .venv/bin/python benchmarks/executions_bench.py [--config redis-postgres|embedded|both]
                                                    [--runs 200] [--burst 1000]

Each configuration is measured by a child process with a fresh database (as in
``catalog_bench.py``), which starts ``gunicorn --workers 2`` and a Celery worker
(``-Q celery,executions --concurrency 2``) as process groups of their own and stops them
at the end:

- **redis-postgres**: PostgreSQL in ``quiver_bench_runs`` (dropped and recreated) and a
  Redis broker in database ``--redis-db`` (flushed before and after);
- **embedded**: the default without ``DATABASE_URL`` or ``CELERY_BROKER_URL``: SQLite and
  the filesystem broker in a temporary ``QUIVER_VAR_DIR``.

What each figure covers is in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from api_bench import _free_port, _wait_until_up
from catalog_bench import _code_version, _percentiles, _say, _server_version, run_child

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "quiver_bench_runs"
REDIS_SERVER = "redis://127.0.0.1:6379"
# The configuration's name, and the database run_child prepares for it.
CONFIGS = {"redis-postgres": "postgres", "embedded": "sqlite"}

LATENCY_TARGET_MS = 60.0
THROUGHPUT_TARGET = 80.0  # runs per second, zero failures
WARMUP = 20
NO_WAIT_RUNS = 50  # requests answered as soon as the run is queued
WORKER_UP_S = 30.0  # the longest the first run may take while the worker starts
PR_SET_PDEATHSIG = 1  # Linux prctl: a signal for the process when its parent dies

# The servers this child started: a run that needs them fails at once if one has exited.
_servers: dict[str, subprocess.Popen[bytes]] = {}

TOOL = "bench_echo"
DEFINITION: dict[str, Any] = {
    "name": TOOL,
    "version": "1.0.0",
    "description": "Double a number: the smallest script a run can have.",
    "platform": "linux",
    "category": "monitoring",
    "input_schema": {
        "type": "object",
        "properties": {"threshold_pct": {"type": "integer", "minimum": 0, "default": 80}},
        "additionalProperties": False,
    },
    "runtime": {"kind": "script", "timeout_s": 30, "memory_mb": 256, "network": False},
    "script": "def main(threshold_pct=80):\n    return {'double': threshold_pct * 2}\n",
}


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child:
        return _run_child(args)
    configs = list(CONFIGS) if args.config == "both" else [args.config]
    print(f"Quiver executions benchmark: {args.runs} requests, a burst of {args.burst} runs")
    print(f"Code: {_code_version()}")
    print(f"Load average at the start: {_load()}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="quiver-runs-bench-") as scratch:
        for config in configs:
            child_args = [
                f"--config={config}",
                f"--runs={args.runs}",
                f"--burst={args.burst}",
                f"--redis-db={args.redis_db}",
            ]
            results[config] = run_child(
                Path(__file__), CONFIGS[config], child_args, Path(scratch) / config, BENCH_DATABASE
            )
        components = {} if args.no_components else _components(Path(scratch))
    print()
    for config, figures in results.items():
        _print_report(config, figures)
    for label, output in components.items():
        print(f"== {label}")
        print("\n".join(f"  {line}" for line in output.strip().splitlines()))
    print(f"Load average at the end: {_load()}")
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=(*CONFIGS, "both"), default="both")
    parser.add_argument("--runs", type=int, default=200, help="timed requests with wait")
    parser.add_argument("--burst", type=int, default=1000, help="runs queued at once")
    parser.add_argument(
        "--redis-db", type=int, default=13, help="Redis database for the broker (flushed)"
    )
    parser.add_argument(
        "--no-components", action="store_true", help="skip sandbox_bench and arguments_bench"
    )
    # Used by the parent to start a child for one configuration.
    parser.add_argument("--child", choices=tuple(CONFIGS.values()), help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _load() -> str:
    return " ".join(f"{figure:.2f}" for figure in os.getloadavg())


def _components(scratch: Path) -> dict[str, str]:
    """The sandbox's and the argument checks' own figures, from their benchmarks."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(QUIVER_VAR_DIR=str(scratch / "components"), DEBUG="false")
    outputs = {}
    for label, script, options in (
        ("sandbox (sandbox_bench.py)", "sandbox_bench.py", ["--seconds=5"]),
        ("argument validation (arguments_bench.py)", "arguments_bench.py", []),
    ):
        print(f"\n[components] {script} {' '.join(options)}", flush=True)
        command = [sys.executable, str(Path(__file__).with_name(script)), *options]
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        outputs[label] = done.stdout + (f"FAILED:\n{done.stderr}" if done.returncode else "")
        print(outputs[label], end="", flush=True)
    return outputs


# -- the child: one configuration ----------------------------------------------------------


def _run_child(args: argparse.Namespace) -> int:
    # SIGTERM (e.g. from `timeout`) ends the child through its finally, which stops the
    # servers; they also get SIGTERM if this process dies without it (PR_SET_PDEATHSIG).
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    sys.path.insert(0, str(ROOT))
    os.environ["API_THROTTLE_READ"] = "off"
    os.environ["API_THROTTLE_WRITE"] = "off"
    broker = ""
    if args.config == "redis-postgres":
        broker = f"{REDIS_SERVER}/{args.redis_db}"
        os.environ["CELERY_BROKER_URL"] = broker
    else:
        os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    say = _say(args.config)
    if broker:
        _flush_redis(broker)
    call_command("migrate", verbosity=0)
    server = _server_version()
    say(f"migrated a fresh {connection.vendor} database ({server}); broker {_broker(settings)}")
    user, tenant, token = _seed()
    connections.close_all()  # the servers must not share this process's connection
    var_dir = Path(os.environ["QUIVER_VAR_DIR"])
    results: dict[str, Any] = {
        "server": server,
        "broker": _broker(settings),
        "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE", 0),
        "load": [os.getloadavg()[0]],
    }
    try:
        _servers["the Celery worker"] = _start_worker(var_dir)
        port = _free_port()
        _servers["gunicorn"] = _start_gunicorn(port, var_dir)
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/api/v1/executions", token)
        started = perf_counter()
        first = _post(base, token, {"tool": TOOL, "arguments": {}, "wait": WORKER_UP_S})
        if first["status"] != "succeeded":
            raise SystemExit(f"the first run did not succeed: {first}")
        say(f"servers up; the first run took {(perf_counter() - started) * 1000:.0f} ms")
        results["latency"] = _measure_latency(base, token, args.runs, say)
        results["no_wait"] = _measure_no_wait(base, token, say)
        results["load"].append(os.getloadavg()[0])
        results["burst"] = _measure_burst(tenant, user, args.burst, say)
        results["load"].append(os.getloadavg()[0])
    except BaseException:
        for log in sorted(var_dir.glob("*.log")):
            print(f"--- {log.name} (last lines)\n{_tail(log)}", file=sys.stderr)
        raise
    finally:
        for process in reversed(_servers.values()):
            _stop(process)
        if broker:
            _flush_redis(broker)
    args.results.write_text(json.dumps(results, indent=2))
    return 0


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _check_servers() -> None:
    """Stop the benchmark when a server has exited (its log is printed on the way out)."""
    for name, process in _servers.items():
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with status {process.returncode}; see its log")


def _broker(settings: Any) -> str:
    url = settings.CELERY_BROKER_URL
    if url == "filesystem://":
        interval = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("polling_interval")
        return f"filesystem (polling_interval {interval} s)"
    return url


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def _seed() -> tuple[Any, Any, str]:
    """An admin in a new tenant, a published trivial script tool and an admin API key."""
    from django.contrib.auth import get_user_model

    from catalog.models import Role
    from catalog.services import create_api_key, create_tool
    from catalog.services.tenants import create_tenant

    user = get_user_model().objects.create_user("bench-admin", password="not-used-here")
    tenant = create_tenant(slug="bench", name="Benchmark", actor=user)
    create_tool(tenant, definition=DEFINITION, actor=user, publish=True)
    token = create_api_key(tenant, name="bench", role=Role.ADMIN, actor=user)[1]
    return user, tenant, token


def _start_worker(var_dir: Path) -> subprocess.Popen[bytes]:
    celery = Path(sys.executable).with_name("celery")
    command = [
        str(celery), "-A", "config", "worker", "-Q", "celery,executions",
        "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"), "-l", "warning",
        "--without-heartbeat", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    return _spawn(command, var_dir / "worker.log")


def _start_gunicorn(port: int, var_dir: Path) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        raise SystemExit("gunicorn is missing: pip install .[serve]")
    command = [
        str(gunicorn), "config.wsgi:application", "--workers", "2",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    return _spawn(command, var_dir / "gunicorn.log")


def _spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
            preexec_fn=_die_with_parent,
        )


def _die_with_parent() -> None:
    """In the server, before exec: SIGTERM when the child dies (Linux; else nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server's whole process group: politely, then by force."""
    for sig, patience in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=patience)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _post(base: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    _check_servers()
    request = urllib.request.Request(  # noqa: S310
        f"{base}/api/v1/executions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        answer = exc.read()[:500]
        raise SystemExit(f"POST /api/v1/executions answered {exc.code}: {answer!r}") from None


def _measure_latency(
    base: str, token: str, runs: int, say: Callable[[str], None]
) -> dict[str, Any]:
    """Sequential POSTs with ``wait``, each answered with the finished run, and where the
    time went, from the run's own timestamps (one clock: client and servers share a host).
    """
    totals: list[float] = []
    parts: dict[str, list[float]] = {key: [] for key in PARTS}
    failed = 0
    isolation: set[str] = set()
    for i in range(WARMUP + runs):
        body = {"tool": TOOL, "arguments": {"threshold_pct": i % 100}, "wait": 10}
        sent, start = time.time(), perf_counter()
        run = _post(base, token, body)
        elapsed, received = (perf_counter() - start) * 1000, time.time()
        if i < WARMUP:
            continue
        isolation.add(run["isolation"])
        totals.append(elapsed)
        if run["status"] != "succeeded":
            failed += 1
            continue
        queued, started, finished = (
            _epoch(run[key]) for key in ("queued_at", "started_at", "finished_at")
        )
        sandbox = float(run["duration_ms"] or 0)
        parts["request"].append((queued - sent) * 1000)
        parts["pickup"].append((started - queued) * 1000)
        parts["sandbox"].append(sandbox)
        parts["executor"].append((finished - started) * 1000 - sandbox)
        parts["answer"].append((received - finished) * 1000)
    figures = {
        "total": _percentiles(totals),
        "parts": {key: _percentiles(values) for key, values in parts.items() if values},
        "failed": failed,
        "isolation": sorted(isolation),
    }
    say(
        _line(f"POST with wait, {runs} sequential", figures["total"])
        + f", {failed} not succeeded, isolation {', '.join(sorted(isolation))}"
    )
    for key, values in figures["parts"].items():
        say(f"  {PARTS[key]}: p50 {values['p50']:.1f} ms, p95 {values['p95']:.1f} ms")
    return figures


# Where a request's time goes, by the run's timestamps.
PARTS = {
    "request": "client sends -> row built (HTTP, auth, lookups, argument checks)",
    "pickup": "row built -> worker claims it (commit, publish, broker, worker pickup)",
    "sandbox": "sandbox run (duration_ms)",
    "executor": "worker: around the sandbox (load the row, record the end)",
    "answer": "row finished -> client has the answer (commit, wait_for's poll, reply)",
}


def _measure_no_wait(base: str, token: str, say: Callable[[str], None]) -> dict[str, float]:
    """POSTs answered as soon as the run is queued: the API's own share."""
    totals = []
    for i in range(WARMUP + NO_WAIT_RUNS):
        start = perf_counter()
        _post(base, token, {"tool": TOOL, "arguments": {}})
        if i >= WARMUP:
            totals.append((perf_counter() - start) * 1000)
    time.sleep(1)  # let the workers drain them before the burst
    figures = _percentiles(totals)
    say(_line(f"POST without wait, {NO_WAIT_RUNS} sequential", figures))
    return figures


def _measure_burst(
    tenant: Any, user: Any, count: int, say: Callable[[str], None]
) -> dict[str, Any]:
    """``count`` runs recorded through ``invoke`` in one transaction, so that all of them
    are queued when it commits; then the time until every one has ended."""
    from django.db import transaction
    from django.db.models import Count, Max, Min

    from planner.services import invoke
    from telemetry.models import FINAL_STATUSES, Execution

    cpu_start, start_wall, start = _cpu_busy_s(), time.time(), perf_counter()
    with transaction.atomic():
        ids = [
            invoke(tenant, caller=user, tool=TOOL, arguments={"threshold_pct": i % 100})[0].pk
            for i in range(count)
        ]
        recorded = perf_counter() - start
    queued = perf_counter() - start
    cpu_queued = _cpu_busy_s()
    say(f"burst: {count} runs recorded in {recorded:.2f} s, all queued after {queued:.2f} s")
    runs = Execution.objects.filter(pk__in=ids)
    deadline = start + 60 + count / 10
    while runs.filter(status__in=FINAL_STATUSES).count() < count and perf_counter() < deadline:
        _check_servers()
        time.sleep(0.05)
    cpu_end = _cpu_busy_s()
    spans = runs.aggregate(
        first=Min("started_at"), last=Max("finished_at"), final=Count("pk")
    )  # the clock of the rows, not of the polling
    by_status = dict(runs.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    last = spans["last"].timestamp() if spans["last"] else time.time()
    elapsed = last - start_wall
    worker_busy = sum(
        (f - s).total_seconds()
        for s, f in runs.exclude(finished_at=None).values_list("started_at", "finished_at")
    )
    figures = {
        "count": count,
        "recorded_s": recorded,
        "queued_s": queued,
        "elapsed_s": elapsed,
        "drain_s": last - start_wall - queued,
        "rate": count / elapsed,
        "statuses": by_status,
        "not_succeeded": count - by_status.get("succeeded", 0),
        "mean_in_worker_ms": worker_busy / max(1, by_status.get("succeeded", 0)) * 1000,
        # CPU time of the whole machine (every process) per run, from /proc/stat.
        "cpu_record_ms": (cpu_queued - cpu_start) / count * 1000,
        "cpu_drain_ms": (cpu_end - cpu_queued) / count * 1000,
    }
    say(
        f"burst: all ended {elapsed:.2f} s after the first was recorded: "
        f"{figures['rate']:.0f} runs/s, {figures['not_succeeded']} not succeeded {by_status}"
    )
    return figures


def _cpu_busy_s() -> float:
    """Seconds of CPU the machine has spent busy (all CPUs, all processes); 0 off Linux."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(field) for field in fields]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


# -- the report ----------------------------------------------------------------------------


def _line(label: str, figures: dict[str, float]) -> str:
    return (
        f"{label}: p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms, "
        f"p99 {figures['p99']:.1f} ms (n={figures['n']})"
    )


def _against(value: float, target: float, *, at_most: bool = True) -> str:
    ok = value <= target if at_most else value >= target
    ratio = target / value if at_most else value / target
    if ok:
        return f"PASS ({ratio:.2f}x headroom)"
    return f"{1 / ratio:.2f}x {'over' if at_most else 'under'}, MISSED"


def _print_report(config: str, results: dict[str, Any]) -> None:
    load = " -> ".join(f"{figure:.2f}" for figure in results["load"])
    print(f"== {config}: {results['server']}, broker {results['broker']}")
    print(f"  CONN_MAX_AGE {results['conn_max_age']}; load average {load}")
    latency = results["latency"]
    total = latency["total"]
    print(f"  {_line('POST /api/v1/executions with wait, answered with the result', total)}")
    print(f"    sandbox isolation: {', '.join(latency['isolation'])}")
    print(
        f"    median {total['p50']:.1f} ms vs target {LATENCY_TARGET_MS:g} ms: "
        f"{_against(total['p50'], LATENCY_TARGET_MS)}; {latency['failed']} not succeeded"
    )
    for key, figures in latency["parts"].items():
        print(f"    {PARTS[key]}: p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms")
    print(f"  {_line('POST without wait (answered once queued)', results['no_wait'])}")
    burst = results["burst"]
    print(
        f"  burst of {burst['count']} runs: recorded in {burst['recorded_s']:.2f} s, queued at "
        f"{burst['queued_s']:.2f} s, all ended at {burst['elapsed_s']:.2f} s: "
        f"{burst['rate']:.0f} runs/s; {burst['mean_in_worker_ms']:.1f} ms in a worker per run"
    )
    drain_rate = burst["count"] / burst["drain_s"] if burst["drain_s"] > 0 else float("inf")
    print(
        f"    workers alone (queued -> all ended): {drain_rate:.0f} runs/s; machine CPU per run: "
        f"{burst['cpu_record_ms']:.1f} ms to record and queue, {burst['cpu_drain_ms']:.1f} ms "
        f"to run ({os.cpu_count()} CPUs)"
    )
    # The target is the workers' rate: runs a backlog drains at. The first figure also holds
    # the recording of every run in one transaction before any worker may start.
    verdict = _against(drain_rate, THROUGHPUT_TARGET, at_most=False)
    if burst["not_succeeded"]:
        verdict = f"MISSED ({burst['not_succeeded']} not succeeded: {burst['statuses']})"
    print(f"    workers vs target {THROUGHPUT_TARGET:g} runs/s with zero failures: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
