"""The Execution record and its state machine: recording, claiming, finishing, deciding,
reaping, estimating, and the constraints the database itself enforces."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import AuditAction, AuditLog, Pattern, Tenant, ToolVersion
from catalog.services import archive_tool, create_tool, purge_tool
from telemetry import services
from telemetry.models import STDOUT_CAP_BYTES, ErrorKind, Execution, ExecutionStatus
from telemetry.services import (
    TransitionRefused,
    approve_execution,
    cancel_execution,
    finish_execution,
    mark_running,
    reap_lost_executions,
    record_execution,
    reject_execution,
)
from tests.factories import BASE_DEFINITION, MembershipFactory, UserFactory, make_definition

S = ExecutionStatus


def published(tenant: Tenant, name: str = "disk_usage", **pattern_overrides: Any) -> ToolVersion:
    """A published tool's current version; ``pattern_overrides`` change its one pattern."""
    capability = dict(BASE_DEFINITION["capabilities"][0])
    capability["patterns"] = [{**capability["patterns"][0], **pattern_overrides}]
    definition = make_definition(name=name, capabilities=[capability])
    tool = create_tool(tenant, definition=definition, actor=None, publish=True)
    assert tool.current_version is not None
    return tool.current_version


def pattern_of(version: ToolVersion) -> Pattern:
    return Pattern.objects.get(capability__version=version)


def run(version: ToolVersion, **kwargs: Any) -> Execution:
    kwargs.setdefault("arguments", {"threshold_pct": 80})
    kwargs.setdefault("caller", None)
    execution, _created = record_execution(version, **kwargs)
    return execution


def running(version: ToolVersion, **kwargs: Any) -> Execution:
    execution = run(version, **kwargs)
    assert mark_running(execution.pk, worker="host-1:42")
    return Execution.objects.get(pk=execution.pk)


@pytest.fixture
def version(tenant: Tenant) -> ToolVersion:
    return published(tenant)


# -- recording --------------------------------------------------------------------------


def test_record_queues_a_run_with_the_callers_name_and_the_patterns_estimates(
    version: ToolVersion, operator: Any
) -> None:
    pattern = pattern_of(version)
    execution, created = record_execution(
        version,
        arguments={"threshold_pct": 90},
        caller=operator,
        source="ui",
        pattern=pattern,
        context={"N": 100},
        environment="staging",
    )
    assert created
    execution.refresh_from_db()
    assert execution.status == S.QUEUED
    assert execution.tool_name == "disk_usage"
    assert execution.pattern_name == "all_mounts"
    assert execution.caller_name == operator.username
    assert execution.estimated_time_ms == 400  # 200 + 2 * N
    assert execution.estimated_cost == 1
    assert execution.finished_at is None and execution.attempts == 0


def test_record_waits_for_approval_when_the_pattern_requires_it(tenant: Tenant) -> None:
    version = published(tenant, policy={"max_cost": 5, "requires_approval": True})
    execution = run(version, pattern=pattern_of(version))
    assert execution.status == S.AWAITING_APPROVAL


def test_viewer_cannot_run_a_tool(version: ToolVersion, viewer: Any) -> None:
    with pytest.raises(PermissionDenied):
        run(version, caller=viewer)
    assert not Execution.objects.exists()


def test_outsider_cannot_run_another_tenants_tool(version: ToolVersion, outsider: Any) -> None:
    with pytest.raises(PermissionDenied):
        run(version, caller=outsider)


@pytest.mark.parametrize(
    ("field", "value"), [("source", "fax"), ("environment", "moon"), ("arguments", [1])]
)
def test_record_refuses_unknown_values_by_field(
    version: ToolVersion, field: str, value: Any
) -> None:
    with pytest.raises(ValidationError) as raised:
        run(version, **{field: value})
    assert field in raised.value.message_dict
    assert not Execution.objects.exists()


def test_record_refuses_a_pattern_of_another_version(tenant: Tenant, version: ToolVersion) -> None:
    other = published(tenant, name="other_tool")
    with pytest.raises(ValidationError) as raised:
        run(version, pattern=pattern_of(other))
    assert "pattern" in raised.value.message_dict


# -- idempotency ------------------------------------------------------------------------


