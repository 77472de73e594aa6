"""/api/v1/executions: run a tool, cancel, approve and reject; the reads of runs (GET
/executions and /executions/<id>) are telemetry's (telemetry/api/views.py). POST
/executions shares its path with telemetry's list: config/urls.py routes that one path
with both apps' actions.

Thin: every change goes through planner.services, which the pages use too.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import ApiKey, Role, Tenant
from config.api.errors import ErrorSerializer, error_body, flatten, summary
from config.api.permissions import api_tenant, role_at_least
from config.api.serializers import ReasonSerializer
from planner import services
from planner.api.serializers import RejectSerializer, RunRequestSerializer, run_request_kwargs
from telemetry import selectors
from telemetry.models import Execution, ExecutionSource
from telemetry.serializers import RUN_EXAMPLE, ExecutionSerializer
from telemetry.services import TransitionRefused

IDEMPOTENCY_HEADER = "Idempotency-Key"

CONFLICT = {409: ErrorSerializer}
REFUSED = {422: ErrorSerializer}
NOT_QUEUED = {503: ErrorSerializer}


def refused(exc: ValidationError, code: str, http_status: int) -> Response:
    """A well-formed request a rule refuses, in the API's error shape."""
    fields = flatten(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    return Response(
        error_body(code, summary(fields, "The run was refused:"), fields), status=http_status
    )


def not_queued(execution: Execution, location: str) -> Response:
    """A run recorded (and queued) whose task the broker did not take: a 503 that says
    so and carries the run; the reaper sends it again, so the client must not."""
    period = math.ceil(settings.QUIVER_REAPER_PERIOD_S)
    message = (
        f"{execution} is recorded and queued, but the queue did not take it just now; Quiver "
        f"sends it to a worker again every {period} s until the queue does. Do not start it "
        "again: follow it at its Location."
    )
    body = error_body("not_queued", message, run=ExecutionSerializer(execution).data)
    headers = {"Location": location, "Retry-After": str(period)}
    return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)


# The planner's verbs on runs. (A comment, not a docstring: the schema would take a
# docstring as the description of an operation that has none.)
class ExecutionViewSet(viewsets.GenericViewSet):
    serializer_class = ExecutionSerializer
    # Which role each action needs; the services check the same again.
    roles: dict[str, str] = {
        "create": Role.OPERATOR,
        "cancel": Role.OPERATOR,
        "approve": Role.ADMIN,
        "reject": Role.ADMIN,
    }

    def get_permissions(self) -> list[BasePermission]:
        return [role_at_least(self.roles.get(self.action, Role.ADMIN))()]

    @property
    def tenant(self) -> Tenant:
        tenant = api_tenant(self.request)
        assert tenant is not None  # the permission checked it
        return tenant

    @extend_schema(
        summary="Run a tool",
        description="Checks the arguments against the tool's input schema (filling its "
        "defaults) and the pattern's policy, then queues the run for a worker. A pattern "
        "that requires approval leaves the run `awaiting_approval` until an admin approves "
        "it. With `wait`, answers when the run has ended (or `wait` seconds have passed). "
        "Answers `201` for a new run and `200` when the idempotency key names an earlier "
        "one; invalid input is a `400` naming each field, with nothing queued; a policy "
        "refusal (cost above `max_cost`, not production-safe, disabled tool) is a `422`. "
        "When the queue does not take the run, a `503` `not_queued` says so and carries the "
        "run (in `run`, with a `Location`): it is recorded, stays queued and is sent to a "
        "worker again by Quiver; do not start it again.",
        request=RunRequestSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Same as `idempotency_key` in the body.",
            )
        ],
        responses={
            201: ExecutionSerializer,
            200: ExecutionSerializer,
            **REFUSED,
            **NOT_QUEUED,
        },
        examples=[
            OpenApiExample(
                "Run and wait for the result",
                value={
                    "tool": "disk_usage",
                    "arguments": {"threshold_pct": 90},
                    "context": {"N": 3},
                    "idempotency_key": "nightly-2025-02-01",
                    "wait": 10,
                },
                request_only=True,
            ),
            OpenApiExample("Finished", value=RUN_EXAMPLE, response_only=True),
        ],
    )
    def create(self, request: Request) -> Response:
        incoming = RunRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        kwargs = run_request_kwargs(data)
        if not kwargs["idempotency_key"]:
            kwargs["idempotency_key"] = request.headers.get(IDEMPOTENCY_HEADER, "")[:201]
        key = request.auth if isinstance(request.auth, ApiKey) else None
        try:
            execution, created = services.invoke(
                self.tenant,
                caller=request.user,  # type: ignore[arg-type]
                source=ExecutionSource.API,
                api_key=key,
                **kwargs,
            )
        except services.RunRefused as exc:
            return refused(exc, "refused", status.HTTP_422_UNPROCESSABLE_ENTITY)
        location = request.build_absolute_uri(f"{request.path.rstrip('/')}/{execution.pk}")
        if execution.unsent:
            return not_queued(execution, location)
        if data["wait"]:
            execution = services.wait_for(execution, data["wait"])
        body = ExecutionSerializer(execution).data
        if not created:
            return Response(body, status=status.HTTP_200_OK)
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(
        summary="Cancel a run",
        description="Stops a run that has not ended: a queued run never starts, a running "
        "script is killed within a second. A run that has ended is a `409`.",
        request=ReasonSerializer,
        responses={200: ExecutionSerializer, **CONFLICT},
    )
    def cancel(self, request: Request, pk: str) -> Response:
        return self._decide(request, pk, services.cancel, ReasonSerializer)

    @extend_schema(
        summary="Approve a run",
        description="Admins: let a run that awaits approval go to the workers (a `503` "
        "`not_queued` when the queue did not take it: approved, and sent again by Quiver).",
        request=ReasonSerializer,
        responses={200: ExecutionSerializer, **CONFLICT, **NOT_QUEUED},
    )
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(request, pk, services.approve, ReasonSerializer)

    @extend_schema(
        summary="Reject a run",
        description="Admins: refuse a run that awaits approval, saying why.",
        request=RejectSerializer,
        responses={200: ExecutionSerializer, **CONFLICT},
    )
    def reject(self, request: Request, pk: str) -> Response:
        return self._decide(request, pk, services.reject, RejectSerializer)

    def _decide(self, request: Request, pk: str, verb: Any, shape: type) -> Response:
        execution = selectors.run_of(self.tenant, pk)
        incoming = shape(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            decided = verb(execution, actor=request.user, reason=incoming.validated_data["reason"])
        except TransitionRefused as exc:
            return refused(exc, "conflict", status.HTTP_409_CONFLICT)
        if decided.unsent:  # approved, but the queue did not take it
            return not_queued(decided, request.build_absolute_uri(request.path.rsplit("/", 1)[0]))
        return Response(ExecutionSerializer(decided).data)


_runs = ExecutionViewSet.as_view
execution_cancel = _runs({"post": "cancel"})
execution_approve = _runs({"post": "approve"})
execution_reject = _runs({"post": "reject"})
