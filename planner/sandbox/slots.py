"""The sandbox's slots: one per concurrent run on this machine, each with a uid of its own.

A slot's number picks its uid, its cgroup (``cgroups.py``) and its network namespace
(``network.py``). Slots are claimed with flock on one file each, so threads of one worker
and the processes of a prefork pool never share a uid.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from planner.sandbox import cgroups, streams
from planner.sandbox import network as netpolicy

SETPRIV = "/usr/bin/setpriv"

# One unprivileged uid per concurrent run: a fork bomb in one slot cannot starve another,
# and no slot shares a uid with a real account.
SANDBOX_UID_BASE = 64000
SANDBOX_SLOTS = netpolicy.SLOTS  # 32

# Root-only directory: a sandbox uid cannot create it first and hold the locks.
SLOT_DIR = Path("/run/quiver-sandbox-slots")
_SLOT_WAIT_S = 0.005


def _slot_dir() -> Path:
    """Where the slots' lock files live: SLOT_DIR as root (falling back to a private
    directory under the temporary directory where /run is not writable)."""
    private = Path(tempfile.gettempdir()) / f"quiver-sandbox-slots-{os.geteuid()}"
    for directory in (SLOT_DIR, private) if os.geteuid() == 0 else (private,):
        try:
            directory.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            continue
        if directory.stat().st_uid != os.geteuid():
            raise PermissionError(f"{directory} belongs to another user")
        return directory
    raise PermissionError(f"cannot create {private} for the sandbox's slots")


@contextlib.contextmanager
def slot_and_uid(*, wait: bool = True, empty: bool = False) -> Iterator[tuple[int, int | None]]:
    """Yield a free slot's number and the uid to run as (None when not root); with
    ``empty``, a slot whose cgroup is empty."""
    with claim_slot(wait=wait, empty=empty) as slot:
        yield slot, SANDBOX_UID_BASE + slot if os.geteuid() == 0 else None


class NoFreeSlot(Exception):
    """All SANDBOX_SLOTS slots are taken (raised only when not waiting for one)."""


@contextlib.contextmanager
def claim_slot(*, wait: bool = True, empty: bool = False) -> Iterator[int]:
    """Hold one of the SANDBOX_SLOTS slots of this machine, waiting while all are taken
    (or raising NoFreeSlot when not ``wait``). With ``empty``, only a slot whose cgroup
    holds no process: the last run's may still be on their way out, and they would count
    against the next run's bounds."""
    directory = _slot_dir()
    first = (os.getpid() + threading.get_native_id()) % SANDBOX_SLOTS
    while True:
        if empty:
            streams.reap_finished()
        for step in range(SANDBOX_SLOTS):
            slot = (first + step) % SANDBOX_SLOTS
            fd = os.open(directory / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            if empty and not cgroups.slot(slot).empty():
                os.close(fd)
                continue
            _held_slots.add(fd)
            try:
                yield slot
            finally:
                if fd in _held_slots:  # else a forked child let go of its copy already
                    _held_slots.discard(fd)
                    os.close(fd)  # releases the lock
            return
        if not wait:
            raise NoFreeSlot
        time.sleep(_SLOT_WAIT_S)


# The lock files of the slots this process holds. A child forked without exec inherits
# them, and a lock lasts while any copy is open: the child lets go of its copies.
_held_slots: set[int] = set()


def _after_fork_in_child() -> None:
    for fd in _held_slots:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_slots.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def as_user(argv: list[str], uid: int | None) -> tuple[list[str], dict[str, Any]]:
    """argv and Popen arguments that run argv as uid (unchanged when uid is None)."""
    if uid is None:
        return argv, {}
    if os.access(SETPRIV, os.X_OK):
        # setpriv lets subprocess use vfork; switching user in Popen forces a full fork,
        # which costs ~20 ms from a 500 MB worker.
        drop = [SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs"]
        return [*drop, *argv], {}
    # subprocess switches user in its own child, without a preexec_fn (unsafe with threads).
    return argv, {"user": uid, "group": uid, "extra_groups": []}
