"""The sandbox runner with real subprocesses: what a script can reach, and how runs end."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from planner import sandbox
from planner.sandbox import (
    BUBBLEWRAP,
    RLIMITS_ONLY,
    isolation,
    isolation_level,
    run_script,
    slots,
    warm,
)

REPO = Path(__file__).resolve().parents[2]

needs_bubblewrap = pytest.mark.skipif(
    isolation_level() != BUBBLEWRAP and os.environ.get("CI", "").lower() not in {"1", "true"},
    reason="bubblewrap is not usable here (under CI=true these tests run and must pass)",
)


def script(body: str) -> str:
    return textwrap.dedent(body).strip() + "\n"


READ_FILE = script(
    """
    def main(path):
        try:
            with open(path, "rb") as f:
                return {"read": f.read().decode("utf-8", "replace")}
        except OSError as exc:
            return {"error": type(exc).__name__}
    """
)

CONNECT = script(
    """
    import socket

    def main(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"hello")
            return "connected"
        except OSError as exc:
            return "refused: " + type(exc).__name__
    """
)


class Listener:
    """A TCP listener on 127.0.0.1 that records whether anything connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


# What a script can reach


@needs_bubblewrap
def test_script_cannot_read_an_environment_secret_of_the_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUIVER_TEST_SECRET", "s3cret-value")
    result = run_script(
        script(
            """
            import os

            def main():
                return dict(os.environ)
            """
        ),
        {},
    )
    assert result.status == "succeeded"
    assert "QUIVER_TEST_SECRET" not in result.value
    assert "s3cret-value" not in str(result.value)
    assert set(result.value) <= {"PATH", "LANG", "HOME", "PWD", "LC_CTYPE"}


@needs_bubblewrap
def test_script_cannot_read_the_parent_process_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIVER_TEST_SECRET", "s3cret-value")
    result = run_script(READ_FILE, {"path": f"/proc/{os.getpid()}/environ"})
    assert result.status == "succeeded"
    assert "s3cret-value" not in str(result.value)


@needs_bubblewrap
def test_script_cannot_read_the_settings_file() -> None:
    settings = REPO / "config" / "settings.py"
    assert settings.exists()
    result = run_script(READ_FILE, {"path": str(settings)})
    assert result.value == {"error": "FileNotFoundError"}


