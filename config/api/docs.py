"""Swagger UI and Redoc, served from our own static files (drf-spectacular-sidecar): the
machines that read them may have no internet, and the CSP allows only our scripts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response

# Views document their own error statuses with it; it lives with the schema class.
from config.api.schema import error_response

__all__ = ["RedocView", "SwaggerView", "docs_policy", "error_response"]


def docs_policy() -> str:
    """The site's CSP, loosened only as Swagger UI and Redoc need: inline *styles*
    (both set element styles; Redoc injects <style>), and Redoc's search worker."""
    policy = {key: list(value) for key, value in settings.CSP.items()}
    policy["style-src"] = [*policy.get("style-src", ["'self'"]), "'unsafe-inline'"]
    policy["font-src"] = [*policy.get("font-src", ["'self'"]), "data:"]
    policy["worker-src"] = ["'self'", "blob:"]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI; its start-up script is a separate request, so no inline script."""

    template_name = "api/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = docs_policy()
        return response


class RedocView(SpectacularRedocView):
    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = docs_policy()
        return response
