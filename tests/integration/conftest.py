"""A real Celery worker in its own process, sharing the test's database and broker.

The test writes rows and queues tasks as the web process would; the worker
(``celery -A config worker``, prefork, two processes) takes them from the broker and
runs them against the same database:

- PostgreSQL: the test database (``test_quiver_gw0``...) with ``transactional_db``, so
  what the test writes is committed and the worker sees it.
- SQLite: pytest-django's test database lives in the test process's memory, which no
  other process can open. For the test's duration the connection is moved to a copy of
  it in a file (the schema as migrated), and the worker is pointed at that file.

The broker is Redis when it answers at 127.0.0.1:6379 (as in CI), every key under a
prefix of the test's own (see ``worker_settings``), else a filesystem broker in the
test's directory. The test process's Celery app publishes to the same broker for the
test's duration.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import kombu.pools
import pytest
from django.db import connections

from config import broker as broker_settings
from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Redis databases 0 and 1 are the README's broker and cache; test_hot_reload flushes 9-14.
REDIS_DB = 15
WORKER_READY_S = 60.0

# Environment the worker must not inherit from the test process.
_NOT_INHERITED = (
    "DATABASE_URL",
    "SECRET_KEY",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CACHE_URL",
    "DJANGO_SETTINGS_MODULE",
    "QUIVER_VAR_DIR",
    "CONN_MAX_AGE",
)


def wait_until(condition: Callable[[], Any], *, timeout_s: float, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy, and return that; fail the
    test after ``timeout_s`` saying what never happened."""
    deadline = time.monotonic() + timeout_s
    pause = 0.02
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)


# -- the database ------------------------------------------------------------------------


@contextlib.contextmanager
def _sqlite_in_file(path: Path) -> Iterator[None]:
    """Move the default connection (and those threads open) to a file copy of the
    in-memory test database; move it back after."""
    in_memory = connections["default"]
    in_memory.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as copy:
        in_memory.connection.backup(copy)
    # New connections, in this thread or any other, are made from this dict.
    shared = in_memory.settings_dict
    in_memory.settings_dict = dict(shared)  # so the in-memory one still knows what it is
    memory_name = shared["NAME"]
    shared["NAME"] = str(path)
    in_file = connections.create_connection("default")
    connections["default"] = in_file
    try:
        yield
    finally:
        in_file.close()
        connections["default"] = in_memory
        shared["NAME"] = memory_name
        in_memory.settings_dict = shared


def _postgres_url(settings_dict: dict[str, Any]) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


@pytest.fixture
def shared_database(transactional_db: None, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The test database, committed and open to other processes; yields the environment
    a Quiver process needs to use it (its var directory is the test's tmp_path)."""
    connection = connections["default"]
    env = {"QUIVER_VAR_DIR": str(tmp_path)}
    if connection.vendor == "sqlite":
        # Embedded settings: the database is <QUIVER_VAR_DIR>/quiver.sqlite3, in WAL mode.
        with _sqlite_in_file(tmp_path / "quiver.sqlite3"):
            yield env
    elif connection.vendor == "postgresql":
        yield {
            **env,
            "DATABASE_URL": _postgres_url(connection.settings_dict),
            "SECRET_KEY": "integration-tests-only",
            "SECURE_SSL_REDIRECT": "false",
            "CONN_MAX_AGE": "0",
        }
    else:
        pytest.skip(f"no worker setup for {connection.vendor}")


# -- the broker --------------------------------------------------------------------------


def _redis_up() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=0.5):
            return True
    except OSError:
        return False


def _drop_connections() -> None:
    """Forget the Celery app's broker connections, so the next publish connects anew."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def _publishing_to(url: str, transport: str | None, options: dict[str, Any]) -> Iterator[None]:
    """The test process's Celery app publishes to this broker for the duration."""
    saved = {
        "broker_url": celery_app.conf.broker_url,
        "broker_transport": celery_app.conf.broker_transport,
        "broker_transport_options": celery_app.conf.broker_transport_options,
    }
    _drop_connections()
    celery_app.conf.update(
        broker_url=url, broker_transport=transport, broker_transport_options=options
    )
    try:
        yield
    finally:
        _drop_connections()
        celery_app.conf.update(saved)


def embedded_broker(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The filesystem broker in the test's directory (the worker's settings put it in the
    same var directory); for a module's own ``broker`` fixture."""
    options = broker_settings.transport_options(tmp_path)
    with _publishing_to("filesystem://", broker_settings.TRANSPORT, options):
        yield {}


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A broker of the test's own; the test process publishes to it, and the environment
    yielded points a worker at it."""
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not running at {REDIS_HOST}:{REDIS_PORT}")
        yield from embedded_broker(tmp_path)
        return
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    prefix = f"quiver-test-{uuid.uuid4().hex}:"
    try:
        with _publishing_to(url, None, {"global_keyprefix": prefix}):  # the URL's transport
            yield {"CELERY_BROKER_URL": url, "QUIVER_TEST_BROKER_PREFIX": prefix}
    finally:
        import redis

        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


# -- the worker --------------------------------------------------------------------------


@dataclass
class Worker:
    """A running ``celery worker`` and its log."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.log()))

    def wait_for_log(self, pattern: str, *, times: int = 1, timeout_s: float = 60) -> None:
        def seen() -> bool:
            assert self.process.poll() is None, f"the worker exited:\n{self.log()[-5000:]}"
            return self.count(pattern) >= times

        wait_until(seen, timeout_s=timeout_s, what=f"{pattern!r} x{times} in the worker's log")

    def kill(self) -> None:
        """SIGKILL the worker and its pool (its process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def succeeded_line(status: str) -> str:
    """A worker log line saying a run_execution task returned the row's ``status``."""
    return rf"Task planner\.tasks\.run_execution\[[0-9a-f-]+\] succeeded in [0-9.e-]+s: '{status}'"


RECEIVED = r"Task planner\.tasks\.run_execution\[[0-9a-f-]+\] received"


@pytest.fixture
def worker(
    shared_database: dict[str, str], broker: dict[str, str], tmp_path: Path
) -> Iterator[Worker]:
    """``celery -A config worker`` on the test's database and broker, ready to take tasks;
    killed with everything in its process group at the end."""
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    env.update(shared_database)
    env.update(broker)
    env.update(DJANGO_SETTINGS_MODULE="tests.integration.worker_settings", DEBUG="false")
    log_path = tmp_path / "worker.log"
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        "celery,executions",
        "--concurrency",
        "2",
        "--pool",
        "prefork",
        "--loglevel",
        "info",  # info: the tests read which tasks it received and what they returned
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        f"integration-{uuid.uuid4().hex[:8]}@%h",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Worker(process, log_path)
    try:
        running.wait_for_log(r"@\S+ ready\.", timeout_s=WORKER_READY_S)
        yield running
    finally:
        running.kill()
