"""The new_tool wizard: answers fed on stdin, one per line, in the order it asks."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog import services
from catalog.definitions.validation import validate_definition
from catalog.models import AuditAction, AuditLog, Platform, Tenant, Tool, VersionState
from catalog.new_tool.starters import STARTERS_DIR
from tests.factories import make_definition

pytestmark = pytest.mark.django_db

SCRIPT = "def main(threshold_pct: int = 80, mount: str = '/') -> dict:\n    return {}\n"


@pytest.fixture
def script_file(tmp_path: Path) -> Path:
    path = tmp_path / "disk_usage.py"
    path.write_text(SCRIPT)
    return path


@pytest.fixture
def answers(script_file: Path) -> list[str]:
    """Every answer of a run that declines the template, in the order asked."""
    return [
        "disk_usage",  # name
        "Report disk usage per mount point.",  # description
        "1",  # platform: linux
        "n",  # start from the template
        "monitoring",  # category
        "storage, capacity",  # tags
        "1.2.0",  # version
        "y",  # add an input
        *("threshold_pct", "integer", "Only report mounts this full.", "n", "80"),
        "y",  # add another input
        *("mount", "string", "One mount point.", "y", ""),
        "n",  # add another input
        "script",  # runtime
        "20",  # timeout
        "n",  # network
        str(script_file),  # script
        "y",  # add a capability
        *("disk_capacity_check", "Find file systems running out of space."),
        *("all_mounts", "Scan every mounted file system once."),
        "is the disk full; which volume is almost full",  # use cases
        "N=10 mounts",  # context variables
        *("200 + 2 * N", "0.5 * N"),  # time and cost estimates
        "0.2",  # complexity score
        *("5", "n", "y"),  # max cost, approval, production safe
        *("0.9", "1", "0.8", "0.7", "0.6"),  # preferences
        "n",  # add another pattern
        "n",  # add another capability
        "y",  # save / write
    ]


def run(answers: list[str], **options: Any) -> str:
    out = io.StringIO()
    call_command("new_tool", stdin=io.StringIO("\n".join(answers)), stdout=out, **options)
    return out.getvalue()


def before(answers: list[str], good: str, *bad: str) -> list[str]:
    """The answers with ``bad`` ones given first where ``good`` is asked."""
    at = answers.index(good)
    return [*answers[:at], *bad, *answers[at:]]


def saved(tenant: Tenant, name: str = "disk_usage") -> Any:
    return Tool.objects.for_tenant(tenant).get(name=name).head_version


def test_wizard_saves_a_draft(tenant: Tenant, answers: list[str]) -> None:
    output = run(answers, tenant="acme")

    tool = Tool.objects.for_tenant(tenant).get(name="disk_usage")
    version = tool.head_version
    assert version.version == "1.2.0"
    assert version.state == VersionState.DRAFT
    assert tool.current_version is None
    assert version.input_schema["properties"]["threshold_pct"] == {
        "type": "integer",
        "description": "Only report mounts this full.",
        "default": 80,
    }
    assert version.input_schema["required"] == ["mount"]
    assert version.script == SCRIPT
    assert version.timeout_s == 20
    pattern = version.capabilities.get().patterns.get()
    assert (pattern.time_estimate_ms, pattern.max_cost, pattern.pref_speed) == (
        "200 + 2 * N",
        5,
        0.9,
    )
    assert AuditLog.objects.filter(tool=tool, action=AuditAction.CREATE).count() == 1
    assert "disk_usage 1.2.0 saved as a draft in tenant acme." in output


def test_wizard_shows_help_before_each_question(tenant: Tenant, answers: list[str]) -> None:
    output = run(answers, tenant="acme")

    assert "  Unique within the tenant, ignoring case: letters, digits" in output
    assert "Version [1.0.0]: " in output


def test_wizard_shows_each_estimate_for_the_samples(tenant: Tenant, answers: list[str]) -> None:
    output = run(answers, tenant="acme")

    assert "= 220 ms for N=10" in output
    assert "= 5 cost units for N=10" in output


def test_wizard_publishes_with_publish(tenant: Tenant, answers: list[str]) -> None:
    run(answers, tenant="acme", publish=True)

    tool = Tool.objects.for_tenant(tenant).get(name="disk_usage")
    assert tool.current_version.state == VersionState.PUBLISHED


def test_wizard_writes_yaml_that_validates(answers: list[str], tmp_path: Path) -> None:
    target = tmp_path / "disk_usage.yaml"

    output = run(answers, output=target)

    definition = yaml.safe_load(target.read_text())
    assert validate_definition(definition) == []
    assert definition["input_schema"]["required"] == ["mount"]
    assert f"Wrote disk_usage to {target}." in output
    assert not Tool.objects.exists()


def test_wizard_refuses_to_overwrite_a_file_unless_confirmed(
    answers: list[str], tmp_path: Path
) -> None:
    target = tmp_path / "disk_usage.yaml"
    target.write_text("keep me\n")

    with pytest.raises(CommandError, match="nothing was written"):
        run([*answers, "n"], output=target)

    assert target.read_text() == "keep me\n"


def test_wizard_overwrites_a_file_when_confirmed(answers: list[str], tmp_path: Path) -> None:
    target = tmp_path / "disk_usage.yaml"
    target.write_text("old\n")

    run([*answers, "y"], output=target)

    assert yaml.safe_load(target.read_text())["name"] == "disk_usage"


def test_wizard_reasks_after_bad_name(tenant: Tenant, answers: list[str]) -> None:
    output = run(before(answers, "disk_usage", "Disk Usage"), tenant="acme")

    assert "Error: 'Disk Usage' is not a valid tool name" in output
    assert saved(tenant).tool.name == "disk_usage"


def test_wizard_reasks_when_the_name_is_taken(tenant: Tenant, answers: list[str]) -> None:
    services.create_tool(tenant, definition=make_definition(), actor=None)
    answers = ["disk_usage", "disk_usage_v2", *answers[1:]]

    output = run(answers, tenant="acme")

    assert "a tool called 'disk_usage' already exists" in output
    assert saved(tenant, "disk_usage_v2").version == "1.2.0"


def test_wizard_reasks_after_bad_version(tenant: Tenant, answers: list[str]) -> None:
    output = run(before(answers, "1.2.0", "1.2"), tenant="acme")

    assert "Error: '1.2' is not a semantic version like 1.2.3" in output
    assert saved(tenant).version == "1.2.0"


def test_wizard_reasks_after_unsafe_expression(tenant: Tenant, answers: list[str]) -> None:
    output = run(before(answers, "200 + 2 * N", "__import__('os')"), tenant="acme")

    assert "Error: '__import__('os')' calls '__import__', which is not allowed" in output
    pattern = saved(tenant).capabilities.get().patterns.get()
    assert pattern.time_estimate_ms == "200 + 2 * N"


def test_wizard_reasks_after_undeclared_variable(tenant: Tenant, answers: list[str]) -> None:
    output = run(before(answers, "200 + 2 * N", "2 * M"), tenant="acme")

    assert "uses M, not a declared context variable (declared: N)" in output


def test_wizard_reasks_after_default_of_wrong_type(tenant: Tenant, answers: list[str]) -> None:
    output = run(before(answers, "80", "lots"), tenant="acme")

    assert "Error: 'lots' is not a whole number, as type integer needs" in output
    assert saved(tenant).input_schema["properties"]["threshold_pct"]["default"] == 80


def test_wizard_reasks_after_preference_out_of_range(tenant: Tenant, answers: list[str]) -> None:
    output = run(before(answers, "0.9", "1.5"), tenant="acme")

    assert "Error: must be at most 1" in output
    assert saved(tenant).capabilities.get().patterns.get().pref_speed == 0.9


def test_wizard_reasks_after_script_with_syntax_error(
    tenant: Tenant, answers: list[str], script_file: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def main(:\n    pass\n")

    output = run(before(answers, str(script_file), str(broken)), tenant="acme")

    assert "Error: script: has a syntax error at line 1" in output
    assert saved(tenant).script == SCRIPT


def test_wizard_saves_nothing_on_eof(tenant: Tenant, answers: list[str]) -> None:
    with pytest.raises(CommandError, match="Stopped: nothing was saved"):
        run(answers[:12], tenant="acme")

    assert not Tool.objects.exists()
    assert not AuditLog.objects.exists()


def test_wizard_saves_nothing_on_quit(tenant: Tenant, answers: list[str]) -> None:
    with pytest.raises(CommandError, match="Stopped: nothing was saved"):
        run([*answers[:20], "quit"], tenant="acme")

    assert not Tool.objects.exists()


@pytest.mark.parametrize("platform", Platform.values)
def test_wizard_accepts_the_platform_template_with_enter(tenant: Tenant, platform: str) -> None:
    number = str(Platform.values.index(platform) + 1)

    output = run(["from_template", "Made from the template.", number, *[""] * 60], tenant="acme")

    version = saved(tenant, "from_template")
    assert (version.platform, version.version) == (platform, "1.0.0")
    assert version.capabilities.count() == 1
    assert "saved as a draft" in output


def test_each_platform_has_one_starter_file() -> None:
    assert sorted(path.stem for path in STARTERS_DIR.iterdir()) == sorted(Platform.values)


def test_wizard_creates_the_default_tenant(answers: list[str]) -> None:
    output = run(answers)

    tenant = Tenant.objects.get(slug=settings.QUIVER_DEFAULT_TENANT)
    assert f"Created tenant {tenant.slug}." in output
    assert saved(tenant).version == "1.2.0"


def test_wizard_refuses_a_bad_tenant_slug_before_asking(answers: list[str]) -> None:
    with pytest.raises(CommandError, match="'Big Corp' is not a tenant slug"):
        run(answers, tenant="Big Corp")

    assert not Tenant.objects.exists()
