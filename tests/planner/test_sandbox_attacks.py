"""Attacks on the host from inside a script: its network, its memory, its kernel.

The network tests stand up an "outside" host of their own: a network namespace joined to
this machine by a veth pair, with a globally routable address (11.22.33.44, routed to the
namespace only, so nothing leaves the machine) and, on the same host, a private address
(10.77.0.5); each test process has its own. A network-enabled script must reach the
first and nothing else.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command

from planner import sandbox
from planner.sandbox import BUBBLEWRAP, cgroups, isolation, isolation_level, run_script, seccomp
from planner.sandbox import network as netpolicy

strong = pytest.mark.skipif(
    (isolation_level() != BUBBLEWRAP or netpolicy.problem() is not None)
    and os.environ.get("CI", "").lower() not in {"1", "true"},
    reason="needs root, bubblewrap, ip and nft (under CI=true these tests run and must pass)",
)
bounded = pytest.mark.skipif(
    (isolation_level() != BUBBLEWRAP or cgroups.problem() is not None)
    and os.environ.get("CI", "").lower() not in {"1", "true"},
    reason="needs root, bubblewrap and cgroups (under CI=true these tests run and must pass)",
)

# One outside host per test process (pytest-xdist runs several at once).
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % 50
OUTSIDE_NET = f"11.22.{33 + _WORKER}"
OUTSIDE_IP = f"{OUTSIDE_NET}.44"  # global, but routed to the test's own namespace only
PRIVATE_NET = f"10.77.{_WORKER}"
PRIVATE_IP = f"{PRIVATE_NET}.5"  # private, on the same test host
SERVICE_PORTS = (5432, 6379, 5672, 3306)  # PostgreSQL, Redis, RabbitMQ, MariaDB


def script(body: str) -> str:
    return textwrap.dedent(body).strip() + "\n"


PROBE = script(
    """
    import socket

    def main(targets):
        answers = {}
        for family, host, port in targets:
            kind = socket.AF_INET6 if family == 6 else socket.AF_INET
            try:
                with socket.socket(kind, socket.SOCK_STREAM) as s:
                    s.settimeout(3)
                    s.connect((host, port))
                    answers[f"{host}:{port}"] = "connected: " + s.recv(64).decode()
            except OSError as exc:
                answers[f"{host}:{port}"] = type(exc).__name__
        return answers
    """
)


@dataclass
class Outside:
    """A host of the test's own, reachable only through this machine's routing."""

    namespace: str
    port: int


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def outside() -> Iterator[Outside]:
    name = f"qvtest{os.getpid() % 10000}"
    host_if, peer_if = f"{name}h", f"{name}p"
    _ip("netns", "add", name)
    server = None
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", peer_if, "netns", name)
        _ip("addr", "add", f"{OUTSIDE_NET}.1/24", "dev", host_if)
        _ip("addr", "add", f"{PRIVATE_NET}.1/24", "dev", host_if)
        _ip("link", "set", host_if, "up")
        for address in (f"{OUTSIDE_IP}/24", f"{PRIVATE_IP}/24"):
            _ip("-n", name, "addr", "add", address, "dev", peer_if)
        _ip("-n", name, "link", "set", peer_if, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        _ip("-n", name, "route", "add", "default", "via", f"{OUTSIDE_NET}.1")
        # A server answering on both addresses, as a web service on the internet would.
        server = subprocess.Popen(
            ["ip", "netns", "exec", name, sys.executable, "-c", _SERVER],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield Outside(name, port)
    finally:
        if server is not None:
            server.kill()
            server.wait()
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


_SERVER = """
import socket, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"hello from outside")
    c.close()
"""


@contextlib.contextmanager
def listening(family: int, host: str) -> Iterator[int]:
    """A listener on this machine that counts what reaches it."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def host_addresses() -> list[str]:
    """Every IPv4 address of this machine, on any interface."""
    out = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True).stdout
    return [line.split()[3].split("/")[0] for line in out.splitlines()]


# -- the network ---------------------------------------------------------------------------


