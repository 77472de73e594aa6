"""One Celery beat per var folder, and an embedded beat that dies with its worker.

Two beats send every scheduled task twice and share one schedule file. ``OneBeatScheduler``
(``CELERY_BEAT_SCHEDULER``) takes an exclusive lock on ``var/celerybeat.lock`` before it
opens its schedule and holds it while its process lives; the kernel lets go however the
process ends, even on SIGKILL. A second beat on the same folder stops at once, saying
which process holds the lock.

A beat started inside a worker (``celery worker -B``) is the worker's child process; when
the worker was SIGKILLed it used to live on, and the next worker started a second beat.
It now asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``, Linux).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import sys
from pathlib import Path
from typing import IO, Any

from celery.beat import PersistentScheduler
from django.conf import settings

LOCK_NAME = "celerybeat.lock"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

# The open lock file of this process's beat: it holds the lock while it stays open.
_held: list[IO[str]] = []


class OneBeatScheduler(PersistentScheduler):
    """Celery's scheduler with its schedule in a file, once per var folder."""

    def setup_schedule(self) -> None:
        hold_beat_lock(Path(settings.VAR_DIR) / LOCK_NAME)
        super().setup_schedule()


def hold_beat_lock(path: Path) -> None:
    """Take the beat's lock for the life of this process, or exit saying who has it."""
    if _held:
        return
    handle = open(path, "a+")  # noqa: SIM115 -- held open until the process ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise SystemExit(
            f"Another Celery beat is already running for {path.parent} (pid {holder}, "
            f"holding {path}); this one stops so that scheduled tasks are sent once."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _held.append(handle)


def die_with_the_worker(sender: Any = None, **kwargs: Any) -> None:
    """Have the kernel send this embedded beat SIGTERM when its worker dies (connected to
    Celery's ``beat_embedded_init`` in config/celery.py)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return
    if os.getppid() != parent:  # the worker died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
