"""The sample catalog's runnable tools, through the run service and the real sandbox: a
newcomer sees an approval, a production refusal, a cost cap, a timeout and an error
without writing a tool."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import Tenant
from catalog.services.samples import load_sample_catalog
from planner import executor
from planner import services as planner_services
from planner.services import RunRefused, invoke
from telemetry.models import ErrorKind, ExecutionStatus

S = ExecutionStatus
JOB = "3f2b8a6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def samples(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> Tenant:
    """The tenant with the sample catalog; runs are recorded but sent to no broker."""
    load_sample_catalog(tenant)
    monkeypatch.setattr(planner_services, "enqueue_execution", lambda execution: None)
    return tenant


@pytest.mark.django_db
def test_a_sample_whose_pattern_needs_approval_waits_for_it(samples: Tenant, operator: Any) -> None:
    execution, _ = invoke(
        samples,
        caller=operator,
        tool="ad_account_unlock",
        arguments={"identity": "jsmith", "ticket": "HD-48213"},
    )
    assert execution.status == S.AWAITING_APPROVAL


@pytest.mark.django_db
def test_a_sample_not_safe_in_production_is_refused_there(samples: Tenant, operator: Any) -> None:
    arguments = {"user": "etl", "command_contains": "import_orders"}
    with pytest.raises(RunRefused, match="not marked safe for production"):
        invoke(
            samples,
            caller=operator,
            tool="cron_job_disable",
            arguments=arguments,
            environment="production",
        )


@pytest.mark.django_db
def test_a_sample_with_a_cost_cap_refuses_a_large_backup(samples: Tenant, operator: Any) -> None:
    arguments = {"devices": ["core-sw-1"]}
    small, _ = invoke(
        samples, caller=operator, tool="device_config_backup", arguments=arguments, context={"D": 4}
    )
    assert small.status == S.QUEUED
    with pytest.raises(RunRefused, match="above the limit of 20"):
        invoke(
            samples,
            caller=operator,
            tool="device_config_backup",
            arguments=arguments,
            context={"D": 50},
        )


@pytest.mark.django_db(transaction=True)
def test_a_sample_runs_in_the_sandbox_and_returns_its_made_up_data(
    samples: Tenant, operator: Any
) -> None:
    execution, _ = invoke(
        samples, caller=operator, tool="iptables_list_rules", arguments={"table": "nat"}
    )

    row = executor.run_execution(execution.pk)

    assert row.status == S.SUCCEEDED, row.error
    assert [chain["name"] for chain in row.result["chains"]] == [
        "PREROUTING",
        "POSTROUTING",
        "OUTPUT",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_sample_job_larger_than_its_timeout_times_out(
    samples: Tenant, operator: Any, admin: Any
) -> None:
    execution, _ = invoke(
        samples,
        caller=operator,
        tool="rundeck_job_run",
        arguments={"job_id": JOB, "options": {"records": "10000"}},
    )
    assert execution.status == S.AWAITING_APPROVAL
    planner_services.approve(execution, actor=admin)

    row = executor.run_execution(execution.pk)

    assert row.status == S.TIMED_OUT
    assert row.error_kind == ErrorKind.TIMED_OUT


@pytest.mark.django_db(transaction=True)
def test_a_sample_fails_like_a_broken_system_for_one_computer(
    samples: Tenant, operator: Any
) -> None:
    execution, _ = invoke(
        samples,
        caller=operator,
        tool="windows_update_status",
        arguments={"computer": "sql-win-09"},
    )

    row = executor.run_execution(execution.pk)

    assert row.status == S.FAILED
    assert row.error_kind == ErrorKind.RAISED
    assert "0x8024402C" in row.error