@needs_bubblewrap
def test_script_cannot_read_a_database_file(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("create table secret (value text)")
        connection.execute("insert into secret values ('database-secret')")
    os.chmod(tmp_path, 0o755)  # noqa: S103
    os.chmod(database, 0o644)  # readable by anyone on the host; the sandbox still sees nothing
    result = run_script(READ_FILE, {"path": str(database)})
    assert result.value == {"error": "FileNotFoundError"}


@needs_bubblewrap
def test_script_cannot_read_etc_shadow() -> None:
    result = run_script(READ_FILE, {"path": "/etc/shadow"})
    assert result.value == {"error": "FileNotFoundError"}


@needs_bubblewrap
def test_script_sees_an_empty_private_tmp_and_a_read_only_usr() -> None:
    result = run_script(
        script(
            """
            import os

            def main():
                try:
                    open("/usr/quiver-probe", "w")
                    usr = "writable"
                except OSError as exc:
                    usr = type(exc).__name__
                return {"cwd": os.getcwd(), "tmp": os.listdir("/tmp"), "usr": usr,
                        "root": sorted(os.listdir("/"))}
            """
        ),
        {},
    )
    assert result.value["cwd"] == "/tmp"
    assert result.value["tmp"] == []
    assert result.value["usr"] == "OSError"
    assert "work" not in result.value["root"]
    assert "etc" not in result.value["root"]


@needs_bubblewrap
def test_script_cannot_reach_a_local_listener_without_network(listener: Listener) -> None:
    result = run_script(CONNECT, {"port": listener.port})
    assert result.status == "succeeded"
    assert result.value.startswith("refused")
    time.sleep(0.3)
    assert listener.connections == 0


@needs_bubblewrap
def test_script_with_network_cannot_reach_the_hosts_loopback(listener: Listener) -> None:
    result = run_script(CONNECT, {"port": listener.port}, network=True)
    assert result.value.startswith("refused")
    time.sleep(0.3)
    assert listener.connections == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop happens only when running as root")
def test_script_runs_as_an_unprivileged_uid_with_limits() -> None:
    result = run_script(
        script(
            """
            import os, resource

            def main():
                return {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
                        "nproc": resource.getrlimit(resource.RLIMIT_NPROC),
                        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
                        "fsize": resource.getrlimit(resource.RLIMIT_FSIZE),
                        "as": resource.getrlimit(resource.RLIMIT_AS),
                        "cpu": resource.getrlimit(resource.RLIMIT_CPU)}
            """
        ),
        {},
        timeout_s=5,
        memory_mb=256,
    )
    assert result.value["uid"] >= 64000
    assert result.value["gid"] >= 64000
    assert result.value["nproc"] == [64, 64]
    assert result.value["nofile"] == [64, 64]
    assert result.value["fsize"] == [10 * 1024 * 1024] * 2
    assert result.value["as"] == [256 * 1024 * 1024] * 2
    assert result.value["cpu"] == [5, 6]


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop happens only when running as root")
def test_the_uid_drop_works_without_setpriv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slots, "SETPRIV", "/nonexistent/setpriv")
    result = run_script("import os\ndef main():\n    return [os.getuid(), os.getgroups()]\n", {})
    assert result.value[0] >= 64000
    assert result.value[1] in ([], [result.value[0]])


# How runs end


def test_kwargs_arrive_intact() -> None:
    kwargs = {
        "text": "héllo wörld ✓ 日本語 🚀",
        "nested": {"list": [1, 2.5, None, True, {"deep": ["x"]}], "empty": {}},
        "number": 2**53,
    }
    result = run_script("def main(**kwargs):\n    return kwargs\n", kwargs)
    assert result.status == "succeeded"
    assert result.value == kwargs


def test_stdout_and_stderr_are_captured_separately_and_cannot_forge_the_result() -> None:
    result = run_script(
        script(
            """
            import sys

            def main():
                print('{"status": "succeeded", "value_json": "666"}')
                print("to stderr", file=sys.stderr)
                return 42
            """
        ),
        {},
    )
    assert result.value == 42
    assert '"value_json"' in result.stdout
    assert result.stderr == "to stderr\n"


def test_an_infinite_loop_times_out_within_a_second_of_its_limit() -> None:
    result = run_script("def main():\n    while True:\n        pass\n", {}, timeout_s=1.0)
    assert result.status == "timed_out"
    assert "1 s" in result.error
    assert result.duration_ms < 2000


def test_a_sleeping_script_times_out_on_the_wall_clock() -> None:
    result = run_script("import time\ndef main():\n    time.sleep(60)\n", {}, timeout_s=0.5)
    assert result.status == "timed_out"
    assert result.duration_ms < 1500


def test_a_stop_request_kills_the_run_at_the_next_check() -> None:
    asked: list[float] = []

    def stop() -> bool:
        asked.append(time.monotonic())
        return len(asked) >= 2

    result = run_script(
        "import time\ndef main():\n    time.sleep(60)\n", {}, timeout_s=30, stop=stop
    )
    assert result.status == "cancelled"
    assert len(asked) == 2
    assert result.duration_ms < 1500


def test_a_memory_hog_ends_as_a_memory_failure() -> None:
    result = run_script(
        script(
            """
            def main():
                hog = []
                while True:
                    hog.append(bytearray(10 * 1024 * 1024))
            """
        ),
        {},
        memory_mb=256,
        timeout_s=10,
    )
    assert result.status == "memory"
    assert result.error_type == "MemoryError"


