"""/api/v1/tools/import and /api/v1/tools/export: definitions in and out, in bulk.

Import reads a YAML or JSON body, or uploaded files and zips, through the same readers
as the import wizard (``catalog.formats.files``, ``catalog.formats.uploads``), so every format they
understand is accepted here too; the service applies it all-or-nothing. Export streams
the definitions of the whole catalog, or of the tools the list's filters select.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import services
from catalog.accounts.guards import client_ip
from catalog.api import examples
from catalog.api.serializers import (
    DefinitionSerializer,
    ImportReportSerializer,
    ImportUploadSerializer,
)
from catalog.filtersets import ToolFilterSet
from catalog.formats.files import MAX_FILE_BYTES, ReadResult, dump_yaml, read_bytes
from catalog.formats.uploads import MAX_UPLOAD_FILES, preview_of, read_uploads
from catalog.models import REASON_MAX_LENGTH, Role, Tenant, Tool
from catalog.selectors import export_definitions
from catalog.views.tool_list import export_chunks
from config.api.permissions import api_tenant, role_at_least

# -- bodies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawBody:
    """A request body kept as bytes, for the definition readers to parse."""

    content: bytes
    filename: str


class _RawParser(BaseParser):
    label = "request.yaml"

    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None
    ) -> RawBody:
        # One more byte than the readers accept, so that they can say it is too large.
        return RawBody(stream.read(MAX_FILE_BYTES + 1) if stream else b"", self.label)


class JsonBodyParser(_RawParser):
    media_type = "application/json"
    label = "request.json"


class YamlBodyParser(_RawParser):
    media_type = "application/yaml"


class TextYamlBodyParser(_RawParser):
    media_type = "text/yaml"


class XYamlBodyParser(_RawParser):
    media_type = "application/x-yaml"


RAW_TYPES = {
    parser.media_type: parser
    for parser in (JsonBodyParser, YamlBodyParser, TextYamlBodyParser, XYamlBodyParser)
}


class ImportQuerySerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Only say what would change."
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH
    )
    partial = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Import the definitions without problems and report the others as "
        "refused; without it any problem refuses the whole import.",
    )


class ImportView(generics.GenericAPIView):
    """POST /tools/import."""

    permission_classes = [role_at_least(Role.EDITOR)]
    parser_classes = [*RAW_TYPES.values(), MultiPartParser]

    @extend_schema(
        summary="Import definitions",
        description="Creates and changes tools from definitions, all or nothing: a YAML or "
        "JSON body (one definition, a list, `{tools: [...]}`, or YAML documents separated by "
        "`---`; tools in OpenAI, MCP or Anthropic format too), or a multipart upload of "
        "YAML, JSON and zip files under `files`. Unchanged definitions are left alone; "
        "changed ones become new published versions. With `dry_run` nothing is written "
        "and the report is the import wizard's preview, problems included. Any problem "
        "without `dry_run`: 400 `import_failed`, nothing changed. Editors change only the "
        "tools they own (or that nobody owns).",
        parameters=[
            OpenApiParameter("dry_run", bool, description="Only say what would change."),
            OpenApiParameter("reason", str, description="Kept in the audit log."),
            OpenApiParameter(
                "partial",
                bool,
                description="Import what is valid; list the tools left out under `refused`.",
            ),
        ],
        request={
            "application/json": {"type": "array", "items": {"type": "object"}},
            "application/yaml": OpenApiTypes.STR,
            "text/yaml": OpenApiTypes.STR,
            "application/x-yaml": OpenApiTypes.STR,
            "multipart/form-data": ImportUploadSerializer,
        },
        responses={200: ImportReportSerializer},
        examples=[examples.IMPORT_YAML, examples.IMPORT_JSON, examples.IMPORT_REPORT],
    )
    def post(self, request: Request) -> Response:
        tenant = api_tenant(request)
        assert tenant is not None
        query = ImportQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        read, reason = _read(request)
        reason = reason or query.validated_data["reason"]
        dry_run = query.validated_data["dry_run"]
        report = services.import_definitions(
            tenant,
            read.sources,
            actor=request.user,
            reason=reason,
            ip=client_ip(request),
            dry_run=dry_run,
            problems=read.problems,
            partial=query.validated_data["partial"],
        )
        preview = preview_of(report)
        applied = not dry_run and bool(preview["counts"]["new"] + preview["counts"]["changed"])
        return Response({"dry_run": dry_run, "applied": applied, **preview})


def _read(request: Request) -> tuple[ReadResult, str]:
    """The definitions a request carries, and the reason a multipart form gave."""
    data = request.data
    if isinstance(data, RawBody):
        return read_bytes(data.content, data.filename), ""
    raw = RAW_TYPES.get(request.content_type.split(";")[0].strip().lower())
    if raw is not None:  # an empty body: DRF does not parse it
        return read_bytes(b"", raw.label), ""
    files = [f for key in request.FILES for f in request.FILES.getlist(key)]
    if not files:
        raise ValidationError(
            {"files": ["send definitions as a YAML or JSON body, or upload files under 'files'"]}
        )
    if len(files) > MAX_UPLOAD_FILES:
        raise ValidationError(
            {"files": [f"send at most {MAX_UPLOAD_FILES} files, or put them in a zip"]}
        )
    reason = str(data.get("reason", "") or "")[:REASON_MAX_LENGTH] if hasattr(data, "get") else ""
    return read_uploads(files), reason


# -- export ------------------------------------------------------------------------------


class IgnoreFormatNegotiation(DefaultContentNegotiation):
    """``format`` is this endpoint's own parameter, not DRF's renderer override; the
    response is streamed as the format asked for, whatever the Accept header says."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["yaml", "json"], required=False, default="yaml")


