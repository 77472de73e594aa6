"""Starting runs through planner.services: which version and pattern, argument checks,
policy (production safety, cost limit, approval), idempotency, and what gets queued."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import AuditAction, AuditLog, Tenant, Tool
from catalog.services import create_tool, disable_tool, edit_tool, publish_version
from planner import services as planner_services
from planner.services import RunRefused, invoke
from telemetry.models import Execution, ExecutionStatus
from tests.factories import BASE_DEFINITION, make_definition

S = ExecutionStatus

APPROVAL = {"requires_approval": True}
DOUBLE = "def main(threshold_pct=80):\n    return {'double': threshold_pct * 2}\n"


def pattern(name: str = "all_mounts", **fields: Any) -> dict[str, Any]:
    found = copy.deepcopy(BASE_DEFINITION["capabilities"][0]["patterns"][0])
    found.update(name=name, **fields)
    return found


def capability(name: str, *patterns: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "description": f"{name} things.", "patterns": list(patterns)}


def make_tool(tenant: Tenant, name: str = "disk_usage", **definition: Any) -> Tool:
    definition.setdefault("script", DOUBLE)
    return create_tool(
        tenant, definition=make_definition(name=name, **definition), actor=None, publish=True
    )


@pytest.mark.django_db
def test_a_run_uses_the_current_version_fills_defaults_and_is_queued(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    tool = make_tool(tenant)
    execution, created = invoke(tenant, caller=operator, tool="disk_usage", context={"N": 4})

    assert created
    assert execution.tool_version == tool.current_version
    assert execution.arguments == {"threshold_pct": 80}
    assert execution.pattern_name == "all_mounts"
    assert execution.estimated_time_ms == 208 and execution.estimated_cost == 1
    assert execution.status == S.QUEUED and execution.caller == operator
    assert queued_tasks == [execution.pk]


@pytest.mark.django_db
def test_an_exact_older_version_can_run_but_not_a_draft(
    tenant: Tenant, admin: Any, queued_tasks: list[int]
) -> None:
    tool = make_tool(tenant)
    first = tool.current_version
    changed = {k: v for k, v in make_definition(script=DOUBLE).items() if k != "version"}
    changed["description"] = "Second words."
    second = edit_tool(tool, definition=changed, base_version=first, actor=admin)
    publish_version(second, actor=admin)
    changed["description"] = "Not published yet."
    draft = edit_tool(tool, definition=changed, base_version=second, actor=admin)

    older, _ = invoke(tenant, caller=admin, tool="disk_usage", version=first.version)
    assert older.tool_version == first
    with pytest.raises(ValidationError) as caught:
        invoke(tenant, caller=admin, tool="disk_usage", version=draft.version)
    assert "draft" in caught.value.message_dict["version"][0]
    with pytest.raises(ValidationError) as caught:
        invoke(tenant, caller=admin, tool="disk_usage", version="9.9.9")
    assert "no version '9.9.9'" in caught.value.message_dict["version"][0]


@pytest.mark.django_db
def test_invalid_arguments_name_the_field_and_record_nothing(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    with pytest.raises(ValidationError) as caught:
        invoke(
            tenant,
            caller=operator,
            tool="disk_usage",
            arguments={"threshold_pct": 150, "surprise": 1},
        )
    errors = caught.value.message_dict
    assert errors["arguments.threshold_pct"] == ["must be at most 100"]
    assert "unknown field(s) surprise" in errors["arguments"][0]
    assert not Execution.objects.exists() and queued_tasks == []


@pytest.mark.django_db
def test_unknown_disabled_and_described_only_tools_are_refused(
    tenant: Tenant, other_tenant: Tenant, admin: Any, queued_tasks: list[int]
) -> None:
    make_tool(other_tenant, name="theirs")
    with pytest.raises(ValidationError, match="no tool named 'theirs'"):
        invoke(tenant, caller=admin, tool="theirs")
    disable_tool(make_tool(tenant, name="off"), actor=admin)
    with pytest.raises(RunRefused, match="disabled"):
        invoke(tenant, caller=admin, tool="off")
    make_tool(tenant, name="elsewhere", runtime={"kind": "none"}, script="")
    with pytest.raises(RunRefused, match="described only"):
        invoke(tenant, caller=admin, tool="elsewhere")
    assert not Execution.objects.exists()


@pytest.mark.django_db
def test_viewers_cannot_run_tools(tenant: Tenant, viewer: Any, queued_tasks: list[int]) -> None:
    make_tool(tenant)
    with pytest.raises(PermissionDenied):
        invoke(tenant, caller=viewer, tool="disk_usage")
    assert not Execution.objects.exists()


@pytest.mark.django_db
def test_patterns_are_chosen_by_name_or_capability_and_name(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(
        tenant,
        capabilities=[
            capability("scan", pattern("quick"), pattern("deep", time_estimate_ms="5000")),
            capability("report", pattern("quick", time_estimate_ms="7")),
        ],
    )
    deep, _ = invoke(tenant, caller=operator, tool="disk_usage", pattern="deep")
    assert deep.pattern_name == "deep" and deep.estimated_time_ms == 5000
    report, _ = invoke(tenant, caller=operator, tool="disk_usage", pattern="report/quick")
    assert report.estimated_time_ms == 7
    with pytest.raises(ValidationError, match="several capabilities"):
        invoke(tenant, caller=operator, tool="disk_usage", pattern="quick")
    with pytest.raises(ValidationError) as caught:
        invoke(tenant, caller=operator, tool="disk_usage", pattern="nope")
    assert "scan/quick, scan/deep, report/quick" in caught.value.message_dict["pattern"][0]


@pytest.mark.django_db
def test_a_pattern_not_safe_for_production_is_refused_there_only(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    risky = pattern(policy={"production_safe": False})
    make_tool(tenant, capabilities=[capability("scan", risky)])
    with pytest.raises(RunRefused) as caught:
        invoke(tenant, caller=operator, tool="disk_usage", environment="production")
    assert "not marked safe for production" in caught.value.message_dict["environment"][0]
    staged, created = invoke(tenant, caller=operator, tool="disk_usage", environment="staging")
    assert created and staged.environment == "staging"
    assert Execution.objects.count() == 1


@pytest.mark.django_db
def test_a_run_estimated_above_max_cost_is_refused_saying_so(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    costly = pattern(cost_estimate="0.5 * N", policy={"max_cost": 5})
    make_tool(tenant, capabilities=[capability("scan", costly)])
    cheap, _ = invoke(tenant, caller=operator, tool="disk_usage", context={"N": 10})
    assert cheap.estimated_cost == 5
    with pytest.raises(RunRefused) as caught:
        invoke(tenant, caller=operator, tool="disk_usage", context={"N": 11})
    message = caught.value.message_dict["context"][0]
    assert "estimated cost 5.5" in message and "limit of 5" in message
    with pytest.raises(ValidationError, match="must be a number"):
        invoke(tenant, caller=operator, tool="disk_usage", context={"N": "lots"})
    assert Execution.objects.count() == 1


@pytest.mark.django_db
def test_a_cost_limit_with_an_estimate_that_cannot_be_computed_is_refused(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    odd = pattern(cost_estimate="10 / N", policy={"max_cost": 5})
    make_tool(tenant, capabilities=[capability("scan", odd)])
    with pytest.raises(RunRefused, match="could not be estimated"):
        invoke(tenant, caller=operator, tool="disk_usage", context={"N": 0})


@pytest.mark.django_db
def test_a_run_needing_approval_waits_and_approval_queues_it(
    tenant: Tenant, operator: Any, admin: Any, queued_tasks: list[int]
) -> None:
    make_tool(
        tenant, capabilities=[capability("scan", pattern(policy={"requires_approval": True}))]
    )
    waiting, _ = invoke(tenant, caller=operator, tool="disk_usage")
    assert waiting.status == S.AWAITING_APPROVAL and queued_tasks == []

    with pytest.raises(PermissionDenied):
        planner_services.approve(waiting, actor=operator)
    approved = planner_services.approve(waiting, actor=admin, reason="looks fine")
    assert approved.status == S.QUEUED and queued_tasks == [waiting.pk]
    entry = AuditLog.objects.get(action=AuditAction.APPROVE)
    assert entry.reason == "looks fine" and entry.actor == admin


@pytest.mark.django_db
def test_a_rejected_run_needs_a_reason_and_never_queues(
    tenant: Tenant, operator: Any, admin: Any, queued_tasks: list[int]
) -> None:
    make_tool(
        tenant, capabilities=[capability("scan", pattern(policy={"requires_approval": True}))]
    )
    waiting, _ = invoke(tenant, caller=operator, tool="disk_usage")
    with pytest.raises(ValidationError, match="say why"):
        planner_services.reject(waiting, actor=admin, reason=" ")
    rejected = planner_services.reject(waiting, actor=admin, reason="not during the freeze")
    assert rejected.status == S.REJECTED and queued_tasks == []
    assert AuditLog.objects.filter(action=AuditAction.REJECT).count() == 1


@pytest.mark.django_db
def test_the_same_idempotency_key_returns_the_same_run_and_queues_once(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    first, created = invoke(tenant, caller=operator, tool="disk_usage", idempotency_key="k-1")
    again, created_again = invoke(tenant, caller=operator, tool="disk_usage", idempotency_key="k-1")
    assert created and not created_again and again.pk == first.pk
    assert queued_tasks == [first.pk]
    with pytest.raises(ValidationError, match="other arguments"):
        invoke(
            tenant,
            caller=operator,
            tool="disk_usage",
            arguments={"threshold_pct": 5},
            idempotency_key="k-1",
        )


def stricter_second_version(tool: Tool, admin: Any, *patterns: dict[str, Any]) -> None:
    """Publish 2.0.0 of ``tool`` with ``patterns`` in its one capability."""
    changed = {k: v for k, v in make_definition(script=DOUBLE).items() if k != "version"}
    changed["capabilities"] = [capability("disk_capacity_check", *patterns)]
    second = edit_tool(
        tool,
        definition={**changed, "version": "2.0.0"},
        base_version=tool.current_version,
        actor=admin,
    )
    publish_version(second, actor=admin)


STRICT = {"requires_approval": True, "production_safe": False, "max_cost": 5}


@pytest.mark.django_db
def test_a_run_pinned_to_an_older_version_answers_to_the_current_versions_policy(
    tenant: Tenant, operator: Any, admin: Any, queued_tasks: list[int]
) -> None:
    lax = pattern(cost_estimate="N", policy={"max_cost": None})
    tool = make_tool(tenant, capabilities=[capability("disk_capacity_check", lax)])
    stricter_second_version(tool, admin, pattern(cost_estimate="1", policy=STRICT))

    with pytest.raises(RunRefused) as caught:
        invoke(
            tenant, caller=operator, tool="disk_usage", version="1.0.0", environment="production"
        )
    assert "of the current version 2.0.0 is not marked safe for production" in str(caught.value)
    with pytest.raises(RunRefused) as caught:
        invoke(tenant, caller=operator, tool="disk_usage", version="1.0.0", context={"N": 6})
    assert "estimated cost 6 is above" in str(caught.value) and "limit of 5" in str(caught.value)
    pinned, _ = invoke(
        tenant, caller=operator, tool="disk_usage", version="1.0.0", context={"N": 5}
    )
    assert pinned.tool_version.version == "1.0.0"
    assert pinned.status == S.AWAITING_APPROVAL and queued_tasks == []


@pytest.mark.django_db
def test_a_pinned_pattern_the_current_version_lacks_answers_to_its_strictest_pattern(
    tenant: Tenant, operator: Any, admin: Any, queued_tasks: list[int]
) -> None:
    tool = make_tool(tenant, capabilities=[capability("scan", pattern("old_way"))])
    stricter_second_version(
        tool, admin, pattern("new_way"), pattern("careful_way", policy=APPROVAL)
    )

    pinned, _ = invoke(
        tenant, caller=operator, tool="disk_usage", version="1.0.0", pattern="old_way"
    )
    assert pinned.pattern_name == "old_way" and pinned.status == S.AWAITING_APPROVAL


@pytest.mark.django_db
def test_a_pinned_version_keeps_its_own_stricter_policy(
    tenant: Tenant, operator: Any, admin: Any, queued_tasks: list[int]
) -> None:
    tool = make_tool(tenant, capabilities=[capability("scan", pattern(policy=APPROVAL))])
    stricter_second_version(tool, admin, pattern())

    current, _ = invoke(tenant, caller=operator, tool="disk_usage")
    pinned, _ = invoke(tenant, caller=operator, tool="disk_usage", version="1.0.0")
    assert current.status == S.QUEUED and pinned.status == S.AWAITING_APPROVAL


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_runs")
def test_waiting_returns_the_finished_run(tenant: Tenant, operator: Any) -> None:
    make_tool(tenant)
    execution, _ = invoke(
        tenant, caller=operator, tool="disk_usage", arguments={"threshold_pct": 21}
    )
    finished = planner_services.wait_for(execution, 10)
    assert finished.status == S.SUCCEEDED, finished.error
    assert finished.result == {"double": 42}


@pytest.mark.django_db
def test_waiting_gives_up_after_its_limit(
    tenant: Tenant, operator: Any, queued_tasks: list[int]
) -> None:
    make_tool(tenant)
    execution, _ = invoke(tenant, caller=operator, tool="disk_usage")
    still = planner_services.wait_for(execution, 0.05)
    assert still.status == S.QUEUED
