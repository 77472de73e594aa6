"""Celery tasks for running tools: thin, id-taking, safe to run twice.

Queue a run after its row commits with ``enqueue_execution(execution)`` (which sets time
limits that fit the tool's own timeout), or ``run_execution.delay_on_commit(execution.pk)``
for the default limits (``CELERY_TASK_SOFT_TIME_LIMIT`` / ``CELERY_TASK_TIME_LIMIT``).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from planner import executor
from telemetry import services
from telemetry.models import Execution

# Past the tool's own timeout: the soft limit leaves the executor time to record the
# run; the hard limit stays within the reaper's margin.
SOFT_LIMIT_MARGIN_S = 45
HARD_LIMIT_MARGIN_S = 60


@shared_task(bind=True, acks_late=True, name="planner.tasks.run_execution")
def run_execution(self: Any, execution_id: int) -> str:
    """Run one queued execution; a row already taken, cancelled or finished is left alone.
    The row holds the outcome; the task returns only its final status."""
    execution = executor.run_execution(execution_id, celery_task_id=self.request.id or "")
    return execution.status


@shared_task(name="planner.tasks.reap_lost_executions")
def reap_lost_executions() -> list[int]:
    """Fail running executions whose worker vanished; the ids failed."""
    return services.reap_lost_executions()


def enqueue_execution(execution: Execution) -> None:
    """Queue a recorded run once the current transaction commits, with task time limits
    above its tool version's timeout (never below the configured defaults)."""
    timeout_s = execution.tool_version.timeout_s
    soft = max(settings.CELERY_TASK_SOFT_TIME_LIMIT, timeout_s + SOFT_LIMIT_MARGIN_S)
    hard = max(settings.CELERY_TASK_TIME_LIMIT, timeout_s + HARD_LIMIT_MARGIN_S, soft + 5)
    run_execution.apply_async_on_commit((execution.pk,), soft_time_limit=soft, time_limit=hard)
