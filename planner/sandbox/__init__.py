"""Run a script tool's ``main(**kwargs)`` in a fresh, isolated interpreter; failures are data.

No Django here: the Celery task and the trusted-callable path build on this module.

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
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import json
import logging
import marshal
import math
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

from planner.sandbox import cgroups, seccomp
from planner.sandbox import network as netpolicy

logger = logging.getLogger("quiver.sandbox")

PYTHON = "/usr/bin/python3"
BWRAP = "/usr/bin/bwrap"
SETPRIV = "/usr/bin/setpriv"
BOOTSTRAP = (Path(__file__).with_name("_child.py")).read_text()

Isolation = Literal["bubblewrap", "rlimits-only"]
BUBBLEWRAP: Final = "bubblewrap"
RLIMITS_ONLY: Final = "rlimits-only"

Status = Literal[
    "succeeded",
    "raised",
    "timed_out",
    "memory",
    "non_json",
    "output_too_large",
    "crashed",
    "failed_to_start",
    "cancelled",
]
# What ended the wait for a run: its result, its deadline, its exit, or a stop request.
_Outcome = Literal["result", "deadline", "ended", "stopped"]

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MEMORY_MB = 512
DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024
DEFAULT_MAX_LOG_BYTES = 64 * 1024
MAX_PROCESSES = 64
MAX_OPEN_FILES = 64
MAX_FILE_BYTES = 10 * 1024 * 1024

# One unprivileged uid per concurrent run: a fork bomb in one slot cannot starve another,
# and no slot shares a uid with a real account.
SANDBOX_UID_BASE = 64000
SANDBOX_SLOTS = netpolicy.SLOTS  # 32

# How often a running script's ``stop`` callback is asked whether to stop.
STOP_CHECK_S = 0.25

# When the script's process has exited but something it left behind still holds the pipes
# (only possible without bubblewrap), stop reading after this long.
EXIT_GRACE_S = 0.1
_READ_CHUNK = 65536
# The runner's Python and /usr/bin/python3 may differ in version; format 4 reads on both.
MARSHAL_VERSION = 4
_SANDBOX_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}  # noqa: S108


@dataclass(frozen=True)
class Result:
    """What one run of a script came to; every failure is a status, never an exception."""

    status: Status
    value: Any = None
    error: str = ""
    error_type: str = ""
    traceback: str = ""
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_ms: float = 0.0
    isolation: Isolation = BUBBLEWRAP
    exit_code: int | None = None
    # Which bounds applied to the run, in words: {"memory": ..., "processes": ...}.
    bounds: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


class _Capture:
    """Bytes from one pipe, kept up to a cap; the rest is read and counted, not kept."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.chunks: list[bytes] = []
        self.kept = 0
        self.truncated = False

    def add(self, data: bytes) -> None:
        room = self.cap - self.kept
        if len(data) > room:
            self.truncated = True
            data = data[: max(room, 0)]
        if data:
            self.chunks.append(data)
            self.kept += len(data)

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")


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
    STOP_CHECK_S while the script runs; when it answers True the run is killed and ends
    ``cancelled``.
    """
    started = time.monotonic()
    isolation = isolation_level()
    if refused := refusal(network=network):
        return Result(status="failed_to_start", error=refused, isolation=isolation)
    try:
        # Through JSON first: the script sees exactly what a JSON caller would send.
        plain = json.loads(json.dumps({"source": source, "kwargs": kwargs}, allow_nan=False))
        request = marshal.dumps(plain, MARSHAL_VERSION)
    except (TypeError, ValueError, RecursionError) as exc:
        return Result(
            status="failed_to_start",
            error=f"the arguments are not JSON: {exc}",
            error_type=type(exc).__name__,
            isolation=isolation,
        )
    memory_bytes = memory_mb * 1024 * 1024
    limits = [
        memory_bytes,
        max(1, math.ceil(timeout_s)),
        MAX_PROCESSES,
        MAX_OPEN_FILES,
        MAX_FILE_BYTES,
        max_output_bytes,
        0 if isolation == BUBBLEWRAP else os.getpid(),  # the parent to die with
    ]
    child = [PYTHON, "-I", "-S", "-c", BOOTSTRAP, *map(str, limits)]
    if isolation == BUBBLEWRAP:
        argv = [BWRAP, *_bwrap_args(network=network, tmp_mb=memory_mb), *child]
    else:
        argv = child
    kind = _Kind(
        tuple(argv),
        isolation,
        memory_bytes=memory_bytes,
        network=network,
        policy=network_policy or netpolicy.default_policy(),
    )
    launched = _take_warm(kind) or _launch(kind)
    if launched.network_slot is not None and kind.policy.internal:
        try:
            reachable = netpolicy.allow_internal(
                launched.network_slot,
                kind.policy,
                kind.policy.internal if internal_networks is None else internal_networks,
            )
        except OSError as exc:  # never run with what the slot's previous run could reach
            _discard(launched)
            return Result(status="failed_to_start", error=str(exc), isolation=isolation)
        launched.bounds["network"] = _network_words(reachable)
    run = _execute(
        launched,
        request,
        deadline=started + timeout_s,
        # The value travels as a JSON string inside the message: escaping at most doubles it.
        result_cap=2 * max_output_bytes + DEFAULT_MAX_LOG_BYTES,
        log_cap=max_log_bytes,
        stop=stop,
    )
    duration_ms = (time.monotonic() - started) * 1000
    _keep_warm(kind)
    result = _interpret(run, isolation=isolation, duration_ms=duration_ms, timeout_s=timeout_s)
    return replace(result, bounds=launched.bounds)


def refusal(*, network: bool) -> str:
    """Why a script may not run on this machine (empty when it may): the operator has not
    allowed scripts to run without bubblewrap's isolation, or a network-enabled script
    cannot have a network of its own here."""
    if ALLOW_WEAK:
        return ""
    if isolation_level() != BUBBLEWRAP:
        return (
            "Scripts cannot run isolated on this server (bubblewrap is missing or does not "
            "work), and the operator has not allowed them to run with resource limits only "
            "(QUIVER_SANDBOX_ALLOW_WEAK)."
        )
    if network and (problem := netpolicy.problem()):
        return (
            f"This tool needs the network, and scripts cannot have a network of their own on "
            f"this server: {problem}. The operator has not allowed them to share the server's "
            "network (QUIVER_SANDBOX_ALLOW_WEAK)."
        )
    return ""


# The operator's explicit choice to run scripts with weaker isolation where bubblewrap,
# a uid of their own, or a network namespace of their own cannot be had (development
# machines without root). Never the default.
ALLOW_WEAK = os.environ.get("QUIVER_SANDBOX_ALLOW_WEAK", "").lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class _Kind:
    """Everything that makes one sandbox like another: a warm one serves a run of its kind."""

    argv: tuple[str, ...]
    isolation: Isolation
    memory_bytes: int
    network: bool
    policy: netpolicy.Policy


@functools.cache
def isolation_level() -> Isolation:
    """How strongly runs are isolated on this machine; probed once, warned about if weak."""
    reason = _bubblewrap_problem()
    if reason is None:
        return BUBBLEWRAP
    logger.warning(
        "SANDBOX IS WEAK: %s. Script tools run with resource limits and a scrubbed "
        "environment only; they can read any file the sandbox uid can read and reach "
        "the network. Install bubblewrap (apt-get install bubblewrap) to isolate them.",
        reason,
    )
    return RLIMITS_ONLY


def _bubblewrap_problem() -> str | None:
    if not os.access(BWRAP, os.X_OK):
        return f"{BWRAP} is not installed"
    if not os.access(PYTHON, os.X_OK):
        return f"{PYTHON} is not installed"
    argv = [BWRAP, *_bwrap_args(network=False), PYTHON, "-I", "-S", "-c", "pass"]
    try:
        with _slot() as (_, uid):
            argv, user_args = _as_user(argv, uid)
            completed = subprocess.run(
                argv, capture_output=True, timeout=10, env=_SANDBOX_ENV, **user_args
            )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not start: {exc}"
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip()
        return f"bubblewrap does not work here ({detail or completed.returncode})"
    return None


@functools.cache
def _bwrap_args(*, network: bool, tmp_mb: int = DEFAULT_MEMORY_MB) -> tuple[str, ...]:
    tmp_bytes = str(tmp_mb * 1024 * 1024)
    args = [
        "--unshare-all",
        # A user namespace of its own, in which no further one can be made: the kernel's
        # namespace code stays out of a script's reach.
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        *_usr_binds(),
    ]
    # Debian's merged /usr makes /bin, /lib... symlinks into it; older layouts bind them.
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    # Its own /proc; a read-only /dev of the usual devices; a private, empty /tmp and
    # /dev/shm, each sized (tmpfs pages are nobody's address space: without a size they
    # could grow to half the host's memory).
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", tmp_bytes, "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]  # noqa: S108
    args += ["--size", tmp_bytes, "--tmpfs", "/tmp", "--chdir", "/tmp"]  # noqa: S108
    if network:
        args.append("--share-net")  # the slot's own namespace: see network.py
        # Name resolution and TLS need these, and nothing else from /etc.
        for path in ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl"):
            args += ["--ro-bind-try", path, path]
        args += ["--ro-bind-try", "/usr/share/ca-certificates", "/usr/share/ca-certificates"]
    for name, value in _SANDBOX_ENV.items():
        args += ["--setenv", name, value]
    # Last: the root bubblewrap built (a tmpfs holding the mount points) is read-only too.
    args += ["--remount-ro", "/"]
    return tuple(args)


@functools.cache
def _usr_binds() -> tuple[str, ...]:
    """Only the parts of /usr the interpreter needs, not the host's whole /usr (its
    /usr/local, its other programs): the interpreter, its standard library, the shared
    libraries, time zones. Where the layout is not the one expected, all of /usr."""
    python = Path(PYTHON).resolve()
    stdlib = Path("/usr/lib") / python.name
    libraries = sorted(Path("/usr/lib").glob("*-linux-gnu*"))
    if not (python.is_relative_to("/usr/bin") and stdlib.is_dir() and libraries):
        return ("--ro-bind", "/usr", "/usr")
    binds = ["--ro-bind", str(python), str(python)]
    if Path(PYTHON) != python:
        binds += ["--symlink", python.name, PYTHON]
    for path in [stdlib, *libraries, Path("/usr/lib64"), Path("/usr/share/zoneinfo")]:
        if path.exists():
            binds += ["--ro-bind", str(path), str(path)]
    return tuple(binds)


# Slots are claimed with flock on one file each, so threads of one worker and the
# processes of a prefork pool never share a uid. Root-only directory: a sandbox uid
# cannot create it first and hold the locks.
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
def _slot(*, wait: bool = True, empty: bool = False) -> Iterator[tuple[int, int | None]]:
    """Yield a free slot's number and the uid to run as (None when not root); with
    ``empty``, a slot whose cgroup is empty."""
    with _claim_slot(wait=wait, empty=empty) as slot:
        yield slot, SANDBOX_UID_BASE + slot if os.geteuid() == 0 else None


class NoFreeSlot(Exception):
    """All SANDBOX_SLOTS slots are taken (raised only when not waiting for one)."""


@contextlib.contextmanager
def _claim_slot(*, wait: bool = True, empty: bool = False) -> Iterator[int]:
    """Hold one of the SANDBOX_SLOTS slots of this machine, waiting while all are taken
    (or raising NoFreeSlot when not ``wait``). With ``empty``, only a slot whose cgroup
    holds no process: the last run's may still be on their way out, and they would count
    against the next run's bounds."""
    directory = _slot_dir()
    first = (os.getpid() + threading.get_native_id()) % SANDBOX_SLOTS
    while True:
        if empty:
            _reap_finished()
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