@strong
def test_a_network_script_reaches_an_outside_host_and_nothing_of_the_host(
    outside: Outside,
) -> None:
    with listening(socket.AF_INET, "127.0.0.1") as v4, listening(socket.AF_INET6, "::1") as v6:
        targets = [[4, OUTSIDE_IP, outside.port]]
        targets += [[4, "127.0.0.1", port] for port in (*SERVICE_PORTS, v4)]
        targets += [[6, "::1", port] for port in (*SERVICE_PORTS, v6)]
        targets += [[4, address, port] for address in host_addresses() for port in (22, 5432)]
        result = run_script(PROBE, {"targets": targets}, network=True, timeout_s=20)
    assert result.status == "succeeded", result.error
    answers = result.value
    assert answers.pop(f"{OUTSIDE_IP}:{outside.port}") == "connected: hello from outside"
    assert not [k for k, v in answers.items() if v.startswith("connected")], answers
    assert result.bounds["network"] == "its own: outside addresses only"


@strong
def test_private_and_metadata_addresses_are_refused_at_once(outside: Outside) -> None:
    targets = [
        [4, PRIVATE_IP, outside.port],  # a host that answers, at a private address
        [4, "169.254.169.254", 80],
        [4, "100.100.100.200", 80],
        [6, f"::ffff:{PRIVATE_IP}", outside.port],
        [6, "::ffff:127.0.0.1", 5432],
        [6, "fd00::1", 80],
        [6, "fe80::1", 80],
    ]
    started = time.monotonic()
    result = run_script(PROBE, {"targets": targets}, network=True, timeout_s=20)
    assert result.status == "succeeded", result.error
    assert not [k for k, v in result.value.items() if v.startswith("connected")], result.value
    assert time.monotonic() - started < 3, "refusals must not wait for a timeout"


@strong
def test_a_network_script_cannot_reach_the_hosts_abstract_sockets() -> None:
    name = f"quiver-test-{uuid.uuid4().hex}"
    host_side = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    host_side.bind("\0" + name)
    host_side.listen()
    try:
        result = run_script(
            script(
                """
                import socket

                def main(name):
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    try:
                        s.connect("\\0" + name)
                        return "connected"
                    except OSError as exc:
                        return type(exc).__name__
                """
            ),
            {"name": name},
            network=True,
        )
    finally:
        host_side.close()
    assert result.value == "ConnectionRefusedError"


