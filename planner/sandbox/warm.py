"""Warm sandboxes: the next run's sandbox, started ahead and waiting for its request.

After a run, the next sandbox for the same command line (interpreter, limits, network)
is started at once and left waiting for its request, so the next run like it skips
bubblewrap's and the interpreter's start. Each sandbox still serves one run: nothing of
one run (files, processes, namespaces) reaches another. It costs an idle sandbox (two
small processes and a slot) per kind of run kept, at most WARM_KINDS per process; the
CPU a run takes is the same, only spent before the run is asked for.
"""

from __future__ import annotations

import atexit
import os
import threading

from planner.sandbox import slots
from planner.sandbox.launch import Kind, Launched, discard, launch

WARM = os.environ.get("QUIVER_SANDBOX_WARM", "1").lower() not in {"0", "false", "no"}
WARM_KINDS = 2
_waiting: dict[Kind, Launched] = {}
_waiting_lock = threading.Lock()


def take_warm(kind: Kind) -> Launched | None:
    """The waiting sandbox of this kind, if one is alive."""
    with _waiting_lock:
        launched = _waiting.pop(kind, None)
    if launched is None:
        return None
    alive = launched.proc is not None and launched.proc.poll() is None
    if alive and launched.thread.is_alive():
        return launched
    discard(launched)  # it died, or will with the thread that started it
    return None


def keep_warm(kind: Kind) -> None:
    """Start the sandbox the next run of this kind will use."""
    if not WARM:
        return
    try:
        # Never wait, and leave a slot free (held meanwhile): slots that runs need must not
        # all go to sandboxes that may stay idle.
        with slots.claim_slot(wait=False):
            launched = launch(kind, wait=False)
    except slots.NoFreeSlot:
        return
    if launched.proc is None:
        launched.close()
        return
    with _waiting_lock:
        stale = [_waiting.pop(kind, None)]
        _waiting[kind] = launched
        while len(_waiting) > WARM_KINDS:
            stale.append(_waiting.pop(next(iter(_waiting))))
    for old in stale:
        if old is not None:
            discard(old)


def _after_fork_in_child() -> None:
    """A child forked without exec runs none of its parent's waiting sandboxes: it lets go
    of its copies of their pipes, without killing them, giving back their slots or removing
    their directories."""
    for launched in _waiting.values():
        launched.resources.pop_all()
        launched.close_pipes()
    _waiting.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def discard_warm() -> None:
    """Stop every waiting sandbox of this process (at exit; tests)."""
    with _waiting_lock:
        waiting = list(_waiting.values())
        _waiting.clear()
    for launched in waiting:
        discard(launched)


atexit.register(discard_warm)
