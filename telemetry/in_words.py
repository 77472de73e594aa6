"""What the runs pages say about a run, in words a person reads: its status, how it was
isolated, the limits it had, and its time against the estimate."""

from __future__ import annotations

from catalog.display.in_words import milliseconds_in_words
from telemetry.models import Execution, ExecutionStatus

S = ExecutionStatus

# Each status: its badge's colour and what it means, in words a person reads.
STATUS_WORDS: dict[str, tuple[str, str]] = {
    S.QUEUED: ("badge-info", "Waiting for a worker to pick it up."),
    S.AWAITING_APPROVAL: (
        "badge-warning",
        "Waiting for an admin to approve it; it will not start until then.",
    ),
    S.RUNNING: ("badge-primary", "A worker is running it now."),
    S.SUCCEEDED: ("badge-success", "It finished and returned a result."),
    S.FAILED: ("badge-danger", "It stopped with an error; the error is shown below."),
    S.TIMED_OUT: ("badge-danger", "It ran longer than the tool's time limit and was stopped."),
    S.CANCELLED: ("badge-neutral", "Someone cancelled it before it finished."),
    S.REJECTED: ("badge-danger", "An admin decided it must not run."),
}

# How a run was kept apart from the rest of the machine: label, explanation, and
# whether it is weaker than a script should get.
ISOLATION_WORDS: dict[str, tuple[str, str, bool]] = {
    "bubblewrap": (
        "Sandboxed",
        "The script ran in a locked-down sandbox (bubblewrap): it could not see the "
        "worker's files, other programs or, unless the tool allows it, the network.",
        False,
    ),
    "rlimits-only": (
        "Limits only, no sandbox",
        "The sandbox was not available on this worker, so the script ran with only time "
        "and memory limits: it could read the worker's files and reach the network. "
        "Ask whoever runs Quiver to install bubblewrap on the workers.",
        True,
    ),
    "in-process": (
        "Trusted built-in code",
        "A built-in tool written by Quiver's developers ran inside the worker itself, "
        "not in a sandbox.",
        False,
    ),
}

# The limits a script's run had, as its page lists them.
BOUND_LABELS = {
    "memory": "Memory",
    "processes": "Processes",
    "files": "Temporary files",
    "network": "Network",
    "system calls": "System calls",
}


def against_estimate(execution: Execution) -> str:
    """How the time it took compares with the pattern's estimate, in words with a unit."""
    took, estimate = execution.duration_ms, execution.estimated_time_ms
    compared = execution.time_against_estimate
    if compared in ("longer", "shorter"):
        assert took is not None and estimate is not None
        return f"{milliseconds_in_words(abs(took - estimate))} {compared} than estimated"
    return "about as estimated" if compared else ""


def bound_words(execution: Execution) -> list[tuple[str, str]]:
    """The limits the run had, labelled, in the page's order."""
    bounds = execution.bounds
    if not isinstance(bounds, dict):
        return []
    return [(label, bounds[key]) for key, label in BOUND_LABELS.items() if key in bounds]