@strong
def test_two_network_runs_at_once_cannot_reach_each_other() -> None:
    name = f"quiver-test-{uuid.uuid4().hex}"
    serve = script(
        """
        import socket, time

        def main(name):
            unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            unix.bind("\\0" + name)
            unix.listen()
            tcp = socket.socket()
            tcp.bind(("0.0.0.0", 8765))
            tcp.listen()
            unix.settimeout(4)
            tcp.settimeout(0.1)
            try:
                unix.accept()
                return "reached over the abstract socket"
            except OSError:
                pass
            try:
                tcp.accept()
                return "reached over TCP"
            except OSError:
                return "alone"
        """
    )
    probe = script(
        """
        import socket, time

        def main(name, slots):
            time.sleep(1)
            reached = []
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect("\\0" + name)
                reached.append("abstract")
            except OSError:
                pass
            for address in slots:
                try:
                    socket.create_connection((address, 8765), timeout=0.5).close()
                    reached.append(address)
                except OSError:
                    pass
            return reached
        """
    )
    slots = [netpolicy.slot(n, netpolicy.Policy().subnet).slot_ip for n in range(8)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        server = pool.submit(run_script, serve, {"name": name}, network=True, timeout_s=15)
        prober = pool.submit(
            run_script, probe, {"name": name, "slots": slots}, network=True, timeout_s=15
        )
        assert prober.result().value == []
        assert server.result().value == "alone"


def test_the_rules_keep_quivers_own_hosts_out_even_inside_an_allowed_network() -> None:
    policy = netpolicy.Policy(
        internal=("10.20.0.0/16",), blocked_hosts=("10.20.0.7",), resolvers=("10.255.255.53",)
    )
    rules = netpolicy.ruleset(policy)
    order = [
        rules.index("ip daddr @blocked"),
        rules.index("ip daddr @resolvers udp dport 53 accept"),
        rules.index('iifname "qvh0" ip daddr @internal_0 accept'),
        rules.index(f'iifname "qvh{netpolicy.SLOTS - 1}" ip daddr @internal_{netpolicy.SLOTS - 1}'),
        rules.index("ip daddr @not_global"),
    ]
    assert order == sorted(order)
    assert "10.20.0.7/32" in rules and "169.254.169.254/32" in rules
    # A slot reaches no internal network until its run's are filled in.
    assert (
        "10.20.0.0/16" not in rules
        and "set internal_0 { type ipv4_addr; flags interval; }" in rules
    )
    assert 'iifname "qvh*" goto refuse' in rules  # the host's own addresses: input, refused
    assert "meta nfproto ipv6 drop" in rules


@strong
def test_each_run_reaches_only_the_internal_networks_its_tenant_allows(outside: Outside) -> None:
    policy = netpolicy.Policy(internal=("10.77.0.0/16",))
    target = {"targets": [[4, PRIVATE_IP, outside.port]]}
    key = f"{PRIVATE_IP}:{outside.port}"
    try:
        for internal, expected in (
            ((f"{PRIVATE_NET}.0/24",), "connected: hello from outside"),
            ((), "ConnectionRefusedError"),  # the same slots, right after: nothing kept
            (("10.0.0.0/8",), "connected: hello from outside"),  # narrowed to 10.77.0.0/16
            (("10.78.0.0/16",), "ConnectionRefusedError"),
            (None, "connected: hello from outside"),  # all the operator allows
        ):
            result = run_script(
                PROBE,
                target,
                network=True,
                network_policy=policy,
                internal_networks=internal,
                timeout_s=20,
            )
            assert result.status == "succeeded", result.error
            assert result.value[key] == expected, internal
        assert result.bounds["network"] == (
            "its own: outside addresses only, and the internal networks 10.77.0.0/16"
        )
    finally:
        sandbox.discard_warm()
        netpolicy.ensure_rules.cache_clear()
        netpolicy.ensure_rules(netpolicy.default_policy())


@strong
def test_setting_up_the_network_twice_changes_nothing() -> None:
    policy = netpolicy.Policy()
    netpolicy.ensure_rules.__wrapped__(policy)
    first = subprocess.run(["nft", "list", "table", "inet", netpolicy.TABLE], capture_output=True)
    netpolicy.ensure_rules.__wrapped__(policy)
    netpolicy.ensure_slot(netpolicy.slot(3, policy.subnet))
    netpolicy.ensure_slot(netpolicy.slot(3, policy.subnet))
    second = subprocess.run(["nft", "list", "table", "inet", netpolicy.TABLE], capture_output=True)
    assert first.stdout == second.stdout
    assert first.stdout.count(b"chain from_sandbox") == 1


def test_a_network_script_is_refused_where_it_cannot_have_a_network_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(netpolicy, "problem", lambda: "nft is missing")
    monkeypatch.setattr(isolation, "ALLOW_WEAK", False)
    result = run_script("def main():\n    return 1\n", {}, network=True)
    assert result.status == "failed_to_start"
    assert "nft is missing" in result.error


# -- memory and processes --------------------------------------------------------------------


def _shared_memory_kb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Shmem:"):
            return int(line.split()[1])
    return 0


FILL = script(
    """
    def main(where):
        block = b"x" * (1 << 20)
        for n in range(205):  # 10 MiB files (the file size limit), 2 GB in all
            with open(f"{where}/f{n}", "wb") as f:
                for _ in range(10):
                    f.write(block)
        return "wrote 2 GB"
    """
)


@bounded
@pytest.mark.parametrize("where", ["/tmp", "/dev/shm"])
def test_writing_2_gb_to_a_tmpfs_ends_as_a_memory_failure(where: str) -> None:
    before = _shared_memory_kb()
    result = run_script(FILL, {"where": where}, memory_mb=256)
    assert result.status == "memory", (result.status, result.error)
    assert "memory" in result.error
    time.sleep(0.2)
    assert _shared_memory_kb() - before < 100 * 1024, "the run's files outlived it"
    assert run_script("def main():\n    return 1\n", {}, memory_mb=256).value == 1


@bounded
def test_ten_children_of_200_mb_under_a_256_mb_limit_end_as_a_memory_failure() -> None:
    result = run_script(
        script(
            """
            import os, time

            def main():
                children = []
                for _ in range(10):
                    pid = os.fork()
                    if pid == 0:
                        data = bytearray(200 * 1024 * 1024)
                        for i in range(0, len(data), 4096):
                            data[i] = 1
                        time.sleep(1)
                        os._exit(0)
                    children.append(pid)
                for pid in children:
                    os.waitpid(pid, 0)
                return "all children finished"
            """
        ),
        {},
        memory_mb=256,
        timeout_s=20,
    )
    assert result.status == "memory", (result.status, result.value, result.error)
    assert result.bounds["memory"].startswith("256 MB for the whole run")


@bounded
def test_the_run_record_says_which_bounds_applied() -> None:
    result = run_script("def main():\n    return 1\n", {}, memory_mb=128)
    assert result.bounds == {
        "isolation": "bubblewrap",
        "memory": "128 MB for the whole run",
        "processes": f"{sandbox.MAX_PROCESSES} for the whole run",
        "files": "a private /tmp and /dev/shm of 128 MB each",
        "network": "none",
        "system calls": f"{len(seccomp.DENIED)} a script never needs are refused",
    }


# -- the kernel and the host's files ----------------------------------------------------------


@strong
def test_a_script_cannot_make_a_user_namespace_or_see_usr_local() -> None:
    result = run_script(
        script(
            """
            import ctypes, os

            def main():
                libc = ctypes.CDLL(None, use_errno=True)
                new_user = 0x10000000
                made = libc.unshare(new_user) == 0
                return {"userns": made, "usr": sorted(os.listdir("/usr")),
                        "root_writable": os.access("/", os.W_OK)}
            """
        ),
        {},
    )
    assert result.status == "succeeded", result.error
    assert result.value["userns"] is False
    assert "local" not in result.value["usr"]
    assert "sbin" not in result.value["usr"]
    assert result.value["root_writable"] is False


def test_a_forged_result_message_is_no_result_and_shows_no_server_paths() -> None:
    forged = script(
        """
        import os, sys

        def main():
            fd = int(sys.argv[-1])
            os.write(fd, b'{"status": "succeeded", "value_json": "NaN"}\\n')
            os._exit(0)
        """
    )
    result = run_script(forged, {})
    assert result.status == "non_json"
    assert "/work" not in result.error and "Traceback" not in result.error
    garbage = run_script(forged.replace('"NaN"', '"[1, 2"'), {})
    assert garbage.status == "non_json"
    broken = run_script(forged.replace("b'{", "b'{{"), {})
    assert broken.status == "crashed"
    assert "malformed result" in broken.error


def test_infinity_is_not_json() -> None:
    result = run_script("def main():\n    return float('inf')\n", {})
    assert result.status == "non_json"


@strong
def test_runs_on_many_threads_at_once_each_get_their_own_network(outside: Outside) -> None:
    def one(_: int) -> str:
        value = run_script(
            PROBE, {"targets": [[4, OUTSIDE_IP, outside.port]]}, network=True, timeout_s=20
        ).value
        return str(value)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(one, range(12)))
    assert all("hello from outside" in answer for answer in answers), answers


