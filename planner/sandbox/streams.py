"""A sandbox's pipes, read until its run ends, and the end of its processes.

The runner feeds the request to stdin and reads stdout, stderr and the result pipe until
the result message ends, the pipes close, the process exits, the deadline passes or the
run is stopped. What is left is killed (its namespace, or its process group), and the
exited processes are reaped by a later run rather than waited for.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

# How often a running script's ``stop`` callback is asked whether to stop.
STOP_CHECK_S = 0.25

# When the script's process has exited but something it left behind still holds the pipes
# (only possible without bubblewrap), stop reading after this long.
EXIT_GRACE_S = 0.1
_READ_CHUNK = 65536
# What ended the wait for a run: its result, its deadline, its exit, or a stop request.
Ending = Literal["result", "deadline", "ended", "stopped"]


class Capture:
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


def pump(
    proc: subprocess.Popen[bytes],
    request: bytes,
    result_fd: int,
    stdout: Capture,
    stderr: Capture,
    result: Capture,
    deadline: float,
    stop: Callable[[], bool] | None = None,
) -> Ending:
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
                kill_group(proc.pid)
                return "deadline"
            if stop is not None and now >= next_check:
                if stop():
                    kill_group(proc.pid)
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


def _drain(fd: int, capture: Capture) -> None:
    with contextlib.suppress(OSError):
        while data := os.read(fd, _READ_CHUNK):
            capture.add(data)


def kill_namespace(pid: int) -> bool:
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


def kill_group(pid: int) -> None:
    # The process group outlives its leader while members remain, so this is safe after
    # the leader has been reaped: the id is not reused while the group exists.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


_unreaped: list[subprocess.Popen[bytes]] = []
_unreaped_lock = threading.Lock()


def reap_later(proc: subprocess.Popen[bytes]) -> None:
    """Keep proc to be reaped by a later run, and reap those that have exited since."""
    with _unreaped_lock:
        _unreaped.append(proc)
    reap_finished()


def reap_finished() -> None:
    """Reap the kept processes that have exited."""
    with _unreaped_lock:
        _unreaped[:] = [p for p in _unreaped if p.poll() is None]


def _after_fork_in_child() -> None:
    """A child forked without exec cannot reap its parent's processes: it forgets them."""
    _unreaped.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
