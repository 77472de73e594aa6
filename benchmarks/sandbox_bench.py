"""Time the sandbox runner: a trivial script's full run against a bare interpreter start.

    .venv/bin/python benchmarks/sandbox_bench.py [--runs 200] [--seconds 10]

Also a network-enabled run, cold and warm (issue 11: its own network namespace per slot),
and warm with a tenant's narrowed internal networks, against the same run without
network. Targets (issue 5): a trivial run ≤ 30 ms median and ≤ 45 ms p95 (a cold start:
no warm sandbox waiting); with a warm sandbox waiting (runs 50 ms apart, so that the next
one has started), an overhead under 5 ms is welcome; at
least 80 runs per second with 2 parallel workers and zero failures, measured both as 2
processes (as prefork Celery workers run) and as 2 threads of one process. A missed
target prints MISSED; the command does not fail.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner import sandbox
from planner.sandbox import PYTHON, isolation_level, run_script
from planner.sandbox import network as netpolicy
from planner.sandbox import warm as warm_sandboxes

TRIVIAL = "def main(n):\n    return n + 1\n"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(action: Callable[[], object], runs: int, pause_s: float = 0.0) -> list[float]:
    action()  # warm the page cache and the isolation probe
    samples = []
    for _ in range(runs):
        time.sleep(pause_s)
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def sandbox_run(network: bool = False) -> None:
    result = run_script(TRIVIAL, {"n": 1}, network=network)
    if result.value != 2:
        raise RuntimeError(f"trivial run failed: {result}")


def network_run() -> None:
    sandbox_run(network=True)


# An operator that allows an internal network, and a tenant narrowed to part of it: each
# run first fills its slot's set of reachable networks (one nft transaction).
INTERNAL = netpolicy.Policy(internal=("10.200.0.0/16",))


def internal_network_run() -> None:
    result = run_script(
        TRIVIAL,
        {"n": 1},
        network=True,
        network_policy=INTERNAL,
        internal_networks=("10.200.7.0/24",),
    )
    if result.value != 2:
        raise RuntimeError(f"trivial run failed: {result}")


def bare_start() -> None:
    subprocess.run([PYTHON, "-I", "-S", "-c", "pass"], check=True)


def _count_runs(stop_at: float) -> tuple[int, int]:
    succeeded = failed = 0
    while time.monotonic() < stop_at:
        if run_script(TRIVIAL, {"n": 1}).value == 2:
            succeeded += 1
        else:
            failed += 1
    return succeeded, failed


def throughput_processes(workers: int, seconds: float) -> tuple[int, int, float]:
    """Like a prefork Celery worker: each worker a process of its own."""
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        counts = pool.map(_count_runs, [started + seconds] * workers)
    return sum(c[0] for c in counts), sum(c[1] for c in counts), time.monotonic() - started


def throughput(workers: int, seconds: float) -> tuple[int, int, float]:
    """Threads in one process, sharing its sandbox slots."""
    succeeded = failed = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def work() -> None:
        nonlocal succeeded, failed
        while time.monotonic() < stop_at:
            ok = run_script(TRIVIAL, {"n": 1}).value == 2
            with lock:
                if ok:
                    succeeded += 1
                else:
                    failed += 1

    started = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return succeeded, failed, time.monotonic() - started


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    print(f"isolation: {isolation_level()}")
    bare = timed(bare_start, args.runs)
    warm_sandboxes.WARM = False
    sandbox.discard_warm()
    full = timed(sandbox_run, args.runs)
    cold_network = timed(network_run, args.runs)
    warm_sandboxes.WARM = True
    warm = timed(sandbox_run, args.runs, pause_s=0.05)
    warm_network = timed(network_run, args.runs, pause_s=0.05)
    warm_internal = timed(internal_network_run, args.runs, pause_s=0.05)
    sandbox.discard_warm()
    netpolicy.ensure_rules.cache_clear()
    netpolicy.ensure_rules(netpolicy.default_policy())  # as it was: no internal networks
    bare_median, full_median, full_p95 = (
        statistics.median(bare),
        statistics.median(full),
        percentile(full, 0.95),
    )
    bare_p95 = percentile(bare, 0.95)
    print(f"bare `python3 -I -S -c pass`: median {bare_median:.1f} ms, p95 {bare_p95:.1f} ms")
    print(
        f"sandboxed trivial run:       median {full_median:.1f} ms, p95 {full_p95:.1f} ms "
        f"(overhead {full_median - bare_median:+.1f} ms over a bare start)"
    )
    print(f"  median ≤ 30 ms: {verdict(full_median <= 30)}")
    print(f"  p95 ≤ 45 ms:    {verdict(full_p95 <= 45)}")
    warm_median, warm_p95 = statistics.median(warm), percentile(warm, 0.95)
    print(
        f"with a warm sandbox waiting: median {warm_median:.1f} ms, p95 {warm_p95:.1f} ms "
        f"(runs 50 ms apart; the whole run, {warm_median - bare_median:+.1f} ms against a "
        "bare start)"
    )
    print(f"  whole run under 5 ms: {verdict(warm_median < 5)}")
    for label, samples, base in (
        ("cold", cold_network, full_median),
        ("warm", warm_network, warm_median),
        ("warm, a tenant's internal network", warm_internal, warm_median),
    ):
        median, p95 = statistics.median(samples), percentile(samples, 0.95)
        print(
            f"network-enabled run, {label}:  median {median:.1f} ms, p95 {p95:.1f} ms "
            f"({median / bare_median:.1f}x a bare start; "
            f"{median - base:+.1f} ms against the same run without network)"
        )

    for kind, measure in (("processes", throughput_processes), ("threads", throughput)):
        succeeded, failed, elapsed = measure(args.workers, args.seconds)
        rate = succeeded / elapsed
        print(
            f"{args.workers} worker {kind} for {elapsed:.1f} s: {succeeded} runs, "
            f"{failed} failures, {rate:.0f} runs/s"
        )
        print(f"  ≥ 80 runs/s with zero failures: {verdict(rate >= 80 and failed == 0)}")


if __name__ == "__main__":
    main()
