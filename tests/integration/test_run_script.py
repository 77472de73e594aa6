"""bin/run with real processes: it keeps a worker running (started again when it dies),
runs exactly one beat, starts everything private to its user, and stops everything it
started on SIGTERM or Ctrl-C (to it or to its process group) within seconds, cleanly,
every time. An embedded beat (``worker -B``) dies with its worker."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import _NOT_INHERITED, ROOT, wait_until
from tests.integration.test_worker import _alive, _process_tree
from tests.test_settings import loose_modes

pytestmark = pytest.mark.slow
READY_S = 180.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(var: Path) -> dict[str, str]:
    """Embedded Quiver in ``var``, with the virtualenv running these tests."""
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    env.update(QUIVER_VAR_DIR=str(var), QUIVER_VENV=sys.prefix, DEBUG="false")
    env.update(PORT=str(_free_port()), WORKER_CONCURRENCY="1", SECURE_SSL_REDIRECT="false")
    return env


def _in_session(session: int) -> list[int]:
    """The live processes of a session (bin/run started its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _alive(int(entry.name)):
            with contextlib.suppress(OSError):
                if os.getsid(int(entry.name)) == session:
                    found.append(int(entry.name))
    return found


def _children(pid: int, command: str) -> list[int]:
    """bin/run's own children running ``command``."""
    return [
        child
        for child, cmdline in _process_tree(pid).items()
        if command in cmdline and _parent(child) == pid and _alive(child)
    ]


def _parent(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


class Run:
    def __init__(self, var: Path, log: Path, **env: str) -> None:
        self.var, self.log_path = var, log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                ["bin/run"],
                cwd=ROOT,
                env={**_environment(var), **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def one(self, command: str) -> int:
        """The pid of bin/run's only child running ``command``, once there is one."""

        def found() -> int:
            assert self.process.poll() is None, f"bin/run exited:\n{self.log()[-5000:]}"
            pids = _children(self.process.pid, command)
            assert len(pids) <= 1, pids
            return pids[0] if pids else 0

        return int(wait_until(found, timeout_s=READY_S, what=f"bin/run's {command}"))

    def beat(self) -> int:
        """The pid of bin/run's beat, once it holds the beat's lock."""
        beat = self.one("config beat")
        lock = self.var / "celerybeat.lock"
        wait_until(
            lambda: lock.exists() and lock.read_text().strip() == str(beat),
            timeout_s=READY_S,
            what="the beat to take its lock",
        )
        return beat

    def ready(self) -> None:
        wait_until(
            lambda: "Quiver is at" in self.log() or self.process.poll() is not None,
            timeout_s=READY_S,
            what="bin/run to start",
        )
        assert self.process.poll() is None, self.log()[-5000:]


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    started = Run(tmp_path / "var", tmp_path / "run.log")
    try:
        started.ready()
        yield started
    finally:
        for pid in _in_session(started.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        started.process.wait(timeout=30)


def test_bin_run_starts_a_killed_worker_again_and_keeps_one_beat(run: Run) -> None:
    worker, beat = run.one("config worker"), run.beat()

    os.kill(worker, signal.SIGKILL)

    wait_until(
        lambda: "The worker exited (status 137); starting it again" in run.log(),
        timeout_s=30,
        what="bin/run to notice the worker died",
    )
    wait_until(lambda: run.one("config worker") != worker, timeout_s=60, what="a new worker")
    assert _children(run.process.pid, "config beat") == [beat]
    assert "The beat exited" not in run.log()


def test_a_second_beat_on_the_same_var_folder_refuses_to_start(run: Run) -> None:
    beat = run.beat()

    second = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "beat"],
        cwd=ROOT,
        env=_environment(run.var),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert second.returncode != 0
    assert f"Another Celery beat is already running for {run.var} (pid {beat}" in second.stderr
    assert _alive(beat)


def test_bin_run_makes_var_private_to_its_user(run: Run) -> None:
    run.beat()
    assert (run.var / "quiver.sqlite3").stat().st_size > 0
    # The beat writes its schedule file soon after it starts (later on a loaded machine).
    deadline = time.monotonic() + 30
    while not any(run.var.glob("celerybeat-schedule*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any(run.var.glob("celerybeat-schedule*"))
    assert loose_modes(run.var) == {}


# (signal, sent to bin/run alone or to its whole process group as a terminal's Ctrl-C or a
# service manager's stop does), each in turn on the same var folder.
STOPS = [
    (signal.SIGTERM, False),
    (signal.SIGINT, True),
    (signal.SIGTERM, True),
    (signal.SIGINT, False),
    (signal.SIGINT, True),
]
# An idle worker's warm shutdown takes about 7 s (its broker poll, then its pool's threads);
# bin/run kills what is left after 10 s.
STOPPED_WITHIN_S = 15.0


def _serving(run: Run) -> None:
    """Wait until the worker has forked its pool and the beat holds its lock."""
    worker = run.one("config worker")
    wait_until(
        lambda: any(_parent(child) == worker for child in _process_tree(worker)),
        timeout_s=READY_S,
        what="the worker's pool",
    )
    run.beat()


def test_every_way_of_stopping_bin_run_stops_everything_cleanly_within_seconds(
    tmp_path: Path,
) -> None:
    for turn, (how, to_group) in enumerate(STOPS):
        run = Run(tmp_path / "var", tmp_path / f"run-{turn}.log")
        try:
            run.ready()
            _serving(run)
            started = set(_in_session(run.process.pid)) - {run.process.pid}
            sent = time.monotonic()

            if to_group:
                os.killpg(run.process.pid, how)
            else:
                os.kill(run.process.pid, how)

            assert run.process.wait(timeout=STOPPED_WITHIN_S) == 0, run.log()[-3000:]
            wait_until(
                lambda: not _in_session(run.process.pid),  # noqa: B023
                timeout_s=STOPPED_WITHIN_S - (time.monotonic() - sent),
                what="every process to stop",
            )
            assert not any(map(_alive, started))
            log = run.log()
            assert log.rstrip().endswith("==> Quiver stopped"), log[-3000:]
            for refused in ("ERROR", "exited with signal", "did not stop", "Traceback"):
                assert refused not in log, log[-3000:]
        finally:
            for pid in _in_session(run.process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            run.process.wait(timeout=30)


def test_what_does_not_stop_within_the_grace_period_is_killed(tmp_path: Path) -> None:
    run = Run(tmp_path / "var", tmp_path / "run.log", QUIVER_STOP_GRACE_S="0")
    try:
        run.ready()
        _serving(run)

        os.kill(run.process.pid, signal.SIGTERM)

        assert run.process.wait(timeout=5) == 0, run.log()[-3000:]
        wait_until(
            lambda: not _in_session(run.process.pid), timeout_s=5, what="every process to stop"
        )
        assert "The worker did not stop within 0 s; killing it" in run.log()
    finally:
        for pid in _in_session(run.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run.process.wait(timeout=30)


def test_an_embedded_beat_dies_with_its_worker(tmp_path: Path) -> None:
    env = _environment(tmp_path / "var")
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "-c", "1"]
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    lock = tmp_path / "var" / "celerybeat.lock"
    try:
        beat = int(
            wait_until(
                lambda: lock.exists() and lock.read_text().strip(),
                timeout_s=READY_S,
                what="the embedded beat to take its lock",
            )
        )
        assert _parent(beat) == worker.pid

        os.kill(worker.pid, signal.SIGKILL)

        wait_until(lambda: not _alive(beat), timeout_s=10, what="the beat to die with its worker")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
