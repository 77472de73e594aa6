"""The executor a worker calls: real sandbox runs recorded on Execution rows, and every way
a run can end, including Quiver's own failures, leaves the row in a final state."""

from __future__ import annotations

import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from catalog.models import Tenant, ToolVersion
from catalog.services import create_tool
from planner import callables, executor, sandbox, tasks
from planner.sandbox import Result, isolation_level
from telemetry.models import ErrorKind, Execution, ExecutionStatus
from telemetry.services import cancel_execution, mark_running, mark_unsent, record_execution
from tests.factories import make_definition

S = ExecutionStatus


def script(body: str) -> str:
    return textwrap.dedent(body).strip() + "\n"


ADD = script(
    """
    import sys

    def main(threshold_pct=80):
        print("checking", threshold_pct)
        print("a warning", file=sys.stderr)
        return {"mounts": [{"path": "/", "used_pct": threshold_pct + 1}]}
    """
)
RAISES = script(
    """
    def main(threshold_pct=80):
        raise ValueError("disk table unreadable")
    """
)
LOOPS = script(
    """
    def main(threshold_pct=80):
        while True:
            pass
    """
)


def version_of(tenant: Tenant, name: str, **definition: Any) -> ToolVersion:
    tool = create_tool(
        tenant, definition=make_definition(name=name, **definition), actor=None, publish=True
    )
    assert tool.current_version is not None
    return tool.current_version


def script_tool(
    tenant: Tenant, source: str, name: str = "disk_usage", **runtime: Any
) -> ToolVersion:
    runtime = {"kind": "script", "timeout_s": 10, "memory_mb": 256, "network": False, **runtime}
    return version_of(tenant, name, script=source, runtime=runtime)


def queued(version: ToolVersion, arguments: dict[str, Any] | None = None) -> Execution:
    execution, created = record_execution(
        version, arguments=arguments or {"threshold_pct": 80}, caller=None
    )
    assert created
    return execution