def _as_user(argv: list[str], uid: int | None) -> tuple[list[str], dict[str, Any]]:
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


@dataclass
class _Run:
    returncode: int | None
    outcome: _Outcome
    result: bytes
    result_truncated: bool
    stdout: _Capture
    stderr: _Capture
    start_error: str = ""
    killed_for_memory: bool = False  # the kernel killed one of its processes for memory


@dataclass
class _Launched:
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
        if self.proc is not None and not (self.bubblewrap and _kill_namespace(self.proc.pid)):
            _kill_group(self.proc.pid)
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


def _launch(kind: _Kind, *, wait: bool = True) -> _Launched:
    """Start a sandbox for one run in a free slot (waiting for one, or raising NoFreeSlot
    when not ``wait``): as the slot's uid, in its cgroup and, for the network, its
    namespace; it starts the interpreter and its bootstrap, then waits for the request."""
    resources = contextlib.ExitStack()
    try:
        bounded = kind.isolation == BUBBLEWRAP and cgroups.problem() is None
        number, uid = resources.enter_context(_slot(wait=wait, empty=bounded))
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
        argv, user_args = _as_user(argv, uid)
        proc = subprocess.Popen(
            [*prefix, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(result_write,) if filter_read is None else (result_write, filter_read),
            cwd=cwd,
            env=_SANDBOX_ENV,
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
    return _Launched(
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


def _confine(kind: _Kind, number: int) -> tuple[list[str], cgroups.Bound | None, bool]:
    """The command prefix, run as root before the uid drop, that puts a sandbox in its
    slot's cgroup and (for a network-enabled run) its slot's network namespace; the
    cgroup, and whether it is in the namespace."""
    if kind.isolation != BUBBLEWRAP or not os.access(SETPRIV, os.X_OK):
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


def _bounds(kind: _Kind, cgroup: cgroups.Bound | None, uid: int | None) -> dict[str, str]:
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
        bounds["network"] = _network_words(kind.policy.internal)
    else:
        bounds["network"] = "the server's own (weaker isolation allowed by the operator)"
    return bounds


def _network_words(internal: Iterable[str]) -> str:
    listed = ", ".join(internal)
    return "its own: outside addresses only" + (
        f", and the internal networks {listed}" if listed else ""
    )


def _execute(
    launched: _Launched,
    request: bytes,
    *,
    deadline: float,
    result_cap: int,
    log_cap: int,
    stop: Callable[[], bool] | None = None,
) -> _Run:
    stdout, stderr, result = _Capture(log_cap), _Capture(log_cap), _Capture(result_cap)
    proc = launched.proc
    if proc is None:
        launched.close()
        return _Run(None, "ended", b"", False, stdout, stderr, launched.start_error)
    assert proc.stdin and proc.stdout and proc.stderr
    outcome: _Outcome = "ended"
    killed_for_memory = False
    try:
        outcome = _pump(proc, request, launched.result_read, stdout, stderr, result, deadline, stop)
    finally:
        # Asked before the slot is given back: the next run in it starts a new count.
        killed_for_memory = launched.killed_for_memory()
        launched.close()
        if outcome == "result":
            _reap_later(proc)  # its exit status is not needed; the teardown takes ms
        else:
            proc.wait()
    return _Run(
        None if outcome == "result" else proc.returncode,
        outcome,
        b"".join(result.chunks),
        result.truncated,
        stdout,
        stderr,
        killed_for_memory=killed_for_memory,
    )


# -- warm sandboxes ----------------------------------------------------------------------
# After a run, the next sandbox for the same command line (interpreter, limits, network)
# is started at once and left waiting for its request, so the next run like it skips
# bubblewrap's and the interpreter's start. Each sandbox still serves one run: nothing of
# one run (files, processes, namespaces) reaches another. It costs an idle sandbox (two
# small processes and a slot) per kind of run kept, at most WARM_KINDS per process; the
# CPU a run takes is the same, only spent before the run is asked for.
WARM = os.environ.get("QUIVER_SANDBOX_WARM", "1").lower() not in {"0", "false", "no"}
WARM_KINDS = 2
_warm: dict[_Kind, _Launched] = {}
_warm_lock = threading.Lock()


def _take_warm(kind: _Kind) -> _Launched | None:
    """The waiting sandbox of this kind, if one is alive."""
    with _warm_lock:
        launched = _warm.pop(kind, None)
    if launched is None:
        return None
    alive = launched.proc is not None and launched.proc.poll() is None
    if alive and launched.thread.is_alive():
        return launched
    _discard(launched)  # it died, or will with the thread that started it
    return None


def _keep_warm(kind: _Kind) -> None:
    """Start the sandbox the next run of this kind will use."""
    if not WARM:
        return
    try:
        # Never wait, and leave a slot free (held meanwhile): slots that runs need must not
        # all go to sandboxes that may stay idle.
        with _claim_slot(wait=False):
            launched = _launch(kind, wait=False)
    except NoFreeSlot:
        return
    if launched.proc is None:
        launched.close()
        return
    with _warm_lock:
        stale = [_warm.pop(kind, None)]
        _warm[kind] = launched
        while len(_warm) > WARM_KINDS:
            stale.append(_warm.pop(next(iter(_warm))))
    for old in stale:
        if old is not None:
            _discard(old)


def _discard(launched: _Launched) -> None:
    launched.close()
    if launched.proc is not None:
        _reap_later(launched.proc)


def _after_fork_in_child() -> None:
    """A child forked without exec runs none of its parent's sandboxes: let go of the
    copies of their pipes and slots, without killing them or removing their directories."""
    for fd in _held_slots:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_slots.clear()
    for launched in _warm.values():
        launched.resources.pop_all()
        launched.close_pipes()
    _warm.clear()
    _unreaped.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def discard_warm() -> None:
    """Stop every waiting sandbox of this process (at exit; tests)."""
    with _warm_lock:
        waiting = list(_warm.values())
        _warm.clear()
    for launched in waiting:
        _discard(launched)


atexit.register(discard_warm)


_unreaped: list[subprocess.Popen[bytes]] = []
_unreaped_lock = threading.Lock()


def _reap_later(proc: subprocess.Popen[bytes]) -> None:
    """Keep proc to be reaped by a later run, and reap those that have exited since."""
    with _unreaped_lock:
        _unreaped.append(proc)
    _reap_finished()


def _reap_finished() -> None:
    with _unreaped_lock:
        _unreaped[:] = [p for p in _unreaped if p.poll() is None]


def _pump(
    proc: subprocess.Popen[bytes],
    request: bytes,
    result_fd: int,
    stdout: _Capture,
    stderr: _Capture,
    result: _Capture,
    deadline: float,
    stop: Callable[[], bool] | None = None,
) -> _Outcome:
    """Feed stdin and drain the pipes until the result message ends, the pipes close, the
    process is gone, the deadline passes or ``stop`` says so; return which ended the run.
    """
    assert proc.stdin and proc.stdout and proc.stderr
    sel = selectors.DefaultSelector()
    to_send = memoryview(request)
    os.set_blocking(proc.stdin.fileno(), False)
    sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE, None)
    for fd, capture in (
        (proc.stdout.fileno(), stdout),
        (proc.stderr.fileno(), stderr),
        (result_fd, result),
    ):
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ, capture)
    pidfd: int | None
    try:
        pidfd = os.pidfd_open(proc.pid)
        sel.register(pidfd, selectors.EVENT_READ, "exit")
    except OSError:  # Linux before 5.3: poll for the exit instead
        pidfd = None
    exited_at: float | None = None
    readers = 3
    next_check = time.monotonic() + STOP_CHECK_S
    try:
        while readers:
            now = time.monotonic()
            if now >= deadline:
                _kill_group(proc.pid)
                return "deadline"
            if stop is not None and now >= next_check:
                if stop():
                    _kill_group(proc.pid)
                    return "stopped"
                next_check = time.monotonic() + STOP_CHECK_S
            wait = deadline - now
            if stop is not None:
                wait = min(wait, max(next_check - now, 0.0))
            if exited_at is not None:
                wait = min(wait, exited_at + EXIT_GRACE_S - now)
                if wait <= 0:
                    break
            elif pidfd is None:
                if proc.poll() is not None:
                    exited_at = now
                wait = min(wait, 0.01)
            for key, _ in sel.select(wait):
                if key.data is None:
                    try:
                        to_send = to_send[os.write(key.fd, to_send) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        to_send = to_send[:0]  # it died before reading; the exit tells why
                    if not to_send:
                        sel.unregister(key.fd)
                        proc.stdin.close()
                elif key.data == "exit":
                    sel.unregister(key.fd)
                    exited_at = time.monotonic()
                else:
                    try:
                        data = os.read(key.fd, _READ_CHUNK)
                    except BlockingIOError:
                        continue
                    if data:
                        key.data.add(data)
                        if key.data is result and data.endswith(b"\n"):
                            # The script flushed its output before its result: what it
                            # printed is already in the pipes.
                            _drain(proc.stdout.fileno(), stdout)
                            _drain(proc.stderr.fileno(), stderr)
                            return "result"
                    else:
                        sel.unregister(key.fd)
                        readers -= 1
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
    return "ended"


def _drain(fd: int, capture: _Capture) -> None:
    with contextlib.suppress(OSError):
        while data := os.read(fd, _READ_CHUNK):
            capture.add(data)


def _kill_namespace(pid: int) -> bool:
    """Kill the run's namespace through its PID 1, bubblewrap's inner process (the kernel
    then kills everything in it); the outer bubblewrap, our child, reaps it and exits.
    Killing the outer one first would leave the inner one to the host's init to reap, and
    until it does, the slot's cgroup is not empty. False if there was no inner process."""
    try:
        inner = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return False
    for child in inner:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(int(child), signal.SIGKILL)
    return bool(inner)


def _kill_group(pid: int) -> None:
    # The process group outlives its leader while members remain, so this is safe after
    # the leader has been reaped: the id is not reused while the group exists.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _interpret(run: _Run, *, isolation: Isolation, duration_ms: float, timeout_s: float) -> Result:
    base = Result(
        status="crashed",
        stdout=run.stdout.text(),
        stderr=run.stderr.text(),
        stdout_truncated=run.stdout.truncated,
        stderr_truncated=run.stderr.truncated,
        duration_ms=duration_ms,
        isolation=isolation,
        exit_code=run.returncode,
    )
    if run.start_error:
        return replace(
            base,
            status="failed_to_start",
            error=f"the sandbox could not start: {run.start_error}",
        )
    if run.outcome == "stopped":
        return replace(base, status="cancelled", error="the run was cancelled while it ran")
    if run.killed_for_memory:
        # Under cgroup v1 the kernel kills single processes: a parent whose children were
        # killed may still return, but the run did not stay within its memory.
        return replace(
            base,
            status="memory",
            error_type="MemoryError",
            error="the run used more memory than its limit, so the kernel stopped it",
        )
    signum = _signal_of(run.returncode, isolation)
    if run.outcome == "deadline" or signum == signal.SIGXCPU:
        return replace(
            base,
            status="timed_out",
            error_type="TimeoutError",
            error=f"the script did not finish within {timeout_s:g} s",
        )
    if run.result_truncated:
        return replace(
            base,
            status="output_too_large",
            error_type="OutputTooLarge",
            error="the script's result message passed the output limit",
        )
    message = _parse(run.result)
    if message is None:
        if run.result:
            return replace(
                base,
                status="crashed",
                error_type="Crashed",
                error="the script wrote a malformed result message instead of returning",
            )
        return _without_result(base, signum)
    status: Status = message["status"]
    if status == "succeeded":
        return replace(base, status=status, value=message["value"])
    return replace(
        base,
        status=status,
        error=str(message.get("error", "")),
        error_type=str(message.get("error_type", "")),
        traceback=str(message.get("traceback", "")),
    )


def _parse(data: bytes) -> dict[str, Any] | None:
    """The bootstrap's message, with the value decoded, or None if there is none or it is
    malformed. The script can write to the result pipe too: nothing in it is trusted."""
    try:
        message = json.loads(data, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("status") not in _CHILD_STATUSES:
        return None
    if message["status"] != "succeeded":
        return message
    if not isinstance(message.get("value_json"), str):
        return None
    try:
        return {
            "status": "succeeded",
            "value": json.loads(message["value_json"], parse_constant=_not_json),
        }
    except (ValueError, RecursionError) as exc:
        return {
            "status": "non_json",
            "error_type": type(exc).__name__,
            "error": f"main() returned a value that is not JSON: {exc}",
        }


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON number")


_CHILD_STATUSES = {"succeeded", "raised", "memory", "non_json", "output_too_large"}


def _without_result(base: Result, signum: int | None) -> Result:
    # Killed by the kernel (SIGKILL, or SIGSEGV/SIGABRT when an allocation past the
    # address-space limit was not checked) or a MemoryError the bootstrap could not report.
    memory_signals = {signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS}
    if signum in memory_signals or "MemoryError" in base.stderr:
        killed_by = f" ({signal.Signals(signum).name})" if signum else ""
        return replace(
            base,
            status="memory",
            error_type="MemoryError",
            error=f"the script was killed for memory{killed_by}",
        )
    if base.exit_code == 1 and base.stderr.startswith(("bwrap:", "setpriv:")):
        return replace(
            base,
            status="failed_to_start",
            error=f"the sandbox could not start: {base.stderr.strip()}",
        )
    if signum is not None:
        what = f"was killed by {signal.Signals(signum).name}"
    else:
        what = f"exited with code {base.exit_code} before returning"
    return replace(base, status="crashed", error_type="Crashed", error=f"the script {what}")


def _signal_of(returncode: int | None, isolation: Isolation) -> int | None:
    if returncode is None:
        return None
    if returncode < 0:
        number = -returncode
    elif isolation == BUBBLEWRAP and returncode > 128:
        # bubblewrap reports its child's death by signal N as exit code 128 + N.
        number = returncode - 128
    else:
        return None
    try:
        return signal.Signals(number)
    except ValueError:
        return None