@strong
def test_the_setup_command_is_idempotent_and_says_what_scripts_get() -> None:
    out = io.StringIO()
    call_command("setup_sandbox", stdout=out)
    call_command("setup_sandbox", stdout=out)
    text = out.getvalue()
    assert text.count("Network: a namespace per slot") == 2
    assert "outside addresses only" in text
    listed = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    assert listed.count(f"inet {netpolicy.TABLE}") == 1


@strong
@pytest.mark.skipif(platform.machine() != "x86_64", reason="the call numbers are x86-64's")
def test_calls_a_script_never_needs_are_refused() -> None:
    result = run_script(
        script(
            """
            import ctypes, os

            def main():
                libc = ctypes.CDLL(None, use_errno=True)
                answers = {}
                for name, call in [
                    ("unshare", lambda: libc.unshare(0)),
                    ("ptrace", lambda: libc.ptrace(0, 0, 0, 0)),
                    ("keyctl", lambda: libc.syscall(250, 0, 0, 0, 0)),
                    ("io_uring_setup", lambda: libc.syscall(425, 1, 0)),
                ]:
                    answers[name] = (call(), os.strerror(ctypes.get_errno()))
                return answers
            """
        ),
        {},
    )
    assert result.status == "succeeded", result.error
    for name, (code, error) in result.value.items():
        assert (code, error) == (-1, "Operation not permitted"), name


@strong
def test_a_script_cannot_lock_the_hosts_files_but_sqlite_still_works() -> None:
    result = run_script(
        script(
            """
            import fcntl, os, sqlite3, sys

            def main():
                answers = {}
                with open(sys.executable, "rb") as host_file:
                    for name, how in [("flock", fcntl.flock), ("lockf", fcntl.lockf)]:
                        try:
                            how(host_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                            answers[name] = "locked"
                        except OSError as exc:
                            answers[name] = type(exc).__name__
                db = sqlite3.connect("/tmp/mine.sqlite3")
                db.execute("create table t (x)")
                db.execute("insert into t values (1)")
                db.commit()
                answers["sqlite"] = db.execute("select x from t").fetchone()[0]
                return answers
            """
        ),
        {},
    )
    assert result.status == "succeeded", result.error
    assert result.value == {"flock": "PermissionError", "lockf": "OSError", "sqlite": 1}
