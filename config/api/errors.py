"""The API's one error shape, and the handler that turns every failure into it.

    {"error": {"code": "invalid", "message": "...",
               "fields": [{"path": "capabilities[0].name", "message": "..."}]}}

``code`` is stable and meant for programs; ``message`` is for people; ``fields`` names
each offending input by its path (dots for keys, brackets for list positions), empty
when the error is not about one field. A stale edit (412) adds ``current``: the
tool's state now. The codes, with their statuses, are listed in
config/api/description.py (the schema's front page).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from catalog.definitions.problems import DefinitionInvalid, join_path
from catalog.services import ImportFailed, StaleEdit

API_PREFIX = "/api/"
Field = dict[str, str]


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since you read it."
    default_code = "stale_edit"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "Send If-Match with the ETag you read, or the base version in the body."
    default_code = "precondition_required"


# -- the shape, for the OpenAPI schema -----------------------------------------------------


class ErrorFieldSerializer(serializers.Serializer):
    path = serializers.CharField(
        help_text="Where the problem is: dotted keys and [index] positions; '' for the whole "
        "request. Import problems read '<file>: <path>'."
    )
    message = serializers.CharField()


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: invalid, not_found, ...")
    message = serializers.CharField(help_text="For people.")
    fields = ErrorFieldSerializer(many=True)
    current = serializers.DictField(
        required=False,
        help_text="Only on 412 stale_edit: the tool's head version now and what changed.",
    )


class ErrorSerializer(serializers.Serializer):
    """Every error the API returns has this shape."""

    error = ErrorBodySerializer()


# -- building the shape ---------------------------------------------------------------------


def error_body(
    code: str, message: str, fields: list[Field] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or [], **extra}}


def flatten(detail: Any, path: str = "") -> list[Field]:
    """DRF's nested error details as a flat list of {path, message}."""
    if isinstance(detail, dict):
        fields: list[Field] = []
        for key, value in detail.items():
            top_level = key in (api_settings.NON_FIELD_ERRORS_KEY, "__all__")
            fields += flatten(value, path if top_level else join_path(path, str(key)))
        return fields
    if isinstance(detail, list):
        fields = []
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                fields += flatten(item, join_path(path, index))
            else:
                fields.append({"path": path, "message": str(item)})
        return fields
    return [{"path": path, "message": str(detail)}]


def summary(fields: list[Field], default: str) -> str:
    if len(fields) == 1:
        only = fields[0]
        return f"{only['path']}: {only['message']}" if only["path"] else only["message"]
    return f"{default} {len(fields)} problems; see fields." if fields else default


def _validation(exc: Any) -> tuple[int, dict[str, Any]]:
    fields = flatten(exc.detail)
    return 400, error_body("invalid", summary(fields, "The request is invalid:"), fields)


def _definition(exc: Any) -> tuple[int, dict[str, Any]]:
    fields = [error.as_dict() for error in exc.errors]
    message = summary(fields, "The definition is invalid:")
    return 400, error_body("invalid_definition", message, fields)


def _django_validation(exc: Any) -> tuple[int, dict[str, Any]]:
    fields = flatten(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    return 400, error_body("invalid", summary(fields, "The request is invalid:"), fields)


def _stale(exc: Any) -> tuple[int, dict[str, Any]]:
    tool = exc.tool
    current = {
        "tool": tool.name,
        "base_version": exc.base.version,
        "head_version": exc.head.version,
        "head_state": exc.head.state,
        "current_version": tool.current_version.version if tool.current_version else None,
        "changed_by": exc.changed_by,
        # Values are JSON already (definitions are); str() guards anything that is not.
        "changes": json.loads(json.dumps(exc.changes, default=str)),
    }
    return 412, error_body("stale_edit", str(exc), current=current)


def _import_failed(exc: Any) -> tuple[int, dict[str, Any]]:
    fields = [{"path": _where(p), "message": p.message} for p in exc.report.problems]
    return 400, error_body("import_failed", str(exc), fields)


def _where(problem: Any) -> str:
    """``file (tool): field.path``: the tool named, not only its place in the file."""
    where = f"{problem.file} ({problem.tool})" if problem.tool else problem.file
    return f"{where}: {problem.path}" if problem.path else where


def _not_found(exc: Any) -> tuple[int, dict[str, Any]]:
    return 404, error_body("not_found", "Not found.")


def _forbidden(exc: Any) -> tuple[int, dict[str, Any]]:
    message = str(exc) or exceptions.PermissionDenied.default_detail
    return 403, error_body("permission_denied", str(message))


# Domain and Django errors, most specific first (DefinitionInvalid is a ValidationError).
HANDLERS: list[tuple[type[BaseException], Callable[[Any], tuple[int, dict[str, Any]]]]] = [
    (DefinitionInvalid, _definition),
    (DjangoValidationError, _django_validation),
    (StaleEdit, _stale),
    (ImportFailed, _import_failed),
    (Http404, _not_found),
    (ObjectDoesNotExist, _not_found),
    (DjangoPermissionDenied, _forbidden),
]


def _api_exception(exc: exceptions.APIException) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, exceptions.ValidationError):
        return _validation(exc)
    if isinstance(exc, exceptions.Throttled):
        wait = math.ceil(exc.wait) if exc.wait is not None else None
        message = "Too many requests" + (f": try again in {wait} s." if wait else ".")
        return exc.status_code, error_body("throttled", message)
    if isinstance(exc.detail, dict | list):
        fields = flatten(exc.detail)
        return exc.status_code, error_body(exc.default_code, summary(fields, "Error:"), fields)
    return exc.status_code, error_body(exc.default_code, str(exc.detail))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every known failure as the one error shape.

    Anything else is left to Django (a 500, logged), which ApiErrorMiddleware answers
    in the same shape.
    """
    headers: dict[str, str] = {}
    if isinstance(exc, exceptions.APIException):
        code, body = _api_exception(exc)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(math.ceil(wait))
    else:
        handler = next((h for kind, h in HANDLERS if isinstance(exc, kind)), None)
        if handler is None:
            return None
        code, body = handler(exc)
    set_rollback()
    return Response(body, status=code, headers=headers)


# -- plain Django errors under /api/ ----------------------------------------------------------

PLAIN_ERRORS = {
    400: ("bad_request", "The request is malformed."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    500: ("server_error", "Something went wrong on our side; nothing was changed."),
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiErrorMiddleware:
    """Answers Django's own error pages (unknown URL, uncaught exception, ...) under
    /api/ in the error shape; HTML pages elsewhere are left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(API_PREFIX)
            or isinstance(response, Response)  # the API's own answer, already in shape
            or "json" in response.get("Content-Type", "")
        ):
            return response
        code, message = PLAIN_ERRORS.get(
            response.status_code, ("error", response.reason_phrase or "Error.")
        )
        if response.status_code == 404 and (hint := _without_slash(request.path)):
            message = f"Not found. The API's paths end without '/': did you mean {hint}?"
        replacement = JsonResponse(error_body(code, message), status=response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        return replacement


def _without_slash(path: str) -> str:
    """``path`` without its trailing slash when that is an API route; "" otherwise."""
    if not path.endswith("/") or path == API_PREFIX:
        return ""
    try:
        resolve(path.rstrip("/"))
    except Resolver404:
        return ""
    return path.rstrip("/")
