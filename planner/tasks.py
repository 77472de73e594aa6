"""Celery tasks for running tools: thin, id-taking, safe to run twice.

Queue a run after its row commits with ``enqueue_execution(execution)``, which sets time
limits that fit the tool's own timeout and, when the broker refuses the task, leaves the
run queued and marked unsent for the reaper to send again.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction

from planner import executor
from telemetry import services
from telemetry.models import Execution

logger = logging.getLogger("quiver.queue")

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
def reap_lost_executions() -> dict[str, list[int]]:
    """Fail running executions whose worker vanished, and send again the queued ones whose
    task never reached a worker; the ids of each."""
    failed = services.reap_lost_executions()
    claimed = services.claim_unsent(resend_after_s=settings.QUIVER_RESEND_AFTER_S)
    return {"failed": failed, "resent": [e.pk for e in claimed if send_execution(e)]}


def enqueue_execution(execution: Execution) -> None:
    """Send a recorded run's task once the current transaction commits (see
    ``send_execution``); nothing is raised there, so a transaction that queues many runs
    sends every one it can."""
    transaction.on_commit(partial(send_execution, execution))


def send_execution(execution: Execution) -> bool:
    """Hand a queued run's task to the broker now, with time limits above its tool
    version's timeout (never below the configured defaults). When the broker refuses it,
    False: the run stays queued, marked unsent (``execution.unsent``, on this object too)
    for the reaper to send again."""
    timeout_s = execution.tool_version.timeout_s
    soft = max(settings.CELERY_TASK_SOFT_TIME_LIMIT, timeout_s + SOFT_LIMIT_MARGIN_S)
    hard = max(settings.CELERY_TASK_TIME_LIMIT, timeout_s + HARD_LIMIT_MARGIN_S, soft + 5)
    try:
        run_execution.apply_async((execution.pk,), soft_time_limit=soft, time_limit=hard)
    except Exception:
        logger.exception(
            "%s is recorded but the broker refused its task; the reaper sends it again", execution
        )
        services.mark_unsent(execution.pk)
        execution.sent_at = None
        return False
    return True