CONTENT_TYPES = {"yaml": "application/yaml", "json": "application/json"}


def yaml_list(definitions: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One YAML document holding the list of definitions, streamed one at a time: the
    same shape as the JSON export, and readable by any YAML parser's single-document
    load (the page's export writes one document per tool instead)."""
    empty = True
    for definition in definitions:
        empty = False
        lines = dump_yaml([definition]).splitlines()
        yield "".join(
            (("- " if number == 0 else "  ") + line if line else line) + "\n"
            for number, line in enumerate(lines)
        )
    if empty:
        yield "[]\n"


class ExportView(generics.GenericAPIView):
    """GET /tools/export."""

    permission_classes = [role_at_least(Role.VIEWER)]
    content_negotiation_class = IgnoreFormatNegotiation
    filterset_class = ToolFilterSet

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema is being built
            return Tool.objects.none()
        tenant: Tenant | None = api_tenant(self.request)
        assert tenant is not None
        return Tool.objects.for_tenant(tenant)

    @extend_schema(
        summary="Export definitions",
        description="The published definitions of the whole catalog, or of the tools the "
        "list's filters select (archived ones only with `archived`), by name, as a YAML "
        "list or a JSON list: what import reads back. Streamed.",
        parameters=[
            OpenApiParameter("format", str, enum=["yaml", "json"], description="yaml (default)")
        ],
        responses={
            (200, "application/yaml"): OpenApiResponse(
                DefinitionSerializer(many=True),
                description="A YAML list of definitions.",
                examples=[examples.EXPORT_YAML],
            ),
            (200, "application/json"): OpenApiResponse(
                DefinitionSerializer(many=True),
                description="A list of definitions.",
                examples=[examples.EXPORT_JSON],
            ),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = ExportQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        fmt = query.validated_data["format"]
        tools = self.filter_queryset(self.get_queryset())
        tenant = api_tenant(request)
        assert tenant is not None
        definitions = export_definitions(tenant, tools)
        chunks = export_chunks(definitions, "json") if fmt == "json" else yaml_list(definitions)
        response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"quiver-{tenant.slug}-{stamp}.{fmt}"
        )
        return response
