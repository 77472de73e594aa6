"""Run a script tool's ``main(**kwargs)`` in a fresh, isolated interpreter; failures are data.

No Django here: the Celery task and the trusted-callable path build on this package.

Each run starts ``/usr/bin/python3 -I -S`` (the system interpreter: a Python under a private
home is not executable for the sandbox uid) inside bubblewrap: only the parts of ``/usr``
the interpreter needs, read-only; its own ``/proc``, a read-only ``/dev`` and sized tmpfs
``/tmp`` (the working directory) and ``/dev/shm``; every namespace unshared and no further
user namespace; a seccomp filter (``seccomp.py``); a cleared environment; no view of
Quiver's files. As root the runner first puts it in its slot's cgroup (``cgroups.py``) and,
for a network-enabled tool, its slot's network namespace (``network.py``), then drops to the
slot's unprivileged uid. The bootstrap (``_child.py``) sets the resource limits, reads the
script and its arguments from stdin and writes one JSON message to a pipe of its own, so
nothing the script prints can pose as its result. bubblewrap is PID 1 of the
run's namespace: it reaps the script's orphans, and when it dies everything in it dies.

Where bubblewrap does not work, script runs are refused (``refusal``) unless the operator
allowed the weak mode (``QUIVER_SANDBOX_ALLOW_WEAK``): then a run has rlimits and a
scrubbed environment only, logged loudly once and reported as ``isolation="rlimits-only"``.

The package, by topic: ``run.py`` (``run_script``), ``isolation.py`` (how strongly runs
are isolated here, bubblewrap's arguments, ``refusal``), ``slots.py`` (slots and their
uids), ``launch.py`` (starting a sandbox and running it), ``warm.py`` (sandboxes started
ahead), ``streams.py`` (the run's pipes, killing and reaping), ``outcome.py`` (``Result``),
``limits.py`` (the default and maximum bounds).

The names tests and benchmarks change (``isolation.ALLOW_WEAK``, ``isolation.BWRAP``,
``slots.SETPRIV``, ``slots.SLOT_DIR``, ``warm.WARM``) are not repeated here, and
``isolation_level`` and ``refusal`` are patched on ``isolation``: a change made on this
package would not reach the modules that read them.
"""

from planner.sandbox.isolation import (
    BUBBLEWRAP,
    PYTHON,
    RLIMITS_ONLY,
    Isolation,
    isolation_level,
    refusal,
)
from planner.sandbox.limits import (
    DEFAULT_MAX_LOG_BYTES,
    DEFAULT_MAX_OUTPUT_BYTES,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    MAX_FILE_BYTES,
    MAX_OPEN_FILES,
    MAX_PROCESSES,
)
from planner.sandbox.outcome import Result, Status
from planner.sandbox.run import run_script
from planner.sandbox.slots import SANDBOX_SLOTS, NoFreeSlot
from planner.sandbox.warm import discard_warm

__all__ = [
    "BUBBLEWRAP",
    "DEFAULT_MAX_LOG_BYTES",
    "DEFAULT_MAX_OUTPUT_BYTES",
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT_S",
    "MAX_FILE_BYTES",
    "MAX_OPEN_FILES",
    "MAX_PROCESSES",
    "PYTHON",
    "RLIMITS_ONLY",
    "SANDBOX_SLOTS",
    "Isolation",
    "NoFreeSlot",
    "Result",
    "Status",
    "discard_warm",
    "isolation_level",
    "refusal",
    "run_script",
]
