"""GET /api/v1/llm/tools: the tools a caller's agent may use, in its LLM's format.

Thin: the query string passes a serializer, ``catalog.llm.export`` does the rest and
caches whole bodies by catalog revision; this view adds the ETag and answers 304 to a
matching ``If-None-Match``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from catalog.llm import export as llm_export
from catalog.llm import formats as llm_formats
from catalog.llm import retrieval
from catalog.models import Platform, Role
from config.api.permissions import api_tenant, role_at_least


class LlmToolsQuerySerializer(serializers.Serializer):
    """The query string of GET /api/v1/llm/tools."""

    format = serializers.ChoiceField(
        choices=llm_formats.FORMATS,
        default="openai",
        help_text="openai (function calling, strict when the schema allows), anthropic, "
        "mcp (a tools/list result) or frontend (flat, parameters as a list).",
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=retrieval.QUERY_MAX_CHARS,
        default="",
        help_text="What the agent is asked to do; only the k best-matching tools are returned "
        "(BM25 over names, descriptions, capabilities, use cases and parameters). Up to "
        f"{retrieval.QUERY_MAX_CHARS:,} characters (a pasted log or a long instruction); "
        f"the first {retrieval.QUERY_RANKED_CHARS:,} are used for ranking.",
    )
    k = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=llm_export.MAX_K,
        default=llm_export.DEFAULT_K,
        help_text="How many tools to return with q.",
    )
    platform = serializers.ChoiceField(
        choices=Platform.choices, required=False, allow_blank=True, default=""
    )
    category = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    tag = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    include_deprecated = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Deprecated tools are left out unless true.",
        error_messages={"invalid": "Use true or false (yes/no, 1/0 and on/off also work)."},
    )
    environment = serializers.ChoiceField(
        choices=llm_export.ENVIRONMENTS,
        required=False,
        allow_blank=True,
        default="",
        help_text="production leaves out tools whose every pattern is unsafe in production.",
    )


class LlmMatchSerializer(serializers.Serializer):
    name = serializers.CharField()
    score = serializers.FloatField(help_text="BM25 score; higher is a better match.")


class LlmToolsSerializer(serializers.Serializer):
    """The response (described for the schema; the body is built by catalog.llm.export)."""

    format = serializers.ChoiceField(choices=llm_formats.FORMATS)
    revision = serializers.IntegerField(help_text="The catalog revision the tools are from.")
    query = serializers.CharField(required=False, help_text="Only with q.")
    matches = LlmMatchSerializer(
        many=True, required=False, help_text="Only with q: the tools' names and scores, best first."
    )
    count = serializers.IntegerField()
    tools = serializers.ListField(
        child=serializers.DictField(),
        help_text="The tools in the asked format: by name, or best match first with q.",
    )


class JsonOnly(DefaultContentNegotiation):
    """``?format=`` names the LLM format here, not a DRF renderer; the body is JSON."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


# -- Examples for the schema, converted by the same code as real tools -----------------------

_EXAMPLE_DEFINITION: dict[str, Any] = {
    "name": "disk_usage",
    "version": "1.2.0",
    "description": "Report disk usage per mount point, fullest first.",
    "platform": "linux",
    "category": "monitoring",
    "tags": ["capacity", "storage"],
    "metadata": {},
    "input_schema": {
        "type": "object",
        "properties": {
            "host": {"type": "string", "description": "Target host."},
            "threshold_pct": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "default": 80,
                "description": "Only mounts at least this full.",
            },
        },
        "required": ["host"],
        "additionalProperties": False,
    },
    "output_schema": {"type": "object", "properties": {"mounts": {"type": "array"}}},
    "capabilities": [
        {
            "name": "disk_capacity_check",
            "description": "Find file systems running out of space.",
            "patterns": [
                {
                    "name": "all_mounts",
                    "typical_use_cases": ["is the disk full", "which volume is almost full"],
                    "policy": {"requires_approval": False, "production_safe": True},
                }
            ],
        }
    ],
}


def _example(fmt: str, *, query: bool = False) -> OpenApiExample:
    body: dict[str, Any] = {"format": fmt, "revision": 1718000000000000042}
    if query:
        body["query"] = "is the disk full on web-01"
        body["matches"] = [{"name": "disk_usage", "score": 7.4121}]
    body["count"] = 1
    body["tools"] = [llm_formats.convert(_EXAMPLE_DEFINITION, fmt)]
    summary = f"format={fmt}" + (" with q" if query else "")
    return OpenApiExample(summary, value=body, response_only=True, status_codes=["200"])


DESCRIPTION = """The tools the caller's agents may use, ready to hand to an LLM.

Only usable tools appear: enabled, not archived, not disabled, and not deprecated unless
`include_deprecated=true`; with `environment=production`, tools whose every pattern is
marked unsafe for production are left out too.

- `format=openai` (default): `{"type": "function", "function": {name, description,
  parameters}}`. When a tool's input schema can be expressed in OpenAI's strict mode
  the function has `"strict": true` and a rewritten schema: every object closed and every
  property required, optional ones nullable (null means "use the default"; drop nulls
  before validating against the tool's own schema). Otherwise the schema is the tool's own.
- `format=anthropic`: `{name, description, input_schema}`.
- `format=mcp`: the result of an MCP `tools/list` (`tools` with `inputSchema`, and
  `outputSchema` and `annotations` when known).
- `format=frontend`: name, title, description, platform, category, tags, parameters as a
  list, version and capability names.

With `q`, only the `k` (default 20, at most 100) best-matching tools are returned, best
first, and `matches` gives their scores; a prompt stays small however large the catalog.
The description of each tool ends with a few of its typical use cases.

Responses are cached by catalog revision and carry an ETag; send it back in
`If-None-Match` to get 304 while nothing changed."""


class LlmToolsView(APIView):
    permission_classes = [role_at_least(Role.VIEWER)]
    content_negotiation_class = JsonOnly

    @extend_schema(
        summary="Tools for an LLM",
        description=DESCRIPTION,
        parameters=[LlmToolsQuerySerializer],
        responses={
            200: LlmToolsSerializer,
            304: OpenApiResponse(description="Not modified since the ETag."),
        },
        examples=[
            _example("openai"),
            _example("openai", query=True),
            _example("anthropic"),
            _example("mcp"),
            _example("frontend"),
        ],
    )
    def get(self, request: Request) -> HttpResponse:
        query = LlmToolsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        tenant = api_tenant(request)
        assert tenant is not None  # the permission requires one
        result = llm_export.llm_tools(tenant, llm_export.LlmToolsRequest(**query.validated_data))
        if result.etag in _etags(request.headers.get("If-None-Match", "")):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(result.body, content_type="application/json")
        response["ETag"] = result.etag
        response["Cache-Control"] = "private, no-cache"
        patch_vary_headers(response, ["Authorization", "X-API-Key", "Cookie"])
        return response


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
