"""The embedded broker's folder unusable for a while, with a real worker: the worker
reconnects instead of dying, a run asked for meanwhile is answered 503 and kept queued,
and the reaper sends it once the folder works again; it runs once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.models import Tenant
from planner import tasks
from telemetry.models import Execution, ExecutionStatus
from tests.catalog.api.resources import API, api_as
from tests.integration.conftest import RECEIVED, Worker, embedded_broker, wait_until
from tests.integration.test_worker import DOUBLES, script_tool

S = ExecutionStatus
LOST = r"Connection to broker lost\. Trying to re-establish the connection"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[dict[str, str]]:
    """This module's worker always uses the embedded broker, whatever else runs."""
    yield from embedded_broker(tmp_path)


def test_a_run_asked_for_while_the_broker_folder_is_unusable_runs_once_it_is_back(
    tenant: Tenant, operator: Any, worker: Worker, tmp_path: Path, settings: Any
) -> None:
    settings.API_THROTTLE_WRITE = settings.API_THROTTLE_READ = "off"
    script_tool(tenant, "doubler", DOUBLES)
    queue, aside = tmp_path / "broker" / "queue", tmp_path / "queue-aside"
    queue.rename(aside)
    queue.write_text("")  # a file where the folder was: every listing and write fails

    response = api_as(operator).post(
        f"{API}/executions", {"tool": "doubler", "arguments": {"x": 21}}, format="json"
    )

    assert response.status_code == 503, response.json()
    assert response.json()["error"]["code"] == "not_queued"
    run_id = response.json()["error"]["run"]["id"]
    assert Execution.objects.get(pk=run_id).unsent
    worker.wait_for_log(LOST)  # and it is still alive (wait_for_log checks)

    queue.unlink()
    aside.rename(queue)
    assert tasks.reap_lost_executions.apply().get() == {"failed": [], "resent": [run_id]}

    wait_until(
        lambda: Execution.objects.filter(pk=run_id, status=S.SUCCEEDED).exists(),
        timeout_s=60,
        what="the run sent again to succeed",
    )
    row = Execution.objects.get(pk=run_id)
    assert (row.result, row.attempts, row.unsent) == (42, 1, False)
    assert worker.process.poll() is None
    assert worker.count(RECEIVED) == 1
    assert "Unrecoverable error" not in worker.log()
