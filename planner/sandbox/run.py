"""``run_script``: one run of a script tool's ``main(**kwargs)`` in a fresh sandbox."""

from __future__ import annotations

import json
import marshal
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from planner.sandbox import isolation
from planner.sandbox import network as netpolicy
from planner.sandbox.launch import Kind, discard, execute, launch, network_words
from planner.sandbox.limits import (
    DEFAULT_MAX_LOG_BYTES,
    DEFAULT_MAX_OUTPUT_BYTES,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    MAX_FILE_BYTES,
    MAX_OPEN_FILES,
    MAX_PROCESSES,
)
from planner.sandbox.outcome import Result, interpret
from planner.sandbox.warm import keep_warm, take_warm

BOOTSTRAP = (Path(__file__).with_name("_child.py")).read_text()
# The runner's Python and /usr/bin/python3 may differ in version; format 4 reads on both.
MARSHAL_VERSION = 4


def run_script(
    source: str,
    kwargs: dict[str, Any],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
    network: bool = False,
    network_policy: netpolicy.Policy | None = None,
    internal_networks: Iterable[str] | None = None,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    max_log_bytes: int = DEFAULT_MAX_LOG_BYTES,
    stop: Callable[[], bool] | None = None,
) -> Result:
    """Run ``main(**kwargs)`` from ``source`` in a sandbox and return what happened.

    ``network_policy`` is what the operator allows network-enabled scripts to reach
    (outside addresses only by default); ``internal_networks`` narrows the operator's
    internal networks for this run (None: all of them). ``stop``, when given, is asked about every
    STOP_CHECK_S (``streams.py``) while the script runs; when it answers True the run is killed
    and ends ``cancelled``.
    """
    started = time.monotonic()
    level = isolation.isolation_level()
    if refused := isolation.refusal(network=network):
        return Result(status="failed_to_start", error=refused, isolation=level)
    try:
        # Through JSON first: the script sees exactly what a JSON caller would send.
        plain = json.loads(json.dumps({"source": source, "kwargs": kwargs}, allow_nan=False))
        request = marshal.dumps(plain, MARSHAL_VERSION)
    except (TypeError, ValueError, RecursionError) as exc:
        return Result(
            status="failed_to_start",
            error=f"the arguments are not JSON: {exc}",
            error_type=type(exc).__name__,
            isolation=level,
        )
    memory_bytes = memory_mb * 1024 * 1024
    limits = [
        memory_bytes,
        max(1, math.ceil(timeout_s)),
        MAX_PROCESSES,
        MAX_OPEN_FILES,
        MAX_FILE_BYTES,
        max_output_bytes,
        0 if level == isolation.BUBBLEWRAP else os.getpid(),  # the parent to die with
    ]
    child = [isolation.PYTHON, "-I", "-S", "-c", BOOTSTRAP, *map(str, limits)]
    if level == isolation.BUBBLEWRAP:
        argv = [isolation.BWRAP, *isolation.bwrap_args(network=network, tmp_mb=memory_mb), *child]
    else:
        argv = child
    kind = Kind(
        tuple(argv),
        level,
        memory_bytes=memory_bytes,
        network=network,
        policy=network_policy or netpolicy.default_policy(),
    )
    launched = take_warm(kind) or launch(kind)
    if launched.network_slot is not None and kind.policy.internal:
        try:
            reachable = netpolicy.allow_internal(
                launched.network_slot,
                kind.policy,
                kind.policy.internal if internal_networks is None else internal_networks,
            )
        except OSError as exc:  # never run with what the slot's previous run could reach
            discard(launched)
            return Result(status="failed_to_start", error=str(exc), isolation=level)
        launched.bounds["network"] = network_words(reachable)
    run = execute(
        launched,
        request,
        deadline=started + timeout_s,
        # The value travels as a JSON string inside the message: escaping at most doubles it.
        result_cap=2 * max_output_bytes + DEFAULT_MAX_LOG_BYTES,
        log_cap=max_log_bytes,
        stop=stop,
    )
    duration_ms = (time.monotonic() - started) * 1000
    keep_warm(kind)
    result = interpret(run, isolation=level, duration_ms=duration_ms, timeout_s=timeout_s)
    return replace(result, bounds=launched.bounds)
