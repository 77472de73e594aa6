"""/api/v1/tools: list, read, create, edit (a new version), publish, roll back, state
changes, versions and validation. Thin: every write is one service call (or two in one
transaction), and the services check roles, ownership and every rule of a definition.

Edits are refused unless they say which version they are based on, with ``If-Match``
(the ETag of ``GET /tools/{name}``) or ``base_version`` in the body: missing, 428; not
the tool's head any more, 412 with the current state.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import services
from catalog.accounts.guards import client_ip
from catalog.api import examples
from catalog.api.concurrency import base_version_of
from catalog.api.details import tool_detail, with_versions_and_owners
from catalog.api.serializers import (
    PublishSerializer,
    RollbackSerializer,
    ToolCreateSerializer,
    ToolDetailSerializer,
    ToolPatchSerializer,
    ToolSummarySerializer,
    ToolUpdateSerializer,
    ValidateSerializer,
    ValidationResultSerializer,
    VersionDetailSerializer,
    VersionSerializer,
)
from catalog.definitions.format import TOOL_FIELDS, TOOL_NAME
from catalog.definitions.validation import RESERVED_NAMES, check_definition
from catalog.filtersets import ToolFilterSet
from catalog.models import Role, Tenant, Tool, ToolVersion, VersionState
from catalog.permissions import may_change_tool
from catalog.selectors import definition_of, load_content, versions_of
from catalog.views.tool_list import rows_of
from config.api.docs import error_response
from config.api.pagination import Pages
from config.api.permissions import api_role, api_tenant, role_at_least
from config.api.serializers import ReasonSerializer

# Which role each action needs; services check the same (and ownership) again.
ACTION_ROLES = {
    "list": Role.VIEWER,
    "retrieve": Role.VIEWER,
    "versions": Role.VIEWER,
    "version": Role.VIEWER,
    "validate": Role.VIEWER,
    "validate_new": Role.VIEWER,
    "create": Role.EDITOR,
    "update": Role.EDITOR,
    "partial_update": Role.EDITOR,
    "publish": Role.EDITOR,
    "rollback": Role.EDITOR,
    "discard": Role.EDITOR,
    **{change.key: change.role for change in services.STATE_CHANGES.values() if change.in_api},
}
# The state changes the API offers as verbs (POST /tools/{name}/<verb>).
STATE_VERBS = {key: c for key, c in services.STATE_CHANGES.items() if c.in_api}
OWNED = " Editors may do this only to tools they own (or that nobody owns); admins to any."
TRUE = {"1", "true", "yes", "on"}

NAME_PARAMETER = OpenApiParameter(
    "name",
    str,
    OpenApiParameter.PATH,
    description="The tool's name, unique in the tenant.",
    # Reserved names are other routes (/tools/export, ...), never a tool.
    pattern=rf"^(?!(?:{'|'.join(sorted(RESERVED_NAMES))})$){TOOL_NAME.removeprefix('^')}",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag of GET /tools/{name}. Required unless the body has base_version.",
)
PUBLISH_FLAG = OpenApiParameter(
    "publish", bool, description="Publish the new version at once (as the body's publish)."
)
ETAG_HEADER = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="Names the head version: send it back as If-Match to edit.",
)
STALE = {
    412: error_response(
        "`stale_edit`: the edit was based on a version that is no longer the head; "
        "`current` says what changed."
    ),
    428: error_response("`precondition_required`: send If-Match or base_version."),
}


def _flag(request: Request, name: str) -> bool:
    return str(request.query_params.get(name, "")).strip().lower() in TRUE


def _state_schema(verb: str) -> Any:
    """The OpenAPI description of a state verb, in the words of the one table."""
    change = STATE_VERBS[verb]
    return extend_schema(
        summary=change.label,
        description=change.about
        + ("" if change.any_tool else OWNED)
        + " Already so: nothing changes (200).",
        parameters=[ETAG_HEADER, NAME_PARAMETER],
        request=ReasonSerializer,
        responses={200: ToolDetailSerializer},
        examples=[examples.REASON_REQUEST, examples.TOOL_DETAIL],
    )


class ToolViewSet(viewsets.GenericViewSet):
    """Tools of the caller's tenant, by name."""

    lookup_field = "name"
    lookup_value_regex = TOOL_NAME.strip("^$")
    pagination_class = Pages
    filterset_class = ToolFilterSet

    # -- plumbing ---------------------------------------------------------------------

    def get_permissions(self) -> list[BasePermission]:
        role = ACTION_ROLES.get(getattr(self, "action", "") or "", Role.VIEWER)
        return [role_at_least(role)()]

    @property
    def tenant(self) -> Tenant:
        tenant = api_tenant(self.request)
        assert tenant is not None  # the permission checked it
        return tenant

    def get_queryset(self) -> QuerySet[Tool]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema is being built
            return Tool.objects.none()
        return Tool.objects.for_tenant(self.tenant)

    def _tool(self, name: str) -> Tool:
        """The tool with its current and head versions (their numbers and states, not
        their content: see catalog.api.details) and its owners' names."""
        return get_object_or_404(with_versions_and_owners(self.get_queryset()), name=name)

    def _require_change(self, tool: Tool) -> None:
        """Ownership checked with the caller's role here (an API key may hold less than
        its creator); the service checks it again with the creator's."""
        if not may_change_tool(self.request.user, tool, role=api_role(self.request)):  # type: ignore[arg-type]
            owners = ", ".join(sorted(u.get_username() for u in tool.owners.all()))
            raise PermissionDenied(
                f"Only its owners ({owners}) or an admin may change '{tool.name}'."
            )

    def _actor(self) -> dict[str, Any]:
        return {"actor": self.request.user, "ip": client_ip(self.request)}

    def _detail(self, name: str, *, code: int = status.HTTP_200_OK) -> Response:
        tool = self._tool(name)
        data = tool_detail(tool)
        response = Response(data, status=code, headers={"ETag": data["etag"]})
        if code == status.HTTP_201_CREATED:
            response["Location"] = reverse("api:tool-detail", args=[tool.name])
        return response

    # -- reading ----------------------------------------------------------------------

    @extend_schema(
        summary="List tools",
        description="The tenant's tools, filtered and sorted like the tool list page "
        "(archived tools only with `archived=only|include`), a page at a time with the "
        "total count. `q` searches names, descriptions and tags.",
        responses={200: ToolSummarySerializer(many=True)},
        examples=[examples.TOOL_LIST],
    )
    def list(self, request: Request) -> Response:
        tools = self.filter_queryset(self.get_queryset())  # ToolFilterSet, as on the page
        page = self.paginate_queryset(rows_of(tools))
        return self.get_paginated_response(ToolSummarySerializer(page, many=True).data)

    @extend_schema(
        summary="Get a tool",
        description="The tool's own fields, its current definition and any draft waiting. "
        "The ETag header names the head version an edit must be based on.",
        parameters=[ETAG_HEADER, NAME_PARAMETER],
        responses={200: ToolDetailSerializer},
        examples=[examples.TOOL_DETAIL],
    )
    def retrieve(self, request: Request, name: str) -> Response:
        return self._detail(name)

    @extend_schema(
        summary="List a tool's versions",
        filters=False,
        description="Every version of the tool, newest first, without their content.",
        parameters=[NAME_PARAMETER],
        responses={200: VersionSerializer(many=True)},
        examples=[examples.VERSION_LIST],
    )
    def versions(self, request: Request, name: str) -> Response:
        tool = self._tool(name)
        rows = versions_of(tool).annotate(parent_number=F("parent__version"))
        page = self.paginate_queryset(rows)
        for version in page:
            version.tool = tool
        return self.get_paginated_response(VersionSerializer(page, many=True).data)

    @extend_schema(
        summary="Get one version",
        description="One version of the tool with its whole definition.",
        parameters=[
            NAME_PARAMETER,
            OpenApiParameter("version", str, OpenApiParameter.PATH, description="e.g. 1.2.0"),
        ],
        responses={200: VersionDetailSerializer},
        examples=[examples.VERSION_DETAIL],
    )
    def version(self, request: Request, name: str, version: str) -> Response:
        tool = self._tool(name)
        row = get_object_or_404(
            versions_of(tool).annotate(parent_number=F("parent__version")),
            version=version,
        )
        row.tool = tool
        load_content([row])
        data = VersionSerializer(row).data | {"definition": definition_of(row, tool_fields=False)}
        return Response(data)

    # -- creating and editing -----------------------------------------------------------

    @extend_schema(
        summary="Create a tool",
        description="A new tool from a definition: its first version is a draft, or is "
        "published at once with `publish` (body or query string). The creator becomes its "
        "owner unless the definition names owners. Editors and admins.",
        parameters=[ETAG_HEADER, PUBLISH_FLAG],
        request=ToolCreateSerializer,
        responses={201: ToolDetailSerializer},
        examples=[examples.CREATE_REQUEST, examples.TOOL_DETAIL],
    )
    def create(self, request: Request) -> Response:
        body = ToolCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tool = services.create_tool(
            self.tenant,
            definition=body.validated_data["definition"],
            reason=body.validated_data["reason"],
            publish=body.validated_data["publish"] or _flag(request, "publish"),
            **self._actor(),
        )
        return self._detail(tool.name, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a tool (a new version)",
        description="Replaces the definition: the result is a new draft version based on the "
        "head named by If-Match (or `base_version`), published at once with `publish`. "
        "Missing both: 428. Based on a version that is no longer the head: 412 with what "
        "changed since." + OWNED,
        parameters=[ETAG_HEADER, NAME_PARAMETER, IF_MATCH, PUBLISH_FLAG],
        request=ToolUpdateSerializer,
        responses={200: ToolDetailSerializer, **STALE},
        examples=[examples.UPDATE_REQUEST, examples.TOOL_DETAIL],
    )
    def update(self, request: Request, name: str) -> Response:
        return self._edit(request, name, ToolUpdateSerializer)

    @extend_schema(
        summary="Edit some fields of a tool (a new version)",
        description="Like PUT, but only the top-level fields sent change; the rest is kept "
        "from the version the edit is based on." + OWNED,
        parameters=[ETAG_HEADER, NAME_PARAMETER, IF_MATCH, PUBLISH_FLAG],
        request=ToolPatchSerializer,
        responses={200: ToolDetailSerializer, **STALE},
        examples=[examples.PATCH_REQUEST, examples.TOOL_DETAIL],
    )
    def partial_update(self, request: Request, name: str) -> Response:
        return self._edit(request, name, ToolPatchSerializer)

    def _edit(self, request: Request, name: str, shape: type[serializers.Serializer]) -> Response:
        tool = self._tool(name)
        self._require_change(tool)
        if tool.is_archived:  # as the editor page says
            raise ValidationError({"archived": [f"'{tool.name}' is archived; restore it first"]})
        body = shape(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        base = base_version_of(tool, request.headers.get("If-Match"), data.get("base_version"))
        definition = edited_definition(
            tool, base, data["definition"], partial=shape is ToolPatchSerializer
        )
        kwargs = {"reason": data["reason"], **self._actor()}
        with transaction.atomic():
            version = services.edit_tool(tool, definition=definition, base_version=base, **kwargs)
            if data["publish"] or _flag(request, "publish"):
                services.publish_version(version, **kwargs)
        return self._detail(tool.name)

    # -- publishing, rolling back, discarding ---------------------------------------------

    @extend_schema(
        summary="Publish a version",
        description="Makes a draft the current version: by default the newest draft." + OWNED,
        parameters=[ETAG_HEADER, NAME_PARAMETER],
        request=PublishSerializer,
        responses={200: ToolDetailSerializer},
        examples=[examples.PUBLISH_REQUEST, examples.TOOL_DETAIL],
    )
    def publish(self, request: Request, name: str) -> Response:
        tool = self._tool(name)
        self._require_change(tool)
        body = PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        number = body.validated_data.get("version")
        if number:
            target = tool.versions.filter(version=number).first()
            if target is None:
                raise ValidationError({"version": [f"this tool has no version {number}"]})
        elif tool.head_version is not None and tool.head_version.state == VersionState.DRAFT:
            target = tool.head_version
        else:
            raise ValidationError({"version": ["no draft is waiting to be published"]})
        services.publish_version(target, reason=body.validated_data["reason"], **self._actor())
        return self._detail(tool.name)

    @extend_schema(
        summary="Roll back",
        description="Points the current version back at a version published before; a reason "
        "is required." + OWNED,
        parameters=[ETAG_HEADER, NAME_PARAMETER],
        request=RollbackSerializer,
        responses={200: ToolDetailSerializer},
        examples=[examples.ROLLBACK_REQUEST, examples.TOOL_DETAIL],
    )
    def rollback(self, request: Request, name: str) -> Response:
        tool = self._tool(name)
        self._require_change(tool)
        body = RollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        number = body.validated_data["to_version"]
        target = tool.versions.filter(version=number).first()
        if target is None:
            raise ValidationError({"to_version": [f"this tool has no version {number}"]})
        services.rollback_tool(
            tool, to_version=target, reason=body.validated_data["reason"], **self._actor()
        )
        return self._detail(tool.name)

    @extend_schema(
        summary="Discard a draft",
        description="Deletes a draft that was never published." + OWNED,
        parameters=[
            NAME_PARAMETER,
            OpenApiParameter("version", str, OpenApiParameter.PATH, description="A draft."),
        ],
        request=None,
        responses={204: OpenApiResponse(description="Discarded.")},
    )
    def discard(self, request: Request, name: str, version: str) -> Response:
        tool = self._tool(name)
        self._require_change(tool)
        target = get_object_or_404(tool.versions, version=version)
        services.discard_draft(target, **self._actor())
        return Response(status=status.HTTP_204_NO_CONTENT)

    # -- state -----------------------------------------------------------------------

    def _change_state(self, request: Request, name: str, verb: str) -> Response:
        tool = self._tool(name)
        change = STATE_VERBS[verb]
        if not change.any_tool:
            self._require_change(tool)
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        change.service(tool, reason=body.validated_data["reason"], **self._actor())
        return self._detail(tool.name)

    @_state_schema("enable")
    def enable(self, request: Request, name: str) -> Response:
        return self._change_state(request, name, "enable")

    @_state_schema("disable")
    def disable(self, request: Request, name: str) -> Response:
        return self._change_state(request, name, "disable")

    @_state_schema("deprecate")
    def deprecate(self, request: Request, name: str) -> Response:
        return self._change_state(request, name, "deprecate")

    @_state_schema("archive")
    def archive(self, request: Request, name: str) -> Response:
        return self._change_state(request, name, "archive")

    @_state_schema("restore")
    def restore(self, request: Request, name: str) -> Response:
        return self._change_state(request, name, "restore")

    # -- validation ------------------------------------------------------------------

    @extend_schema(
        summary="Check a new definition",
        operation_id="tools_validate_new",
        description="Checks a definition the way create does, without saving anything: "
        "every problem by field path, and the definition with its defaults filled in.",
        request=ValidateSerializer,
        responses={200: ValidationResultSerializer},
        examples=[examples.VALIDATE_REQUEST, examples.VALIDATION_RESULT],
    )
    def validate_new(self, request: Request) -> Response:
        body = ValidateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(validation_result(body.validated_data["definition"]))

    @extend_schema(
        summary="Check an edited definition",
        operation_id="tools_validate",
        description="Checks a definition for this tool (its name is filled in) without "
        "saving anything.",
        parameters=[NAME_PARAMETER],
        request=ValidateSerializer,
        responses={200: ValidationResultSerializer},
        examples=[examples.VALIDATE_REQUEST, examples.VALIDATION_RESULT],
    )
    def validate(self, request: Request, name: str) -> Response:
        tool = self._tool(name)
        body = ValidateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(validation_result({**body.validated_data["definition"], "name": tool.name}))


# -- helpers shared with tests and other API modules ---------------------------------------


def edited_definition(
    tool: Tool, base: ToolVersion, sent: dict[str, Any], *, partial: bool
) -> dict[str, Any]:
    """The definition to save: what was sent (over the base's, for PATCH), with the tool's
    own fields checked (they change through their own endpoints) and a version number
    that already exists dropped (the next one is chosen)."""
    definition = dict(sent)
    current = {
        "status": tool.status,
        "enabled": tool.enabled,
        "archived": tool.archived_at is not None,
        "owners": sorted(u.get_username() for u in tool.owners.all()),
    }
    errors = {}
    for field in TOOL_FIELDS:
        if field not in definition:
            continue
        value = definition.pop(field)
        if field == "owners" and isinstance(value, list):
            value = sorted(str(v) for v in value)
        if value != current[field]:
            errors[field] = [
                f"is {current[field]!r}; an edit does not change it"
                + ("" if field == "owners" else f" (use POST /tools/{tool.name}/<verb>)")
            ]
    if errors:
        raise ValidationError({"definition": errors})
    if partial:
        load_content([base])
        base.tool = tool
        definition = definition_of(base, tool_fields=False) | definition
    number = definition.get("version")
    if isinstance(number, str) and tool.versions.filter(version=number).exists():
        definition.pop("version")
    return definition


def validation_result(definition: dict[str, Any]) -> dict[str, Any]:
    errors, normalized = check_definition(definition)
    return {
        "valid": normalized is not None,
        "errors": [e.as_dict() for e in errors],
        "normalized": normalized,
    }
