"""What ``OPTIONS`` answers on every API endpoint: its name, description and the body
types it reads and writes. DRF's default also describes the fields of the serializer
for each write method, which needs one serializer per view (most of ours pick one per
action, and failed with a 500); the OpenAPI schema at /api/schema/ describes bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView


class Metadata(SimpleMetadata):
    def determine_metadata(self, request: Request, view: APIView) -> dict[str, Any]:
        described = super().determine_metadata(request, view)
        described["schema"] = "/api/schema/"
        return described

    def determine_actions(self, request: Request, view: APIView) -> dict[str, Any]:
        return {}
