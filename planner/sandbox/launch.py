"""Starting a sandbox for one run, and running it: its slot, uid, cgroup, network
namespace and seccomp filter, then the request in and the run's pipes out."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from planner.sandbox import cgroups, seccomp, slots, streams
from planner.sandbox import network as netpolicy
from planner.sandbox.isolation import BUBBLEWRAP, SANDBOX_ENV, Isolation
from planner.sandbox.limits import MAX_PROCESSES
from planner.sandbox.outcome import Run
from planner.sandbox.streams import Capture, Ending


@dataclass(frozen=True)
class Kind:
    """Everything that makes one sandbox like another: a warm one serves a run of its kind."""

    argv: tuple[str, ...]
    isolation: Isolation
    memory_bytes: int
    network: bool
    policy: netpolicy.Policy


@dataclass
class Launched:
    """A sandbox started and waiting for its request on stdin; it serves one run only."""

    proc: subprocess.Popen[bytes] | None
    result_read: int
    resources: contextlib.ExitStack  # its slot (uid) and working directory
    thread: threading.Thread  # the kernel kills the sandbox when this thread ends
    start_error: str = ""
    bounds: dict[str, str] = field(default_factory=dict)
    bubblewrap: bool = True
    cgroup: cgroups.Bound | None = None
    network_slot: int | None = None  # the slot whose network namespace it is in
    oom_before: int = 0  # the cgroup's count of processes killed for memory at the start

    def killed_for_memory(self) -> bool:
        """Whether the kernel killed any of the run's processes for memory."""
        return self.cgroup is not None and self.cgroup.oom_kills() > self.oom_before

    def close(self) -> None:
        """Kill what is left of it and give back its pipes, slot and directory."""
        if self.proc is not None and not (
            self.bubblewrap and streams.kill_namespace(self.proc.pid)
        ):
            streams.kill_group(self.proc.pid)
        self.close_pipes()
        self.resources.close()

    def close_pipes(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.result_read)
        if self.proc is not None:
            for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                with contextlib.suppress(OSError):
                    if pipe is not None:
                        pipe.close()