@pytest.fixture
def no_sandbox(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sandbox replaced by one that fails the test; the list holds any attempted runs."""
    calls: list[str] = []

    def refuse(source: str, kwargs: dict[str, Any], **_: Any) -> Result:
        calls.append(source)
        raise AssertionError("the sandbox must not run")

    monkeypatch.setattr(executor, "run_script", refuse)
    return calls


# -- script tools, real sandbox ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_script_run_records_result_output_duration_and_isolation(tenant: Tenant) -> None:
    execution = queued(script_tool(tenant, ADD), {"threshold_pct": 90})

    returned = executor.run_execution(execution.pk, celery_task_id="task-1")

    row = Execution.objects.get(pk=execution.pk)
    assert returned.status == row.status == S.SUCCEEDED
    assert row.result == {"mounts": [{"path": "/", "used_pct": 91}]}
    assert row.stdout == "checking 90\n"
    assert row.stderr == "a warning\n"
    assert row.error == "" and row.error_kind == ErrorKind.NONE
    assert row.output_truncated is False
    assert row.duration_ms is not None and 0 <= row.duration_ms < 10_000
    assert row.isolation == isolation_level()
    assert row.started_at is not None and row.finished_at is not None
    assert row.finished_at >= row.started_at
    assert row.worker == executor.worker_name()
    assert row.celery_task_id == "task-1"
    assert row.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_raising_script_fails_with_the_exception_and_traceback(tenant: Tenant) -> None:
    execution = queued(script_tool(tenant, RAISES))

    row = executor.run_execution(execution.pk)

    row.refresh_from_db()
    assert row.status == S.FAILED
    assert row.error_kind == ErrorKind.RAISED
    assert row.error.startswith("ValueError: disk table unreadable")
    assert "Traceback (most recent call last)" in row.error
    assert "in main" in row.error
    assert row.result is None
    assert row.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_script_past_its_timeout_ends_timed_out(tenant: Tenant) -> None:
    execution = queued(script_tool(tenant, LOOPS, timeout_s=1))

    started = time.monotonic()
    row = executor.run_execution(execution.pk)
    elapsed = time.monotonic() - started

    row.refresh_from_db()
    assert row.status == S.TIMED_OUT
    assert row.error_kind == ErrorKind.TIMED_OUT
    assert "within 1 s" in row.error
    assert row.duration_ms is not None and 900 <= row.duration_ms < 3_000
    assert elapsed < 5


@pytest.mark.django_db(transaction=True)
def test_running_twice_does_nothing_the_second_time(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = queued(script_tool(tenant, ADD))
    first = executor.run_execution(execution.pk)
    assert first.status == S.SUCCEEDED
    before = Execution.objects.filter(pk=execution.pk).values().get()

    def refuse(*_: Any, **__: Any) -> Result:
        raise AssertionError("ran again")

    monkeypatch.setattr(executor, "run_script", refuse)
    second = executor.run_execution(execution.pk)

    assert second.status == S.SUCCEEDED
    assert Execution.objects.filter(pk=execution.pk).values().get() == before
    assert before["attempts"] == 1


@pytest.mark.django_db
def test_a_run_another_worker_holds_is_left_alone(tenant: Tenant, no_sandbox: list[str]) -> None:
    execution = queued(script_tool(tenant, ADD))
    assert mark_running(execution.pk, worker="elsewhere:1")

    row = executor.run_execution(execution.pk)

    assert row.status == S.RUNNING and row.worker == "elsewhere:1"
    assert no_sandbox == []


@pytest.mark.django_db
def test_a_cancelled_execution_is_not_run(
    tenant: Tenant, admin: Any, no_sandbox: list[str]
) -> None:
    execution = queued(script_tool(tenant, ADD))
    cancel_execution(execution, actor=admin, reason="changed my mind")

    row = executor.run_execution(execution.pk)

    assert row.status == S.CANCELLED
    assert row.started_at is None and row.attempts == 0
    assert no_sandbox == []


@pytest.mark.django_db
def test_a_run_cancelled_while_running_stays_cancelled(
    tenant: Tenant, admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = queued(script_tool(tenant, ADD))

    def cancelled_meanwhile(*_: Any, **__: Any) -> Result:
        cancel_execution(Execution.objects.get(pk=execution.pk), actor=admin)
        return Result(status="succeeded", value={"late": True}, isolation="bubblewrap")

    monkeypatch.setattr(executor, "run_script", cancelled_meanwhile)
    row = executor.run_execution(execution.pk)

    assert row.status == S.CANCELLED
    row.refresh_from_db()
    assert row.status == S.CANCELLED and row.result is None


@pytest.mark.django_db
def test_cancelling_a_running_script_stops_its_sandbox_within_a_second(
    tenant: Tenant, admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = queued(script_tool(tenant, LOOPS, timeout_s=20))
    real_run_script = executor.run_script

    def cancelled_once_started(*args: Any, **kwargs: Any) -> Result:
        cancel_execution(Execution.objects.get(pk=execution.pk), actor=admin, reason="too slow")
        started = time.monotonic()
        result = real_run_script(*args, **kwargs)
        seen["seconds"] = time.monotonic() - started
        return result

    seen: dict[str, float] = {}
    monkeypatch.setattr(executor, "run_script", cancelled_once_started)
    row = executor.run_execution(execution.pk)

    assert seen["seconds"] < 1.5  # not the 20 s timeout
    row.refresh_from_db()
    assert row.status == S.CANCELLED and row.decision_reason == "too slow"


@pytest.mark.django_db
def test_an_execution_awaiting_approval_is_not_run(tenant: Tenant, no_sandbox: list[str]) -> None:
    execution, _ = record_execution(
        script_tool(tenant, ADD), arguments={}, caller=None, requires_approval=True
    )

    row = executor.run_execution(execution.pk)

    assert row.status == S.AWAITING_APPROVAL
    assert no_sandbox == []


@pytest.mark.django_db
def test_a_described_only_tool_fails_clearly(tenant: Tenant, no_sandbox: list[str]) -> None:
    version = version_of(tenant, "described", script="", runtime={"kind": "none"})
    execution = queued(version)

    row = executor.run_execution(execution.pk)

    row.refresh_from_db()
    assert row.status == S.FAILED
    assert row.error_kind == ErrorKind.REFUSED
    assert "described only" in row.error and "Quiver does not run it" in row.error
    assert row.finished_at is not None
    assert no_sandbox == []


# -- Quiver's own failures --------------------------------------------------------------


@pytest.mark.django_db
def test_an_internal_error_still_finishes_the_row_as_failed(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = queued(script_tool(tenant, ADD))

    def broken(*_: Any, **__: Any) -> Result:
        raise RuntimeError("sandbox exploded")

    monkeypatch.setattr(executor, "run_script", broken)
    row = executor.run_execution(execution.pk)

    row.refresh_from_db()
    assert row.status == S.FAILED
    assert row.error_kind == ErrorKind.CRASHED
    assert "Quiver failed while running it: RuntimeError: sandbox exploded" in row.error
    assert "Traceback" in row.error
    assert row.finished_at is not None and row.duration_ms is not None


@pytest.mark.django_db
def test_a_result_the_database_cannot_hold_still_finishes_the_row(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = queued(script_tool(tenant, ADD))
    weird = Result(status="succeeded", value={1, 2}, stdout="out", isolation="bubblewrap")
    monkeypatch.setattr(executor, "run_script", lambda *_a, **_k: weird)

    row = executor.run_execution(execution.pk)

    row.refresh_from_db()
    assert row.status == S.FAILED
    assert row.error_kind == ErrorKind.CRASHED
    assert "could not record how the run ended" in row.error
    assert row.stdout == "out"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("memory", ErrorKind.MEMORY),
        ("non_json", ErrorKind.NON_JSON),
        ("output_too_large", ErrorKind.OUTPUT_TOO_LARGE),
        ("crashed", ErrorKind.CRASHED),
        ("failed_to_start", ErrorKind.FAILED_TO_START),
    ],
)
def test_each_sandbox_failure_maps_to_its_error_kind(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, status: str, kind: str
) -> None:
    execution = queued(script_tool(tenant, ADD))
    result = Result(
        status=status,  # type: ignore[arg-type]
        error="what happened",
        error_type="Kind",
        stderr="x" * 10,
        stderr_truncated=True,
        duration_ms=12.4,
        isolation="rlimits-only",
    )
    monkeypatch.setattr(executor, "run_script", lambda *_a, **_k: result)

    row = executor.run_execution(execution.pk)

    assert row.status == S.FAILED and row.error_kind == kind
    assert row.error == "Kind: what happened"
    assert row.output_truncated is True
    assert row.duration_ms == 12
    assert row.isolation == "rlimits-only"


@pytest.mark.django_db
def test_the_version_limits_reach_the_sandbox(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def spy(source: str, kwargs: dict[str, Any], *, stop: Any, **limits: Any) -> Result:
        seen.update(source=source, kwargs=kwargs, cancelled_yet=stop(), **limits)
        return Result(status="succeeded", value=1)

    monkeypatch.setattr(executor, "run_script", spy)
    version = script_tool(tenant, ADD, timeout_s=7, memory_mb=128, network=True)
    executor.run_execution(queued(version, {"threshold_pct": 5}).pk)

    assert seen == {
        "source": ADD,
        "kwargs": {"threshold_pct": 5},
        "timeout_s": 7,
        "memory_mb": 128,
        "network": True,
        "network_policy": executor.network_policy(),
        "internal_networks": (),  # the operator allows none here
        "cancelled_yet": False,
    }


# -- trusted callables ------------------------------------------------------------------


@pytest.fixture
def registered_callables() -> Any:
    names = ["test_double", "test_fails", "test_sleeps", "test_returns_set"]

    @callables.tool("test_double")
    def double(threshold_pct: int = 80) -> dict[str, int]:
        print("doubling", threshold_pct)
        print("careful", file=sys.stderr)
        return {"double": threshold_pct * 2}

    @callables.tool("test_fails")
    def fails(threshold_pct: int = 80) -> None:
        raise KeyError("missing")

    @callables.tool("test_sleeps")
    def sleeps(threshold_pct: int = 80) -> None:
        time.sleep(2)

    @callables.tool("test_returns_set")
    def returns_set(threshold_pct: int = 80) -> set[int]:
        return {1}

    yield
    for name in names:
        callables.unregister(name)


def callable_tool(tenant: Tenant, name: str, timeout_s: float = 5) -> ToolVersion:
    runtime = {"kind": "callable", "callable": name, "timeout_s": timeout_s}
    return version_of(tenant, name.replace("test_", "c_"), script="", runtime=runtime)


@pytest.mark.django_db
@pytest.mark.usefixtures("registered_callables")
def test_a_trusted_callable_runs_in_process(tenant: Tenant, no_sandbox: list[str]) -> None:
    row = executor.run_execution(queued(callable_tool(tenant, "test_double")).pk)

    assert row.status == S.SUCCEEDED
    assert row.result == {"double": 160}
    assert row.isolation == "in-process"
    assert (row.stdout, row.stderr) == ("doubling 80\n", "careful\n")
    assert no_sandbox == []


def test_concurrent_callables_keep_their_output_apart() -> None:
    @callables.tool("test_chatty")
    def chatty(n: int) -> int:
        for _ in range(50):
            print(n)
            time.sleep(0.001)
        return n

    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(
                pool.map(
                    lambda n: callables.run_callable("test_chatty", {"n": n}, timeout_s=5), range(4)
                )
            )
    finally:
        callables.unregister("test_chatty")
    for n, result in enumerate(results):
        assert result.value == n
        assert result.stdout == f"{n}\n" * 50
    print("the worker's own output still reaches its stream")


def test_a_callable_printing_too_much_is_cut_and_flagged() -> None:
    @callables.tool("test_floods")
    def floods() -> None:
        print("x" * (sandbox.DEFAULT_MAX_LOG_BYTES + 10))

    try:
        result = callables.run_callable("test_floods", {}, timeout_s=5)
    finally:
        callables.unregister("test_floods")
    assert result.status == "succeeded" and result.output_truncated
    assert len(result.stdout) == sandbox.DEFAULT_MAX_LOG_BYTES


@pytest.mark.django_db
@pytest.mark.usefixtures("registered_callables")
def test_a_trusted_callable_that_raises_or_returns_non_json_fails(tenant: Tenant) -> None:
    raised = executor.run_execution(queued(callable_tool(tenant, "test_fails")).pk)
    assert raised.status == S.FAILED and raised.error_kind == ErrorKind.RAISED
    assert raised.error.startswith("KeyError: 'missing'") and "Traceback" in raised.error

    odd = executor.run_execution(queued(callable_tool(tenant, "test_returns_set")).pk)
    assert odd.status == S.FAILED and odd.error_kind == ErrorKind.NON_JSON


@pytest.mark.django_db
@pytest.mark.usefixtures("registered_callables")
def test_a_trusted_callable_past_its_timeout_ends_timed_out(tenant: Tenant) -> None:
    started = time.monotonic()
    row = executor.run_execution(queued(callable_tool(tenant, "test_sleeps", 0.3)).pk)

    assert row.status == S.TIMED_OUT and row.error_kind == ErrorKind.TIMED_OUT
    assert time.monotonic() - started < 1.5


@pytest.mark.django_db
def test_an_unregistered_callable_fails_to_start(tenant: Tenant) -> None:
    row = executor.run_execution(queued(callable_tool(tenant, "test_nobody")).pk)

    assert row.status == S.FAILED and row.error_kind == ErrorKind.FAILED_TO_START
    assert "no trusted callable named 'test_nobody'" in row.error


def test_a_callable_name_cannot_be_taken_twice() -> None:
    @callables.tool("test_taken")
    def first() -> int:
        return 1

    try:
        with pytest.raises(ValueError, match="already registered"):
            callables.tool("test_taken")(lambda: 2)
        assert callables.tool("test_taken")(first) is first  # re-registering is harmless
    finally:
        callables.unregister("test_taken")


# -- the Celery tasks -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_task_runs_the_executor_and_is_routed_to_the_executions_queue(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        executor, "run_script", lambda *_a, **_k: Result(status="succeeded", value=3)
    )
    execution = queued(script_tool(tenant, ADD))

    outcome = tasks.run_execution.apply(args=(execution.pk,), task_id="t-42")

    assert outcome.get() == S.SUCCEEDED
    row = Execution.objects.get(pk=execution.pk)
    assert row.result == 3 and row.celery_task_id == "t-42"
    assert tasks.run_execution.apply(args=(execution.pk,)).get() == S.SUCCEEDED  # again: no-op
    assert settings.CELERY_TASK_ROUTES["planner.tasks.run_execution"] == {"queue": "executions"}
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT > 30
    assert settings.CELERY_TASK_TIME_LIMIT > settings.CELERY_TASK_SOFT_TIME_LIMIT


@pytest.mark.django_db
def test_enqueue_waits_for_commit_and_sets_limits_above_the_tool_timeout(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(
        tasks.run_execution, "apply_async", lambda args, **options: sent.append((args, options))
    )
    execution = queued(script_tool(tenant, ADD, timeout_s=600))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_execution(execution)
        assert sent == []

    assert sent == [((execution.pk,), {"soft_time_limit": 645, "time_limit": 660})]


@pytest.mark.django_db
def test_the_reaper_task_fails_lost_runs(tenant: Tenant) -> None:
    execution = queued(script_tool(tenant, ADD))
    assert mark_running(execution.pk, worker="gone:1")
    Execution.objects.filter(pk=execution.pk).update(
        started_at=Execution.objects.get(pk=execution.pk).started_at - timedelta(hours=1)
    )

    assert tasks.reap_lost_executions.apply().get() == {"failed": [execution.pk], "resent": []}
    row = Execution.objects.get(pk=execution.pk)
    assert row.status == S.FAILED and row.error_kind == ErrorKind.WORKER_LOST


@pytest.mark.django_db
def test_the_reaper_task_sends_again_runs_the_broker_never_took_or_lost(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(
        tasks.run_execution, "apply_async", lambda args, **options: sent.append(args[0])
    )
    version = script_tool(tenant, ADD)
    never_sent = queued(version)
    mark_unsent(never_sent.pk)
    lost = queued(version)
    long_ago = timezone.now() - timedelta(seconds=settings.QUIVER_RESEND_AFTER_S + 1)
    Execution.objects.filter(pk=lost.pk).update(sent_at=long_ago)
    waiting_its_turn = queued(version)
    taken = queued(version)
    Execution.objects.filter(pk=taken.pk).update(sent_at=long_ago)
    assert mark_running(taken.pk, worker="w:1")

    reaped = tasks.reap_lost_executions.apply().get()

    assert reaped == {"failed": [], "resent": [never_sent.pk, lost.pk]}
    assert sent == [never_sent.pk, lost.pk]
    assert not Execution.objects.get(pk=never_sent.pk).unsent
    assert Execution.objects.get(pk=waiting_its_turn.pk).sent_at is not None
    # Sent again just now: the next round (or a second reaper) leaves them alone.
    assert tasks.reap_lost_executions.apply().get() == {"failed": [], "resent": []}
    assert len(sent) == 2


@pytest.mark.django_db
def test_a_run_the_reaper_cannot_send_stays_unsent_for_its_next_round(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("the broker's folder is gone")

    monkeypatch.setattr(tasks.run_execution, "apply_async", refuse)
    execution = queued(script_tool(tenant, ADD))
    mark_unsent(execution.pk)

    assert tasks.reap_lost_executions.apply().get() == {"failed": [], "resent": []}
    assert Execution.objects.get(pk=execution.pk).unsent


@pytest.mark.django_db
def test_a_run_sent_twice_runs_once(tenant: Tenant) -> None:
    execution = queued(script_tool(tenant, ADD))

    first = tasks.run_execution.apply(args=(execution.pk,), task_id="original").get()
    second = tasks.run_execution.apply(args=(execution.pk,), task_id="resent").get()

    assert (first, second) == (S.SUCCEEDED, S.SUCCEEDED)
    row = Execution.objects.get(pk=execution.pk)
    assert (row.attempts, row.celery_task_id) == (1, "original")


def test_the_sandbox_is_what_the_executor_calls() -> None:
    assert executor.run_script is sandbox.run_script