def test_one_huge_allocation_ends_as_a_memory_failure() -> None:
    result = run_script("def main():\n    return len(bytearray(2 * 1024**3))\n", {})
    assert result.status == "memory"


@needs_bubblewrap
@pytest.mark.skipif(os.geteuid() != 0, reason="the process limit needs the root uid drop")
def test_a_fork_bomb_is_contained_and_the_next_run_works() -> None:
    bomb = script(
        """
        import os, resource, time

        def main():
            # The guard: without a non-root uid and a process limit this would be a real bomb.
            if os.getuid() == 0 or resource.getrlimit(resource.RLIMIT_NPROC)[0] > 64:
                return "unguarded"
            made = 0
            for _ in range(10_000):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    while True:
                        try:
                            os.fork()
                        except OSError:
                            time.sleep(30)
                made += 1
            return made
        """
    )
    started = time.monotonic()
    result = run_script(bomb, {}, timeout_s=5)
    assert result.status == "succeeded", result
    assert 0 <= result.value < 64
    assert time.monotonic() - started < 5
    after = run_script("def main():\n    return 'fine'\n", {})
    assert after.value == "fine"


@needs_bubblewrap
def test_a_double_forked_child_dies_with_the_run() -> None:
    # The daemon names itself, so the test can look for it among the host's processes.
    name = f"qv{uuid.uuid4().hex[:12]}"
    escaper = script(
        """
        import ctypes, os, time

        def main(name):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME
                    time.sleep(30)
                    os._exit(0)
                os._exit(0)
            time.sleep(0.2)
            return "parent done"
        """
    )
    started = time.monotonic()
    result = run_script(escaper, {"name": name}, timeout_s=10)
    assert result.value == "parent done"
    assert time.monotonic() - started < 5  # not the daemon's 30 s
    deadline = time.monotonic() + 2
    while _process_named(name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _process_named(name), "the daemon outlived its run"


def _process_named(name: str) -> bool:
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == name:
                return True
    return False


def test_a_run_that_exits_leaving_a_daemon_on_its_pipes_returns_promptly() -> None:
    result = run_script(
        script(
            """
            import os, time

            def main():
                if os.fork() == 0:
                    os.setsid()
                    time.sleep(5)
                os._exit(0)
            """
        ),
        {},
        timeout_s=10,
    )
    assert result.status == "crashed"
    assert "code 0" in result.error
    assert result.duration_ms < 1000


def test_huge_output_is_truncated_and_flagged() -> None:
    result = run_script(
        script(
            """
            import sys

            def main():
                chunk = "x" * 1023 + "\\n"
                for _ in range(20 * 1024):
                    sys.stdout.write(chunk)
                    sys.stderr.write(chunk)
                return "done"
            """
        ),
        {},
        max_log_bytes=4096,
    )
    assert result.value == "done"
    assert result.stdout_truncated and result.stderr_truncated
    assert len(result.stdout) == 4096
    assert len(result.stderr) == 4096


def test_a_huge_return_value_is_output_too_large() -> None:
    result = run_script("def main():\n    return 'x' * 2_000_000\n", {}, max_output_bytes=1_000_000)
    assert result.status == "output_too_large"
    assert "1000000" in result.error


def test_a_return_value_just_under_the_limit_comes_back_whole() -> None:
    result = run_script("def main():\n    return '\"' * 400_000\n", {}, max_output_bytes=1_000_000)
    assert result.status == "succeeded"
    assert result.value == '"' * 400_000


def test_returning_a_set_is_non_json_with_a_clear_message() -> None:
    result = run_script("def main():\n    return {1, 2}\n", {})
    assert result.status == "non_json"
    assert "set" in result.error
    assert "not JSON" in result.error


def test_returning_an_object_or_nan_is_non_json() -> None:
    as_object = run_script("def main():\n    return object()\n", {})
    as_nan = run_script("def main():\n    return float('nan')\n", {})
    assert as_object.status == "non_json"
    assert "object" in as_object.error
    assert as_nan.status == "non_json"


def test_raising_returns_the_exception_type_message_and_traceback() -> None:
    result = run_script(
        script(
            """
            def helper(x):
                raise ValueError(f"bad input: {x}")

            def main(x):
                return helper(x)
            """
        ),
        {"x": 7},
    )
    assert result.status == "raised"
    assert result.error_type == "ValueError"
    assert result.error == "bad input: 7"
    assert 'File "tool.py", line 2, in helper' in result.traceback
    assert 'raise ValueError(f"bad input: {x}")' in result.traceback
    assert "<string>" not in result.traceback  # no frame of the bootstrap


def test_a_syntax_error_is_a_clear_error() -> None:
    result = run_script("def main(:\n    return 1\n", {})
    assert result.status == "raised"
    assert result.error_type == "SyntaxError"
    assert result.error.startswith("syntax error in the script, line 1")


def test_a_script_without_main_is_a_clear_error() -> None:
    result = run_script("x = 1\n", {})
    assert result.status == "raised"
    assert "no main()" in result.error


def test_wrong_arguments_are_raised_as_a_type_error() -> None:
    result = run_script("def main(a):\n    return a\n", {"b": 1})
    assert result.status == "raised"
    assert result.error_type == "TypeError"


def test_a_segfault_under_the_address_space_limit_counts_as_memory() -> None:
    # C code that does not check an allocation past RLIMIT_AS dies by SIGSEGV.
    result = run_script(
        "import os, signal\ndef main():\n    os.kill(os.getpid(), signal.SIGSEGV)\n", {}
    )
    assert result.status == "memory"
    assert "SIGSEGV" in result.error


def test_exiting_without_returning_is_a_crash() -> None:
    result = run_script("import os\ndef main():\n    os._exit(3)\n", {})
    assert result.status == "crashed"
    assert "code 3" in result.error


def test_arguments_that_are_not_json_fail_to_start() -> None:
    result = run_script("def main(a):\n    return a\n", {"a": {1, 2}})
    assert result.status == "failed_to_start"


def test_the_result_reports_its_isolation_level_and_duration() -> None:
    result = run_script("def main():\n    return None\n", {})
    assert result.status == "succeeded"
    assert result.value is None
    assert result.isolation == isolation_level()
    assert 0 < result.duration_ms < 5000


def test_eight_parallel_runs_all_succeed() -> None:
    source = "import time\ndef main(n):\n    time.sleep(0.2)\n    return n * 2\n"
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: run_script(source, {"n": n}), range(8)))
    assert [r.status for r in results] == ["succeeded"] * 8
    assert [r.value for r in results] == [n * 2 for n in range(8)]


