"""The Execution record: one row per run of a tool version, from queued to a final state."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.database import json_shape
from catalog.models import ApiKey, Pattern, Tenant, Tool, ToolVersion

# Captured output is kept up to these sizes (in UTF-8 bytes); the rest is dropped and
# the row's ``output_truncated`` flag set.
STDOUT_CAP_BYTES = 64 * 1024
STDERR_CAP_BYTES = 64 * 1024
ERROR_CAP_BYTES = 64 * 1024  # tracebacks


class ExecutionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    TIMED_OUT = "timed_out", "Timed out"
    CANCELLED = "cancelled", "Cancelled"
    REJECTED = "rejected", "Rejected"


# States a run never leaves.
FINAL_STATUSES = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMED_OUT,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.REJECTED,
    }
)


# Closer to its estimate than this, a run took about as long as estimated, however small
# the estimate: a 1 ms estimate met by a 72 ms run is not "72 times as long".
NOTICEABLE_MS = 250

# A run's one-line summary (the runs list's result column) is cut to this many characters.
SUMMARY_CHARS = 90


class ErrorKind(models.TextChoices):
    NONE = "", "None"
    RAISED = "raised", "Raised an exception"
    TIMED_OUT = "timed_out", "Timed out"
    MEMORY = "memory", "Killed for memory"
    NON_JSON = "non_json", "Returned something not JSON"
    OUTPUT_TOO_LARGE = "output_too_large", "Output too large"
    CRASHED = "crashed", "Crashed"
    FAILED_TO_START = "failed_to_start", "Could not start"
    WORKER_LOST = "worker_lost", "Worker lost"
    REFUSED = "refused", "Refused"


class ExecutionSource(models.TextChoices):
    API = "api", "API"
    UI = "ui", "Try it"
    PLAN = "plan", "Plan step"


class Environment(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


# What an unfinished run is doing, as its one-line summary says it.
WAITING_WORDS: dict[str, str] = {
    ExecutionStatus.AWAITING_APPROVAL: "Waiting for an admin",
    ExecutionStatus.QUEUED: "Waiting for a worker",
    ExecutionStatus.RUNNING: "Running…",
}


class ExecutionQuerySet(models.QuerySet["Execution"]):
    def for_tenant(self, tenant: Tenant) -> ExecutionQuerySet:
        return self.filter(tenant=tenant)

    def unfinished(self) -> ExecutionQuerySet:
        return self.exclude(status__in=FINAL_STATUSES)


class Execution(models.Model):
    """One run of a tool version: what was asked, by whom, how it went, and what it cost."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="executions")
    # A purged tool leaves its runs' history; the name says what ran.
    tool = models.ForeignKey(
        Tool, null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    tool_name = models.CharField(max_length=64)
    # RESTRICT, not PROTECT: a version that ran cannot be deleted on its own (purging
    # its tool is refused), but deleting the whole tenant still removes both.
    tool_version = models.ForeignKey(
        ToolVersion, on_delete=models.RESTRICT, related_name="executions"
    )
    pattern = models.ForeignKey(
        Pattern, null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    pattern_name = models.CharField(max_length=64, blank=True)
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    caller_name = models.CharField(max_length=150, blank=True)
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    source = models.CharField(
        max_length=8, choices=ExecutionSource.choices, default=ExecutionSource.API
    )
    arguments = models.JSONField(default=dict)
    context = models.JSONField(default=dict)
    environment = models.CharField(
        max_length=16, choices=Environment.choices, default=Environment.DEVELOPMENT
    )
    idempotency_key = models.CharField(max_length=200, blank=True)

    status = models.CharField(
        max_length=20, choices=ExecutionStatus.choices, default=ExecutionStatus.QUEUED
    )
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    stdout = models.TextField(blank=True)
    stderr = models.TextField(blank=True)
    output_truncated = models.BooleanField(default=False)
    # Characters that cannot be stored (NUL, lone UTF-16 surrogates) were replaced with
    # U+FFFD in the result, output or error (catalog.definitions.safe_data).
    text_replaced = models.BooleanField(default=False)

    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    estimated_time_ms = models.FloatField(null=True, blank=True)
    estimated_cost = models.FloatField(null=True, blank=True)

    # How the run was isolated ("bubblewrap", "rlimits-only", "in-process" for trusted
    # callables), so a weaker isolation than intended shows on the pages and in the API.
    isolation = models.CharField(max_length=20, blank=True)
    # Which bounds applied to a script's run, in words (memory, processes, files, network).
    bounds = models.JSONField(default=dict, blank=True)
    # When its task was last handed to the broker: set with a queued row (the task is sent
    # as the row commits), cleared when sending failed, renewed when the reaper sends it
    # again. A queued row without it has no task anywhere.
    sent_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    celery_task_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    # Who approved, rejected or cancelled the run, when, and why.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    objects = ExecutionQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="execution_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ExecutionStatus.values), name="execution_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=ExecutionSource.values), name="execution_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(environment__in=Environment.values),
                name="execution_environment_valid",
            ),
            models.CheckConstraint(
                condition=Q(error_kind__in=ErrorKind.values), name="execution_error_kind_valid"
            ),
            # A run is finished exactly when it is in a final state, and a running run
            # has started: the reaper and the lists rely on both.
            models.CheckConstraint(
                condition=(Q(status__in=FINAL_STATUSES) & Q(finished_at__isnull=False))
                | (~Q(status__in=FINAL_STATUSES) & Q(finished_at__isnull=True)),
                name="execution_finished_when_final",
            ),
            models.CheckConstraint(
                condition=~Q(status=ExecutionStatus.RUNNING) | Q(started_at__isnull=False),
                name="execution_running_has_started",
            ),
            json_shape("execution_arguments_is_object", "arguments", "object"),
            json_shape("execution_context_is_object", "context", "object"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-queued_at"], name="execution_recent_idx"),
            models.Index(fields=["tenant", "status", "-queued_at"], name="execution_status_idx"),
            # A tool's runs, newest first; status and time ride along, so that counting a
            # tool's recent runs (its page's Recent runs) never reads the table.
            models.Index(
                fields=["tool", "-queued_at", "status", "duration_ms"],
                name="execution_tool_idx",
            ),
            models.Index(fields=["status", "started_at"], name="execution_reaper_idx"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.tool_name}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def unsent(self) -> bool:
        """Queued, but its task never reached the broker: the reaper sends it again."""
        return self.status == ExecutionStatus.QUEUED and self.sent_at is None

    @property
    def error_headline(self) -> str:
        """The last line of the error (for a traceback, the exception and its message)."""
        lines = [line.strip() for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    @property
    def time_against_estimate(self) -> str:
        """ "longer", "shorter" or "about" as estimated; "" without both times. A run is
        longer (shorter) when off by half the estimate and by a noticeable time."""
        took, estimate = self.duration_ms, self.estimated_time_ms
        if took is None or estimate is None or estimate < 0:
            return ""
        if abs(took - estimate) < NOTICEABLE_MS:
            return "about"
        if took >= 1.5 * estimate:
            return "longer"
        if took <= 0.67 * estimate:
            return "shorter"
        return "about"

    @property
    def result_summary(self) -> str:
        """One line: the result, the error, or what the run is waiting for."""
        status = self.status
        if status == ExecutionStatus.SUCCEEDED:
            value = self.result
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            return _cut(text)
        if status in (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT):
            kind = ErrorKind(self.error_kind).label if self.error_kind else "Error"
            headline = self.error_headline
            return _cut(f"{kind}: {headline}" if headline else kind)
        if status == ExecutionStatus.REJECTED:
            return _cut(f"Rejected: {self.decision_reason}")
        if status == ExecutionStatus.CANCELLED:
            reason = self.decision_reason
            return _cut(f"Cancelled: {reason}") if reason else "Cancelled"
        return WAITING_WORDS.get(status, "")


def _cut(text: str, limit: int = SUMMARY_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
