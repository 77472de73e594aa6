"""Runs on a real Celery worker: none lost under load, none left running when a worker is
killed, and one run per idempotency key however many times it is sent."""

from __future__ import annotations

import os
import signal
import textwrap
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections, transaction
from django.utils import timezone

from catalog.models import Tenant, ToolVersion
from catalog.services import create_tool
from planner import sandbox
from planner.sandbox import isolation
from planner.services import invoke
from telemetry.models import FINAL_STATUSES, ErrorKind, Execution, ExecutionStatus
from telemetry.services import REAPER_MARGIN_S, reap_lost_executions
from tests.factories import make_definition
from tests.integration.conftest import RECEIVED, Worker, succeeded_line, wait_until

S = ExecutionStatus

DOUBLES = "def main(x):\n    return x * 2\n"
SLEEPS = textwrap.dedent(
    """
    import time

    def main(x):
        time.sleep(x)
        return x
    """
)


def script_tool(tenant: Tenant, name: str, source: str, *, timeout_s: int = 30) -> ToolVersion:
    """A published script tool whose one argument is the integer ``x``."""
    definition = make_definition(
        name=name,
        script=source,
        input_schema={
            "type": "object",
            "properties": {"x": {"type": "integer"}},
            "required": ["x"],
            "additionalProperties": False,
        },
        runtime={"kind": "script", "timeout_s": timeout_s, "memory_mb": 256, "network": False},
    )
    pattern = definition["capabilities"][0]["patterns"][0]
    pattern["examples"] = [{"input": {"x": 1}}]
    tool = create_tool(tenant, definition=definition, actor=None, publish=True)
    assert tool.current_version is not None
    return tool.current_version


def unfinished(ids: list[int]) -> int:
    return Execution.objects.filter(pk__in=ids).exclude(status__in=FINAL_STATUSES).count()


def test_a_thousand_runs_sent_at_once_all_succeed(tenant: Tenant, worker: Worker) -> None:
    script_tool(tenant, "doubler", DOUBLES)

    with transaction.atomic():  # every task is published when this commits
        ids = [
            invoke(tenant, caller=None, tool="doubler", arguments={"x": n})[0].pk
            for n in range(1000)
        ]

    wait_until(lambda: unfinished(ids) == 0, timeout_s=180, what="1000 runs to end")
    rows = Execution.objects.filter(pk__in=ids)
    outcomes = {(r.status, r.error_kind, r.attempts) for r in rows}
    assert outcomes == {(S.SUCCEEDED, ErrorKind.NONE, 1)}, rows.exclude(status=S.SUCCEEDED)[:3]
    assert {r.arguments["x"] * 2 for r in rows} == {r.result for r in rows}
    assert all(r.result == r.arguments["x"] * 2 for r in rows)
    assert worker.count(RECEIVED) == 1000


def _process_tree(root: int) -> dict[int, str]:
    """The processes descended from ``root`` (itself excluded): pid to command line."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, str] = {}
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        try:
            cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        found[pid] = cmdline.replace(b"\0", b" ").decode(errors="replace")
        stack.extend(children.get(pid, []))
    return found


def _alive(pid: int) -> bool:
    """Whether pid is a process that has not exited (a zombie has)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def leftovers() -> Any:
    """Pids the test may leave running (a sandbox without bubblewrap outlives its
    worker); killed at the end."""
    pids: set[int] = set()
    yield pids
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_run_whose_worker_is_killed_ends_failed_and_is_never_run_twice(
    tenant: Tenant, worker: Worker, leftovers: set[int]
) -> None:
    version = script_tool(tenant, "sleeper", SLEEPS, timeout_s=60)
    execution, _ = invoke(tenant, caller=None, tool="sleeper", arguments={"x": 30})

    running = wait_until(
        lambda: Execution.objects.filter(pk=execution.pk, status=S.RUNNING).first(),
        timeout_s=60,
        what="the run to start",
    )
    pool_process = int(running.worker.rsplit(":", 1)[1])
    # The script's processes, once its launcher (the shell that joins the slot's cgroup,
    # then nsenter and setpriv) has become bubblewrap and Python.
    sandboxed = wait_until(
        lambda: {
            pid: cmd
            for pid, cmd in _process_tree(pool_process).items()
            if " -I -S -c " in cmd and cmd.startswith((isolation.BWRAP, isolation.PYTHON))
        },
        timeout_s=30,
        what="the script to start in its sandbox",
    )
    leftovers.update(_process_tree(pool_process))

    # The process running it dies mid-run, as under the OOM killer.
    os.kill(pool_process, signal.SIGKILL)

    # The worker hands the task back to the broker (acks_late, reject_on_worker_lost);
    # delivered again, it finds the row already running and leaves it alone.
    worker.wait_for_log(RECEIVED, times=2)
    worker.wait_for_log(succeeded_line(S.RUNNING))
    row = Execution.objects.get(pk=execution.pk)
    assert (row.status, row.attempts, row.worker) == (S.RUNNING, 1, running.worker)
    if sandbox.isolation_level() == sandbox.BUBBLEWRAP:
        # bubblewrap dies with the process that started it, and the script with it.
        wait_until(
            lambda: not any(map(_alive, sandboxed)),
            timeout_s=10,
            what=f"the sandbox to die with its worker: {sandboxed}",
        )

    # The reaper leaves it until the worker would have timed it out, then fails it.
    assert reap_lost_executions() == []
    later = timezone.now() + timedelta(seconds=version.timeout_s + REAPER_MARGIN_S + 1)
    assert reap_lost_executions(now=later) == [execution.pk]
    row = Execution.objects.get(pk=execution.pk)
    assert (row.status, row.error_kind, row.attempts) == (S.FAILED, ErrorKind.WORKER_LOST, 1)
    assert Execution.objects.filter(tenant=tenant, status=S.RUNNING).count() == 0

    # A message for it delivered once more (a broker's late redelivery) runs nothing.
    from planner.tasks import run_execution

    run_execution.delay(execution.pk)
    worker.wait_for_log(succeeded_line(S.FAILED))
    assert Execution.objects.get(pk=execution.pk).attempts == 1


def test_one_idempotency_key_sent_many_times_at_once_runs_once(
    tenant: Tenant, worker: Worker
) -> None:
    script_tool(tenant, "doubler", DOUBLES)
    senders = 12
    barrier = threading.Barrier(senders)
    answers: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait(timeout=30)
            execution, created = invoke(
                tenant, caller=None, tool="doubler", arguments={"x": 21}, idempotency_key="once"
            )
            answers.append((execution.pk, created))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()  # each thread had its own connection

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(answers) == senders
    assert len({pk for pk, _ in answers}) == 1
    assert sorted(created for _, created in answers) == [False] * (senders - 1) + [True]
    (pk,) = Execution.objects.filter(tenant=tenant, idempotency_key="once").values_list(
        "pk", flat=True
    )
    wait_until(lambda: unfinished([pk]) == 0, timeout_s=60, what="the run to end")
    row = Execution.objects.get(pk=pk)
    assert (row.status, row.result, row.attempts) == (S.SUCCEEDED, 42, 1)

    # Everything the senders published is in the queue by now; a run queued after them
    # ends after the worker has taken them all.
    marker, _ = invoke(tenant, caller=None, tool="doubler", arguments={"x": 1})
    wait_until(lambda: unfinished([marker.pk]) == 0, timeout_s=60, what="the marker run")
    worker.wait_for_log(succeeded_line(S.SUCCEEDED), times=2)
    assert worker.count(RECEIVED) == 2  # the keyed run and the marker: one task each
    assert Execution.objects.filter(tenant=tenant).count() == 2