# Without bubblewrap


@pytest.fixture
def rlimits_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No bubblewrap, and the operator allowed scripts to run with limits only."""
    monkeypatch.setattr(isolation, "isolation_level", lambda: RLIMITS_ONLY)
    monkeypatch.setattr(isolation, "ALLOW_WEAK", True)


def test_without_bubblewrap_scripts_are_refused_unless_the_operator_allows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(isolation, "isolation_level", lambda: RLIMITS_ONLY)
    result = run_script("def main():\n    return 1\n", {})
    assert result.status == "failed_to_start"
    assert "QUIVER_SANDBOX_ALLOW_WEAK" in result.error
    assert result.value is None


def test_a_missing_bubblewrap_falls_back_with_a_loud_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(isolation, "BWRAP", "/nonexistent/bwrap")
    with caplog.at_level("WARNING", logger="quiver.sandbox"):
        level = sandbox.isolation_level.__wrapped__()
    assert level == RLIMITS_ONLY
    assert "SANDBOX IS WEAK" in caplog.text
    assert "/nonexistent/bwrap is not installed" in caplog.text


@pytest.mark.usefixtures("rlimits_only")
def test_the_fallback_still_scrubs_the_environment_and_reports_its_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUIVER_TEST_SECRET", "s3cret-value")
    result = run_script("import os\ndef main():\n    return dict(os.environ)\n", {})
    assert result.status == "succeeded"
    assert "QUIVER_TEST_SECRET" not in result.value
    assert result.isolation == RLIMITS_ONLY


@pytest.mark.usefixtures("rlimits_only")
def test_the_fallback_runs_in_an_empty_directory_and_still_times_out() -> None:
    listing = run_script("import os\ndef main():\n    return os.listdir('.')\n", {})
    assert listing.value == []
    looping = run_script("def main():\n    while True:\n        pass\n", {}, timeout_s=1.0)
    assert looping.status == "timed_out"
    assert looping.duration_ms < 2000


@pytest.mark.usefixtures("rlimits_only")
def test_the_fallback_does_not_hang_on_a_daemon_holding_the_pipes() -> None:
    orphan = run_script(
        "import os, time\ndef main():\n    if os.fork() == 0:\n        os.setsid()\n"
        "        time.sleep(3)\n    os._exit(0)\n",
        {},
        timeout_s=10,
    )
    assert orphan.status == "crashed"
    assert orphan.duration_ms < 1000
    escaper = script(
        """
        import os, time

        def main():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(3)
                os._exit(0)
            return "parent done"
        """
    )
    started = time.monotonic()
    result = run_script(escaper, {}, timeout_s=10)
    assert result.value == "parent done"
    assert time.monotonic() - started < 1.0


@pytest.mark.usefixtures("rlimits_only")
def test_the_fallback_script_dies_with_a_killed_runner() -> None:
    # A worker killed mid-run (SIGKILL: no cleanup) must not leave its script running.
    # The script writes its pid where the sandbox uid can (pytest's tmp_path it cannot).
    shared = Path(tempfile.mkdtemp())
    shared.chmod(0o777)
    pid_file = shared / "pid"
    runner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from planner import sandbox\n"
            "from planner.sandbox import isolation\n"
            "isolation.isolation_level = lambda: sandbox.RLIMITS_ONLY\n"
            "isolation.ALLOW_WEAK = True\n"
            "sandbox.run_script(sys.argv[1], {'path': sys.argv[2]}, timeout_s=30)\n",
            "import os, time\ndef main(path):\n    open(path, 'w').write(str(os.getpid()))\n"
            "    time.sleep(30)\n",
            str(pid_file),
        ],
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 10
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the script never started"
            time.sleep(0.02)
        script_pid = int(pid_file.read_text())
        runner.kill()
        runner.wait()
        deadline = time.monotonic() + 2
        while Path(f"/proc/{script_pid}").exists() and not _is_zombie(script_pid):
            assert time.monotonic() < deadline, "the script outlived its killed runner"
            time.sleep(0.02)
    finally:
        runner.kill()
        shutil.rmtree(shared)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def test_runs_in_other_processes_never_take_a_held_slot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Slots of their own, so that other test processes' runs take none of them.
    slot_dir = tmp_path / "slots"
    monkeypatch.setattr(slots, "SLOT_DIR", slot_dir)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, tempfile\nfrom pathlib import Path\nfrom planner.sandbox import slots\n"
            "slots.SLOT_DIR = Path(sys.argv[1])\ntempfile.tempdir = sys.argv[2]\n"
            "with slots.claim_slot() as slot:\n"
            "    print(slot, flush=True)\n    sys.stdin.read()\n",
            str(slot_dir),
            str(tmp_path),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin and holder.stdout
    try:
        held = int(holder.stdout.readline())
        with contextlib.ExitStack() as stack:
            mine = [
                stack.enter_context(slots.claim_slot()) for _ in range(sandbox.SANDBOX_SLOTS - 1)
            ]
        assert held not in mine
        assert len(set(mine)) == sandbox.SANDBOX_SLOTS - 1
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


def test_runs_end_promptly_without_pidfd_support(monkeypatch: pytest.MonkeyPatch) -> None:
    def unsupported(pid: int) -> int:
        raise OSError("pidfd_open is not supported")

    monkeypatch.setattr(os, "pidfd_open", unsupported)
    returned = run_script("def main():\n    return 1\n", {})
    exited = run_script("import os\ndef main():\n    os._exit(4)\n", {})
    assert returned.value == 1
    assert exited.status == "crashed"
    assert exited.duration_ms < 1000


def test_slots_fall_back_to_a_private_directory_where_run_is_not_writable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setattr(slots, "SLOT_DIR", blocked / "slots")  # cannot be created
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert run_script("def main():\n    return 1\n", {}).value == 1
    assert any(tmp_path.glob("quiver-sandbox-slots-*/*.lock"))


# Warm sandboxes


def test_the_next_run_like_this_one_takes_a_waiting_sandbox_that_shares_nothing() -> None:
    sandbox.discard_warm()
    leaves_a_file = script(
        """
        import os

        def main(write):
            found = os.listdir("/tmp")
            if write:
                open("/tmp/left-behind", "w").write("x")
            return found
        """
    )
    first = run_until_one_waits(leaves_a_file, {"write": True})
    assert first.value == []
    (waiting,) = warm._waiting.values()
    assert waiting.proc is not None and waiting.proc.poll() is None

    second = run_script(leaves_a_file, {"write": False})
    assert second.value == []  # a fresh sandbox: the first run's file is not there
    assert waiting not in warm._waiting.values()  # it served this run, and only this one
    assert waiting.proc.wait(timeout=5) is not None

    other = run_until_one_waits(leaves_a_file, {"write": False}, memory_mb=256)  # other limits
    assert other.value == []
    assert len(warm._waiting) == 2


def run_until_one_waits(source: str, kwargs: dict[str, Any], **limits: Any) -> sandbox.Result:
    """Run, again if need be, until a sandbox is left waiting: none is kept when every
    free slot still holds a run on its way out (other tests' runs, under pytest-xdist)."""
    before = len(warm._waiting)
    for _ in range(20):
        result = run_script(source, kwargs, **limits)
        if len(warm._waiting) > before:
            return result
        time.sleep(0.1)
    pytest.fail("no sandbox was left waiting after 20 runs")


def test_a_waiting_sandbox_whose_thread_ended_is_not_used() -> None:
    sandbox.discard_warm()
    trivial = "def main():\n    return 1\n"
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(run_until_one_waits, trivial, {}).result().value == 1
    (orphan,) = warm._waiting.values()  # the kernel kills it with the pool's thread

    assert run_script(trivial, {}).value == 1
    assert orphan not in warm._waiting.values()
    assert orphan.proc is not None and orphan.proc.wait(timeout=5) is not None


def test_no_sandbox_is_kept_waiting_on_the_last_free_slots(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sandbox.discard_warm()
    # Slots of a private lock folder: their cgroups are other processes' slots' (the same
    # numbers), which those may be using, so this run goes without cgroups.
    monkeypatch.setattr(sandbox.cgroups, "problem", lambda: "not in this test")
    monkeypatch.setattr(slots, "SLOT_DIR", tmp_path / "slots")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with contextlib.ExitStack() as others:
        for _ in range(sandbox.SANDBOX_SLOTS - 1):  # one left, for the run
            others.enter_context(slots.claim_slot())
        started = time.monotonic()
        assert run_script("def main():\n    return 1\n", {}).value == 1
        assert time.monotonic() - started < 5  # it did not wait for a slot to keep warm
        assert warm._waiting == {}  # keeping one would leave no slot free for runs
        others.enter_context(slots.claim_slot())  # the run gave its slot back
        with pytest.raises(sandbox.NoFreeSlot), slots.claim_slot(wait=False):
            pass