def launch(kind: Kind, *, wait: bool = True) -> Launched:
    """Start a sandbox for one run in a free slot (waiting for one, or raising NoFreeSlot
    when not ``wait``): as the slot's uid, in its cgroup and, for the network, its
    namespace; it starts the interpreter and its bootstrap, then waits for the request."""
    resources = contextlib.ExitStack()
    try:
        bounded = kind.isolation == BUBBLEWRAP and cgroups.problem() is None
        number, uid = resources.enter_context(slots.slot_and_uid(wait=wait, empty=bounded))
        cwd = resources.enter_context(_workdir(kind.isolation, uid))
        result_read, result_write = os.pipe()
    except BaseException:
        resources.close()
        raise
    proc, start_error, cgroup, oom_before = None, "", None, 0
    filter_read = None
    try:
        prefix, cgroup, in_namespace = (
            _confine(kind, number) if uid is not None else ([], None, False)
        )
        oom_before = cgroup.oom_kills() if cgroup else 0
        argv = [*kind.argv, str(result_write)]
        if kind.isolation == BUBBLEWRAP and seccomp.program():
            filter_read = seccomp.pipe_with_program()
            argv[1:1] = ["--seccomp", str(filter_read)]
        argv, user_args = slots.as_user(argv, uid)
        proc = subprocess.Popen(
            [*prefix, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(result_write,) if filter_read is None else (result_write, filter_read),
            cwd=cwd,
            env=SANDBOX_ENV,
            start_new_session=True,
            close_fds=True,
            **user_args,
        )
    except OSError as exc:
        start_error = str(exc)
    finally:
        os.close(result_write)
        if filter_read is not None:
            os.close(filter_read)
    return Launched(
        proc,
        result_read,
        resources,
        threading.current_thread(),
        start_error,
        bounds=_bounds(kind, cgroup, uid),
        bubblewrap=kind.isolation == BUBBLEWRAP,
        cgroup=cgroup,
        oom_before=oom_before,
        network_slot=number if in_namespace else None,
    )


@contextlib.contextmanager
def _workdir(isolation: Isolation, uid: int | None) -> Iterator[str]:
    """The directory to start in: / for bubblewrap (it moves to its tmpfs), else a fresh one."""
    if isolation == BUBBLEWRAP:
        yield "/"
        return
    path = tempfile.mkdtemp(prefix="quiver-sandbox-")
    try:
        if uid is not None:
            os.chown(path, uid, uid)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _confine(kind: Kind, number: int) -> tuple[list[str], cgroups.Bound | None, bool]:
    """The command prefix, run as root before the uid drop, that puts a sandbox in its
    slot's cgroup and (for a network-enabled run) its slot's network namespace; the
    cgroup, and whether it is in the namespace."""
    if kind.isolation != BUBBLEWRAP or not os.access(slots.SETPRIV, os.X_OK):
        return [], None, False  # without setpriv the uid drop happens before anything ran
    prefix: list[str] = []
    cgroup = _cgroup(number)
    if cgroup is not None:
        cgroup.limit(memory_bytes=kind.memory_bytes, processes=MAX_PROCESSES)
        prefix += cgroups.join_command(cgroup)
    in_namespace = kind.network and netpolicy.problem() is None
    if in_namespace:
        prefix += netpolicy.enter(number, kind.policy)
    return prefix, cgroup, in_namespace


def _cgroup(number: int) -> cgroups.Bound | None:
    if cgroups.problem() is not None:
        return None
    return cgroups.slot(number)


def _bounds(kind: Kind, cgroup: cgroups.Bound | None, uid: int | None) -> dict[str, str]:
    """The bounds a run had, in words, as the run's record shows them."""
    megabytes = kind.memory_bytes // (1024 * 1024)
    bounds: dict[str, str] = {"isolation": kind.isolation}
    if cgroup is not None:
        bounds["memory"] = f"{megabytes} MB for the whole run"
        bounds["processes"] = f"{MAX_PROCESSES} for the whole run"
    else:
        bounds["memory"] = f"{megabytes} MB per process (no cgroup on this server)"
        owner = "the run's own uid" if uid is not None else "Quiver's uid"
        bounds["processes"] = f"{MAX_PROCESSES} for {owner}"
    if kind.isolation == BUBBLEWRAP:
        bounds["files"] = f"a private /tmp and /dev/shm of {megabytes} MB each"
        bounds["system calls"] = (
            f"{len(seccomp.DENIED)} a script never needs are refused"
            if seccomp.program()
            else "not filtered (libseccomp is missing)"
        )
    else:
        bounds["files"] = "a private working directory; the server's files stay readable"
    if not kind.network:
        bounds["network"] = "none" if kind.isolation == BUBBLEWRAP else "the server's own"
    elif kind.isolation == BUBBLEWRAP and uid is not None and netpolicy.problem() is None:
        bounds["network"] = network_words(kind.policy.internal)
    else:
        bounds["network"] = "the server's own (weaker isolation allowed by the operator)"
    return bounds


def network_words(internal: Iterable[str]) -> str:
    """What a network-enabled run may reach, in words, for its bounds."""
    listed = ", ".join(internal)
    return "its own: outside addresses only" + (
        f", and the internal networks {listed}" if listed else ""
    )


def execute(
    launched: Launched,
    request: bytes,
    *,
    deadline: float,
    result_cap: int,
    log_cap: int,
    stop: Callable[[], bool] | None = None,
) -> Run:
    """Send the request to a launched sandbox and read its pipes until the run ends."""
    stdout, stderr, result = Capture(log_cap), Capture(log_cap), Capture(result_cap)
    proc = launched.proc
    if proc is None:
        launched.close()
        return Run(None, "ended", b"", False, stdout, stderr, launched.start_error)
    assert proc.stdin and proc.stdout and proc.stderr
    outcome: Ending = "ended"
    killed_for_memory = False
    try:
        outcome = streams.pump(
            proc, request, launched.result_read, stdout, stderr, result, deadline, stop
        )
    finally:
        # Asked before the slot is given back: the next run in it starts a new count.
        killed_for_memory = launched.killed_for_memory()
        launched.close()
        if outcome == "result":
            streams.reap_later(proc)  # its exit status is not needed; the teardown takes ms
        else:
            proc.wait()
    return Run(
        None if outcome == "result" else proc.returncode,
        outcome,
        b"".join(result.chunks),
        result.truncated,
        stdout,
        stderr,
        killed_for_memory=killed_for_memory,
    )


def discard(launched: Launched) -> None:
    """Give a sandbox up: kill what is left of it, free what it holds, reap it later."""
    launched.close()
    if launched.proc is not None:
        streams.reap_later(launched.proc)
