"""A memory and process bound around a whole run, not each process: one cgroup per slot.

``RLIMIT_AS`` bounds each process, and tmpfs pages are nobody's address space: a script
could fork children up to the process limit, each under the limit, or fill ``/tmp`` and
``/dev/shm``. A cgroup counts all of it, page cache and tmpfs included. Each sandbox slot
has one cgroup (per controller), made once and reused across runs; a run's launcher
joins it before it drops to the slot's uid, and the limits are set for each run.

cgroup v1 (the memory and pids controllers, as on these machines) and v2 (the unified
hierarchy, as on most hosts today) are both handled; v1 kills single processes when the
bound is reached, so a run's memory failure is told by the cgroup's ``oom_kill`` count
growing during it, not by how its first process ended.

v1 cgroups go under the cgroup this process is in (so whatever bounds Quiver's own
processes bounds its runs too). v2 does not allow that while this process is in its
cgroup, so they go under ``QUIVER_SANDBOX_CGROUP`` (default ``/sys/fs/cgroup/quiver``),
whose parent must have the memory and pids controllers enabled for its children.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
V2_PARENT = Path(os.environ.get("QUIVER_SANDBOX_CGROUP", "/sys/fs/cgroup/quiver"))
SUBTREE = "quiver-sandbox"


@dataclass(frozen=True)
class Bound:
    """One slot's cgroup directories; a launcher joins all of them."""

    version: int
    memory: Path
    pids: Path

    @property
    def directories(self) -> tuple[Path, ...]:
        return (self.memory,) if self.memory == self.pids else (self.memory, self.pids)

    def limit(self, *, memory_bytes: int, processes: int) -> None:
        """Set the run's limits (swap included: a bounded run may not swap past them)."""
        if self.version == 2:
            _write(self.memory / "memory.max", memory_bytes)
            with contextlib.suppress(OSError):
                _write(self.memory / "memory.swap.max", 0)
        else:
            # memory+swap may never be below memory alone: raise it first, lower it last.
            memsw = self.memory / "memory.memsw.limit_in_bytes"
            limit = self.memory / "memory.limit_in_bytes"
            current = int(limit.read_text())
            order = [memsw, limit] if memory_bytes >= current else [limit, memsw]
            for path in order:
                with contextlib.suppress(FileNotFoundError):
                    _write(path, memory_bytes)
        _write(self.pids / "pids.max", processes)

    def empty(self) -> bool:
        """Whether no process (a zombie included) is left in it."""
        return (self.pids / "pids.current").read_text().strip() == "0"

    def oom_kills(self) -> int:
        """How many processes the kernel killed in it for memory, ever."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        for line in (self.memory / name).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def describe(self, *, memory_bytes: int, processes: int) -> str:
        return (
            f"memory {memory_bytes // (1024 * 1024)} MB and {processes} processes for the "
            f"whole run (cgroup v{self.version})"
        )


@functools.cache
def problem() -> str | None:
    """Why runs cannot be bounded by a cgroup here, or None (asked once per process)."""
    version = _version()
    if version is None:
        return "no cgroup memory and pids controllers are mounted"
    if os.geteuid() != 0:
        return "Quiver does not run as root, so it cannot put runs in cgroups"
    try:
        slot(0)
    except OSError as exc:
        return f"cannot make the sandbox's cgroups: {exc}"
    return None


def _make(number: int) -> Bound:
    """The slot's cgroup, made if it is missing."""
    version = _version()
    if version == 2:
        path = _v2_parent() / f"slot{number}"
        path.mkdir(exist_ok=True)
        return Bound(2, path, path)
    memory = _v1_parent("memory") / f"slot{number}"
    pids = _v1_parent("pids") / f"slot{number}"
    memory.mkdir(exist_ok=True)
    pids.mkdir(exist_ok=True)
    return Bound(1, memory, pids)


def join_command(bound: Bound) -> list[str]:
    """A command prefix that moves itself into the cgroup, then runs the rest of argv.
    (Python's subprocess cannot start a child in a cgroup; the shell costs ~0.5 ms.)"""
    joins = "; ".join(f"echo 0 > {d}/cgroup.procs" for d in bound.directories)
    return ["/bin/sh", "-c", f'{joins} && exec "$@"', "quiver-cgroup"]


@functools.cache
def slot(number: int) -> Bound:
    """The slot's cgroup, made if it is missing (once per process)."""
    return _make(number)


@functools.cache
def _version() -> int | None:
    if (ROOT / "cgroup.controllers").exists():
        controllers = (ROOT / "cgroup.controllers").read_text().split()
        return 2 if {"memory", "pids"} <= set(controllers) else None
    if (ROOT / "memory" / "memory.limit_in_bytes").exists() and (ROOT / "pids").is_dir():
        return 1
    return None


@functools.cache
def _v1_parent(controller: str) -> Path:
    """Quiver's subtree under the cgroup this process is in, for one v1 controller."""
    own = "/"
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            own = path
    parent = ROOT / controller / own.lstrip("/") / SUBTREE
    parent.mkdir(exist_ok=True)
    return parent


@functools.cache
def _v2_parent() -> Path:
    V2_PARENT.mkdir(exist_ok=True)
    _write(V2_PARENT / "cgroup.subtree_control", "+memory +pids")
    return V2_PARENT


def _write(path: Path, value: object) -> None:
    with open(path, "w") as file:
        file.write(str(value))