def test_same_idempotency_key_returns_the_same_run(version: ToolVersion) -> None:
    first, created = record_execution(
        version, arguments={"threshold_pct": 80}, caller=None, idempotency_key="k-1"
    )
    again, created_again = record_execution(
        version, arguments={"threshold_pct": 80}, caller=None, idempotency_key="k-1"
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert Execution.objects.count() == 1


def test_idempotency_key_reused_for_other_arguments_is_refused(version: ToolVersion) -> None:
    run(version, idempotency_key="k-1")
    with pytest.raises(ValidationError) as raised:
        run(version, arguments={"threshold_pct": 10}, idempotency_key="k-1")
    assert "idempotency_key" in raised.value.message_dict
    assert Execution.objects.count() == 1


def test_idempotency_keys_are_per_tenant(version: ToolVersion, other_tenant: Tenant) -> None:
    other_version = published(other_tenant)
    mine = run(version, idempotency_key="shared")
    theirs = run(other_version, idempotency_key="shared")
    assert mine.pk != theirs.pk
    assert theirs.tenant == other_tenant


def test_runs_without_a_key_are_never_merged(version: ToolVersion) -> None:
    run(version)
    run(version)
    assert Execution.objects.count() == 2


def test_losing_the_insert_race_returns_the_winners_run(
    version: ToolVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = run(version, idempotency_key="race")
    looks = iter([None])  # the loser's first look misses the winner's row

    real = services._with_key

    def late_look(tenant: Tenant, key: str) -> Execution | None:
        return next(looks, real(tenant, key))

    monkeypatch.setattr(services, "_with_key", late_look)
    with transaction.atomic():
        loser, created = record_execution(
            version, arguments={"threshold_pct": 80}, caller=None, idempotency_key="race"
        )
        # The outer transaction is still usable after the failed insert.
        assert Execution.objects.count() == 1
    assert not created and loser.pk == winner.pk


# -- claiming and finishing -------------------------------------------------------------


def test_second_mark_running_loses(version: ToolVersion) -> None:
    execution = run(version)
    assert mark_running(execution.pk, worker="a:1", celery_task_id="t-1") is True
    assert mark_running(execution.pk, worker="b:2") is False
    execution.refresh_from_db()
    assert execution.status == S.RUNNING
    assert execution.worker == "a:1" and execution.celery_task_id == "t-1"
    assert execution.attempts == 1 and execution.started_at is not None


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_run_start_it_once(tenant: Tenant) -> None:
    version = published(tenant)
    executions = [run(version) for _ in range(5)]
    barrier = threading.Barrier(4)

    def claim(worker: str) -> list[bool]:
        try:
            barrier.wait()
            return [mark_running(e.pk, worker=worker) for e in executions]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(claim, ["w1", "w2", "w3", "w4"]))
    for index in range(len(executions)):
        assert sum(outcome[index] for outcome in outcomes) == 1
    assert set(Execution.objects.values_list("attempts", flat=True)) == {1}


def test_mark_running_skips_runs_that_are_not_queued(tenant: Tenant, version: ToolVersion) -> None:
    approval = published(tenant, name="risky", policy={"requires_approval": True})
    waiting = run(approval, pattern=pattern_of(approval))
    cancelled = cancel_execution(run(version), actor=None)
    assert mark_running(waiting.pk, worker="w") is False
    assert mark_running(cancelled.pk, worker="w") is False
    assert mark_running(999_999, worker="w") is False


def test_finish_records_the_result_and_the_duration_since_start(version: ToolVersion) -> None:
    execution = running(version)
    Execution.objects.filter(pk=execution.pk).update(
        started_at=timezone.now() - timedelta(seconds=2)
    )
    finished = finish_execution(execution.pk, status=S.SUCCEEDED, result={"mounts": []})
    finished.refresh_from_db()
    assert finished.status == S.SUCCEEDED
    assert finished.result == {"mounts": []}
    assert finished.finished_at is not None
    assert finished.duration_ms is not None and 2000 <= finished.duration_ms < 10_000


def test_finish_keeps_a_measured_duration(version: ToolVersion) -> None:
    execution = running(version)
    finished = finish_execution(
        execution.pk,
        status=S.FAILED,
        error="boom",
        error_kind=ErrorKind.RAISED,
        duration_ms=36.6,
        isolation="rlimits-only",
    )
    finished.refresh_from_db()
    assert finished.duration_ms == 37
    assert finished.error_kind == ErrorKind.RAISED and finished.isolation == "rlimits-only"
    assert finished.result is None and finished.error == "boom"


def test_finish_caps_output_and_flags_it(version: ToolVersion) -> None:
    execution = running(version)
    finish_execution(
        execution.pk,
        status=S.SUCCEEDED,
        result=1,
        stdout="é" * STDOUT_CAP_BYTES,  # two bytes each: twice the cap
        stderr="short\x00nul",
    )
    execution.refresh_from_db()
    assert execution.output_truncated
    assert len(execution.stdout.encode()) <= STDOUT_CAP_BYTES
    assert set(execution.stdout) == {"é"}  # never cut mid-character
    assert execution.stderr == "short\ufffdnul"


def test_short_output_is_not_flagged(version: ToolVersion) -> None:
    execution = running(version)
    finished = finish_execution(execution.pk, status=S.SUCCEEDED, result=1, stdout="ok\n")
    assert not finished.output_truncated and finished.stdout == "ok\n"


def test_result_with_nul_characters_is_stored(version: ToolVersion) -> None:
    execution = running(version)
    result = {"text": "a\x00b", "k\x00": [r"literal \u0000"]}
    finish_execution(execution.pk, status=S.SUCCEEDED, result=result)
    execution.refresh_from_db()
    assert execution.result == {"text": "a\ufffdb", "k\ufffd": [r"literal \u0000"]}


@pytest.mark.parametrize("result", [float("nan"), {1, 2}, object()])
def test_result_that_is_not_json_is_refused(version: ToolVersion, result: Any) -> None:
    execution = running(version)
    with pytest.raises(ValidationError) as raised:
        finish_execution(execution.pk, status=S.SUCCEEDED, result=result)
    assert "result" in raised.value.message_dict
    execution.refresh_from_db()
    assert execution.status == S.RUNNING


def test_timed_out_run_gets_its_error_kind(version: ToolVersion) -> None:
    execution = running(version)
    finished = finish_execution(execution.pk, status=S.TIMED_OUT, error="ran past 30 s")
    assert finished.error_kind == ErrorKind.TIMED_OUT


@pytest.mark.parametrize("status", [S.QUEUED, S.CANCELLED, S.REJECTED, "nonsense"])
def test_finish_refuses_a_status_that_is_not_an_outcome(version: ToolVersion, status: str) -> None:
    execution = running(version)
    with pytest.raises(ValidationError):
        finish_execution(execution.pk, status=status)


def test_finish_refuses_an_unknown_error_kind(version: ToolVersion) -> None:
    execution = running(version)
    with pytest.raises(ValidationError) as raised:
        finish_execution(execution.pk, status=S.FAILED, error="x", error_kind="gremlins")
    assert "error_kind" in raised.value.message_dict


def test_finish_refuses_a_run_that_never_started(version: ToolVersion) -> None:
    execution = run(version)
    with pytest.raises(TransitionRefused) as raised:
        finish_execution(execution.pk, status=S.SUCCEEDED, result=1)
    assert "queued" in str(raised.value)
    execution.refresh_from_db()
    assert execution.status == S.QUEUED


def test_finish_refuses_a_run_finished_already(version: ToolVersion) -> None:
    execution = running(version)
    finish_execution(execution.pk, status=S.SUCCEEDED, result=1)
    with pytest.raises(TransitionRefused):
        finish_execution(execution.pk, status=S.FAILED, error="late")
    execution.refresh_from_db()
    assert execution.status == S.SUCCEEDED and execution.result == 1


def test_succeeded_run_cannot_carry_an_error(version: ToolVersion) -> None:
    execution = running(version)
    with pytest.raises(ValidationError):
        finish_execution(execution.pk, status=S.SUCCEEDED, error="but it failed")


# -- cancelling, approving, rejecting ---------------------------------------------------


def test_operator_cancels_a_queued_run_and_it_is_audited(
    version: ToolVersion, operator: Any
) -> None:
    execution = run(version, caller=operator)
    cancelled = cancel_execution(execution, actor=operator, reason="wrong host")
    cancelled.refresh_from_db()
    assert cancelled.status == S.CANCELLED
    assert cancelled.finished_at is not None
    assert cancelled.decided_by == operator and cancelled.decision_reason == "wrong host"
    entry = AuditLog.objects.get(action=AuditAction.CANCEL)
    assert entry.object_type == "execution" and entry.object_id == str(execution.pk)
    assert entry.changes == {"status": ["queued", "cancelled"]}
    assert entry.reason == "wrong host" and entry.tool == version.tool


def test_cancelling_a_running_run_refuses_its_later_finish(version: ToolVersion) -> None:
    execution = running(version)
    cancelled = cancel_execution(execution, actor=None)
    assert cancelled.duration_ms is not None
    with pytest.raises(TransitionRefused):
        finish_execution(execution.pk, status=S.SUCCEEDED, result=1)
    execution.refresh_from_db()
    assert execution.status == S.CANCELLED


def test_viewer_cannot_cancel(version: ToolVersion, viewer: Any) -> None:
    execution = run(version)
    with pytest.raises(PermissionDenied):
        cancel_execution(execution, actor=viewer)
    execution.refresh_from_db()
    assert execution.status == S.QUEUED


def test_finished_run_cannot_be_cancelled(version: ToolVersion) -> None:
    execution = running(version)
    finish_execution(execution.pk, status=S.SUCCEEDED, result=1)
    with pytest.raises(TransitionRefused):
        cancel_execution(execution, actor=None)
    assert not AuditLog.objects.filter(action=AuditAction.CANCEL).exists()


@pytest.fixture
def waiting(tenant: Tenant) -> Execution:
    version = published(tenant, name="risky", policy={"requires_approval": True})
    return run(version, pattern=pattern_of(version))


def test_admin_approves_a_waiting_run_into_the_queue(waiting: Execution, admin: Any) -> None:
    approved = approve_execution(waiting, actor=admin, reason="change window open")
    approved.refresh_from_db()
    assert approved.status == S.QUEUED and approved.finished_at is None
    assert approved.decided_by == admin and approved.decided_at is not None
    entry = AuditLog.objects.get(action=AuditAction.APPROVE)
    assert entry.actor == admin and entry.reason == "change window open"
    assert entry.changes == {"status": ["awaiting_approval", "queued"]}
    assert mark_running(waiting.pk, worker="w") is True


def test_editor_cannot_approve(waiting: Execution, editor: Any) -> None:
    with pytest.raises(PermissionDenied):
        approve_execution(waiting, actor=editor)
    waiting.refresh_from_db()
    assert waiting.status == S.AWAITING_APPROVAL
    assert not AuditLog.objects.filter(action=AuditAction.APPROVE).exists()


def test_admin_of_another_tenant_cannot_approve(waiting: Execution, other_tenant: Tenant) -> None:
    stranger: Any = UserFactory(username="admin-globex")
    MembershipFactory(user=stranger, tenant=other_tenant, role="admin")
    with pytest.raises(PermissionDenied):
        approve_execution(waiting, actor=stranger)


def test_admin_rejects_with_a_reason(waiting: Execution, admin: Any) -> None:
    rejected = reject_execution(waiting, actor=admin, reason="not during business hours")
    rejected.refresh_from_db()
    assert rejected.status == S.REJECTED and rejected.finished_at is not None
    assert rejected.error_kind == ErrorKind.REFUSED
    assert "not during business hours" in rejected.error
    entry = AuditLog.objects.get(action=AuditAction.REJECT)
    assert entry.changes == {"status": ["awaiting_approval", "rejected"]}


def test_rejecting_needs_a_reason(waiting: Execution, admin: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        reject_execution(waiting, actor=admin, reason="  ")
    assert "reason" in raised.value.message_dict


def test_only_waiting_runs_are_approved_or_rejected(version: ToolVersion, admin: Any) -> None:
    queued = run(version)
    with pytest.raises(TransitionRefused):
        approve_execution(queued, actor=admin)
    with pytest.raises(TransitionRefused):
        reject_execution(queued, actor=admin, reason="no")
    assert not AuditLog.objects.filter(
        action__in=[AuditAction.APPROVE, AuditAction.REJECT]
    ).exists()


def test_rejected_run_cannot_be_approved_later(waiting: Execution, admin: Any) -> None:
    reject_execution(waiting, actor=admin, reason="no")
    with pytest.raises(TransitionRefused):
        approve_execution(waiting, actor=admin)


# -- the reaper -------------------------------------------------------------------------


def started_ago(execution: Execution, seconds: float) -> None:
    Execution.objects.filter(pk=execution.pk).update(
        started_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_reaper_fails_only_runs_past_their_timeout_and_margin(version: ToolVersion) -> None:
    # The version's timeout is 30 s; the margin 60 s.
    lost = running(version)
    started_ago(lost, 91)
    slow = running(version)
    started_ago(slow, 85)
    fresh = running(version)
    queued = run(version)
    Execution.objects.filter(pk=queued.pk).update(queued_at=timezone.now() - timedelta(days=1))

    assert reap_lost_executions(older_than_s=60) == [lost.pk]

    lost.refresh_from_db()
    assert lost.status == S.FAILED and lost.error_kind == ErrorKind.WORKER_LOST
    assert "host-1:42" in lost.error
    assert lost.finished_at is not None and lost.duration_ms is not None
    assert lost.duration_ms >= 91_000
    statuses = dict(Execution.objects.values_list("pk", "status"))
    assert statuses[slow.pk] == statuses[fresh.pk] == S.RUNNING
    assert statuses[queued.pk] == S.QUEUED


def test_reaper_uses_each_versions_own_timeout(tenant: Tenant) -> None:
    definition = make_definition(
        name="slow_tool",
        runtime={"kind": "script", "timeout_s": 600, "memory_mb": 256, "network": False},
    )
    tool = create_tool(tenant, definition=definition, actor=None, publish=True)
    assert tool.current_version is not None
    execution = running(tool.current_version)
    started_ago(execution, 120)
    assert reap_lost_executions(older_than_s=60) == []
    started_ago(execution, 661)
    assert reap_lost_executions(older_than_s=60) == [execution.pk]


def test_reaped_run_refuses_its_workers_late_finish(version: ToolVersion) -> None:
    execution = running(version)
    started_ago(execution, 1000)
    reap_lost_executions()
    assert reap_lost_executions() == []  # each row moves once
    with pytest.raises(TransitionRefused):
        finish_execution(execution.pk, status=S.SUCCEEDED, result=1)


# -- what the database enforces ---------------------------------------------------------


def assert_refused_by_database(**changes: Any) -> None:
    execution = Execution.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Execution.objects.filter(pk=execution.pk).update(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "exploded"},
        {"source": "fax"},
        {"environment": "moon"},
        {"error_kind": "gremlins"},
        {"arguments": ["not", "an", "object"]},
        {"context": "a string"},
        {"status": S.SUCCEEDED},  # final without finished_at
        {"status": S.RUNNING},  # running without started_at
        {"finished_at": timezone.now()},  # finished while queued
    ],
    ids=lambda c: "-".join(c),
)
def test_database_refuses_inconsistent_rows(version: ToolVersion, changes: dict) -> None:
    run(version)
    assert_refused_by_database(**changes)


def test_database_refuses_a_second_run_with_the_same_key(version: ToolVersion) -> None:
    first = run(version, idempotency_key="k")
    duplicate = Execution.objects.get(pk=first.pk)
    duplicate.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_blank_keys_do_not_collide(version: ToolVersion) -> None:
    first = run(version)
    copy = Execution.objects.get(pk=first.pk)
    copy.pk = None
    copy.save()
    assert Execution.objects.filter(idempotency_key="").count() == 2


def test_a_version_that_ran_cannot_be_purged_with_its_tool(version: ToolVersion) -> None:
    running(version)
    tool = version.tool
    archive_tool(tool, actor=None)
    with pytest.raises(ValidationError) as refused:
        purge_tool(tool, actor=None)
    assert "run history" in str(refused.value)
    assert ToolVersion.objects.filter(pk=version.pk).exists()


def test_record_refuses_a_bad_context_before_queueing(version: ToolVersion) -> None:
    with pytest.raises(ValidationError):
        run(version, pattern=pattern_of(version), context={"N": "many"})
    assert not Execution.objects.exists()
