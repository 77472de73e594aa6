"""An admin follows runs in the browser: the approval queue, the runs list, a run's page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from catalog.models import Tenant
from catalog.services import create_tool
from telemetry.models import ExecutionStatus
from telemetry.services import finish_execution, mark_running, record_execution
from tests.browser.conftest import Shot, sign_in
from tests.factories import make_definition

S = ExecutionStatus
TRACEBACK = """Traceback (most recent call last):
  File "/sandbox/tool.py", line 12, in main
    usage = used / total
ZeroDivisionError: division by zero"""


def test_an_admin_decides_runs_and_reads_their_pages(
    page: Page, admin: Any, tenant: Tenant, shot: Shot
) -> None:
    tool = create_tool(tenant, definition=make_definition(), actor=None, publish=True)
    version = tool.current_version
    assert version is not None

    def run(**kwargs: Any) -> Any:
        return record_execution(version, arguments={"threshold_pct": 90}, caller=admin, **kwargs)[0]

    ok = run(source="ui")
    mark_running(ok.pk, worker="worker-1:311")
    finish_execution(
        ok.pk,
        status=S.SUCCEEDED,
        result={"mounts": [{"path": "/", "used_pct": 91}, {"path": "/var", "used_pct": 95}]},
        stdout="checked 2 mounts\n",
        isolation="bubblewrap",
        bounds={
            "memory": "256 MB for the whole run",
            "processes": "64 for the whole run",
            "files": "a private /tmp and /dev/shm of 256 MB each",
            "network": "its own: outside addresses only",
        },
        duration_ms=420,
    )
    bad = run(environment="staging")
    mark_running(bad.pk, worker="worker-2:77")
    finish_execution(
        bad.pk,
        status=S.FAILED,
        error=TRACEBACK,
        error_kind="raised",
        stderr="warning: /mnt/nas did not answer\n",
        isolation="rlimits-only",
        duration_ms=3100,
    )
    first = run(requires_approval=True)
    second = run(requires_approval=True)

    sign_in(page, admin.username)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("heading", name="Approvals", level=1)).to_be_visible()
    shot(page, "approval-queue")

    count = nav.locator("[data-approvals-count]")
    expect(count).to_have_text("2 waiting")
    one = page.locator(f"#queue-run-{first.pk}")
    one.get_by_role("button", name="Approve and run").click()
    expect(page.locator(f"#queue-run-{first.pk}")).to_contain_text("is on its way")
    expect(count).to_have_text("1 waiting")  # the menu follows the decision
    expect(page.locator("#queue-count")).to_have_text("1 run waiting, oldest first.")

    other = page.locator(f"#queue-run-{second.pk}")
    other.get_by_role("button", name="Reject").click()
    expect(page.locator(f"#reason-{second.pk}-errors")).to_contain_text("Say why")
    page.locator(f"#queue-run-{second.pk}").get_by_label("Why?").fill("Not during business hours")
    page.locator(f"#queue-run-{second.pk}").get_by_role("button", name="Reject").click()
    expect(page.locator(f"#queue-run-{second.pk}")).to_contain_text("will not run")
    expect(count).to_have_count(0)
    expect(nav.get_by_role("link", name="Approvals")).to_have_attribute("aria-current", "page")
    shot(page, "approval-queue-decided")

    nav.get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="Runs", level=1)).to_be_visible()
    expect(page.locator("#run-rows tr")).to_have_count(4)
    shot(page, "run-list")

    page.get_by_role("link", name=f"#{bad.pk}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Run #{bad.pk}: disk_usage")).to_be_visible()
    expect(page.get_by_text("Weaker isolation than intended")).to_be_visible()
    page.get_by_text("Show the full error report").click()
    expect(page.get_by_text("usage = used / total")).to_be_visible()
    shot(page, "run-detail-failed")

    page.goto(f"/runs/{ok.pk}/")
    expect(page.locator("#run-live")).to_contain_text("/var")
    expect(page.locator(".run-bounds")).to_contain_text("256 MB for the whole run")
    expect(page.locator(".run-bounds")).to_contain_text("its own: outside addresses only")
    shot(page, "run-detail-succeeded")
