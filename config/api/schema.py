"""How the OpenAPI schema describes the API: the error responses every operation can
give, and the API-key security scheme."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from config.api.errors import ErrorSerializer

# Added to each operation unless the view documents that status itself.
ERROR_RESPONSES = {
    "400": "Invalid request: `invalid` (see `fields`), `parse_error`, or a domain error "
    "such as `invalid_definition`.",
    "401": "`not_authenticated` or `authentication_failed`: send a valid API key.",
    "403": "`permission_denied`: your role in the tenant does not allow this.",
    "404": "`not_found`: no such object in your tenant.",
    "415": "`unsupported_media_type`: send the body as one of the listed content types.",
    "429": "`throttled`: too many requests; retry after the `Retry-After` header's seconds.",
}

ERROR_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": 'The scheme to authenticate with: `Bearer realm="api"`.',
        }
    },
    "429": {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "Seconds to wait before the next request.",
        }
    },
}


def error_response(description: str) -> OpenApiResponse:
    """For ``@extend_schema(responses={412: error_response("...")})`` in views."""
    return OpenApiResponse(ErrorSerializer, description=description)


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema plus the error responses every endpoint can give."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        responses = operation["responses"]
        for code, description in ERROR_RESPONSES.items():
            if code in responses:
                continue
            if public and code in ("401", "403"):
                continue
            if code == "404" and "{" not in self.path:
                continue
            if code == "415" and "requestBody" not in operation:
                continue
            response = self._get_response_for_code(ErrorSerializer, code)
            response["description"] = description
            if code in ERROR_HEADERS:
                response["headers"] = ERROR_HEADERS[code]
            responses[code] = response
        return operation


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.auth.ApiKeyAuthentication"
    name = ["apiKeyBearer", "apiKeyHeader"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Either header will do.
        return [{"apiKeyBearer": []}, {"apiKeyHeader": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:  # type: ignore[override]
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "qv_<prefix>_<secret>",
                "description": "An API key created under Settings → API keys.",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
                "description": "The same API key, for clients that cannot set Authorization.",
            },
        ]
