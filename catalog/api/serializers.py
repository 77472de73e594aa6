"""The shapes of the REST API's requests and responses.

Serializers here describe and check *requests* (their envelopes: reason, flags, version
numbers) and turn rows into *responses*; they never write. A tool definition itself is
checked by ``catalog.definitions.validation`` inside the services, so that the API, the pages and
import accept exactly the same definitions: here it is only required to be an object.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.definitions.format import TOOL_NAME
from catalog.models import (
    REASON_MAX_LENGTH,
    AuditAction,
    AuditLog,
    Platform,
    RuntimeKind,
    Tool,
    ToolStatus,
    ToolVersion,
    VersionState,
)
from catalog.selectors import pattern_definition
from config.api.serializers import ReasonSerializer

NAME_PATTERN = TOOL_NAME

# -- a tool definition --------------------------------------------------------------------


class RuntimeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RuntimeKind.choices)
    timeout_s = serializers.FloatField(help_text="Seconds before a run is stopped.")
    memory_mb = serializers.IntegerField()
    network = serializers.BooleanField(help_text="Whether a script may use the network.")
    callable = serializers.CharField(
        required=False, help_text="For kind 'callable': the name registered with @tool."
    )


class DefinitionSerializer(serializers.Serializer):
    """A tool definition as a person writes it (the import format; JSON Schema in
    ``catalog/definitions/schemas/tool_definition.schema.json``). Only the shape is described here:
    the services check every rule and report each problem by field path."""

    name = serializers.RegexField(NAME_PATTERN, max_length=64)
    version = serializers.CharField(
        required=False, help_text="Semantic version; left out, the next one is chosen."
    )
    description = serializers.CharField()
    platform = serializers.ChoiceField(choices=Platform.choices)
    category = serializers.CharField()
    status = serializers.ChoiceField(choices=ToolStatus.choices, required=False)
    enabled = serializers.BooleanField(required=False)
    archived = serializers.BooleanField(required=False)
    owners = serializers.ListField(child=serializers.CharField(), required=False)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    defaults = serializers.DictField(required=False)
    dependencies = serializers.ListField(child=serializers.DictField(), required=False)
    metadata = serializers.DictField(required=False)
    input_schema = serializers.DictField(
        required=False, help_text="JSON Schema (Draft 2020-12) of the arguments."
    )
    output_schema = serializers.DictField(
        required=False, help_text="JSON Schema (Draft 2020-12) of the result."
    )
    runtime = RuntimeSerializer(required=False)
    script = serializers.CharField(
        required=False, allow_blank=True, help_text="Python defining main(**kwargs)."
    )
    capabilities = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="What the tool can do, each with its patterns (estimates, policy, ...).",
    )


class PartialDefinitionSerializer(DefinitionSerializer):
    """Some top-level fields of a definition: each replaces the field of the version edited."""

    name = serializers.RegexField(NAME_PATTERN, max_length=64, required=False)
    description = serializers.CharField(required=False)
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    category = serializers.CharField(required=False)


class _ObjectField(serializers.JSONField):
    """Any JSON object, kept as it came: checked later by the service."""

    default_error_messages = {"not_object": "Send an object (a mapping of field names)."}

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_object")
        return value


@extend_schema_field(DefinitionSerializer)
class DefinitionField(_ObjectField):
    pass


@extend_schema_field(PartialDefinitionSerializer)
class PartialDefinitionField(_ObjectField):
    pass


# -- tools ---------------------------------------------------------------------------------


class ToolSummarySerializer(serializers.Serializer):
    """One tool in a list."""

    name = serializers.CharField()
    description = serializers.CharField()
    platform = serializers.CharField()
    category = serializers.CharField()
    status = serializers.ChoiceField(choices=ToolStatus.choices)
    enabled = serializers.BooleanField()
    archived = serializers.BooleanField()
    version = serializers.CharField(
        allow_null=True, help_text="The current version; null until one is published."
    )
    tags = serializers.ListField(child=serializers.CharField())
    updated_at = serializers.DateTimeField()

    def to_representation(self, tool: Tool) -> dict[str, Any]:
        tags = getattr(tool, "tag_list", None)
        current = tool.current_version
        return {
            "name": tool.name,
            "description": tool.description,
            "platform": tool.platform,
            "category": tool.category,
            "status": tool.status,
            "enabled": tool.enabled,
            "archived": tool.archived_at is not None,
            "version": current.version if current is not None else None,
            "tags": [t.name for t in tags]
            if tags is not None
            else list(current.tags)
            if current is not None
            else [],
            "updated_at": serializers.DateTimeField().to_representation(tool.updated_at),
        }


class DraftSerializer(serializers.Serializer):
    version = serializers.CharField()
    definition = DefinitionField(help_text="The draft's content, without the tool's own fields.")


class ToolDetailSerializer(serializers.Serializer):
    """A tool: its own fields, its current definition and, when one waits, its draft.

    An edit is based on the head: the draft when there is one, else the current version.
    The ETag header (also ``etag`` here) names the head."""

    name = serializers.CharField()
    description = serializers.CharField()
    platform = serializers.CharField()
    category = serializers.CharField()
    status = serializers.ChoiceField(choices=ToolStatus.choices)
    enabled = serializers.BooleanField()
    archived = serializers.BooleanField()
    archived_at = serializers.DateTimeField(allow_null=True)
    owners = serializers.ListField(child=serializers.CharField())
    current_version = serializers.CharField(allow_null=True)
    head_version = serializers.CharField(
        allow_null=True, help_text="The version the next edit must be based on."
    )
    etag = serializers.CharField(help_text="Send it back as If-Match when editing.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    definition = DefinitionField(
        allow_null=True,
        help_text="The current version's definition with the tool's fields; null until "
        "a version is published.",
    )
    draft = DraftSerializer(allow_null=True, help_text="The draft waiting to be published.")


class VersionSerializer(serializers.Serializer):
    """One version of a tool, without its content."""

    version = serializers.CharField()
    state = serializers.ChoiceField(choices=VersionState.choices)
    parent = serializers.CharField(allow_null=True, help_text="The version it was edited from.")
    content_hash = serializers.CharField()
    is_current = serializers.BooleanField()
    is_head = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    published_by = serializers.CharField(allow_null=True)

    def to_representation(self, version: ToolVersion) -> dict[str, Any]:
        tool = version.tool
        stamp = serializers.DateTimeField().to_representation
        parent = getattr(version, "parent_number", None)
        return {
            "version": version.version,
            "state": version.state,
            "parent": parent,
            "content_hash": version.content_hash,
            "is_current": version.pk == tool.current_version_id,
            "is_head": version.pk == tool.head_version_id,
            "created_at": stamp(version.created_at),
            "created_by": version.created_by.get_username() if version.created_by else None,
            "published_at": stamp(version.published_at) if version.published_at else None,
            "published_by": version.published_by.get_username() if version.published_by else None,
        }


class VersionDetailSerializer(VersionSerializer):
    """One version with its content."""

    definition = DefinitionField(help_text="The version's definition (no tool fields).")


# -- requests ------------------------------------------------------------------------------


class ToolCreateSerializer(ReasonSerializer):
    definition = DefinitionField()
    publish = serializers.BooleanField(
        required=False, default=False, help_text="Publish the first version at once."
    )


class ToolUpdateSerializer(ReasonSerializer):
    definition = DefinitionField(
        help_text="The whole new definition; the name may be left out. Tool fields (status, "
        "enabled, archived, owners) are changed by their own endpoints, not by an edit."
    )
    base_version = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The version this edit is based on, when no If-Match header is sent.",
    )
    publish = serializers.BooleanField(
        required=False, default=False, help_text="Publish the new version at once."
    )


class ToolPatchSerializer(ToolUpdateSerializer):
    definition = PartialDefinitionField(  # type: ignore[assignment]
        help_text="Only the top-level fields to change; the rest is kept from the version "
        "the edit is based on."
    )


class PublishSerializer(ReasonSerializer):
    version = serializers.CharField(
        required=False, max_length=64, help_text="The draft to publish; by default the newest."
    )


class RollbackSerializer(serializers.Serializer):
    to_version = serializers.CharField(max_length=64, help_text="A version published before.")
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, help_text="Why; required.")


class ValidateSerializer(serializers.Serializer):
    definition = DefinitionField()


class FieldErrorSerializer(serializers.Serializer):
    path = serializers.CharField()
    message = serializers.CharField()


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = FieldErrorSerializer(many=True)
    normalized = serializers.DictField(
        allow_null=True, help_text="The definition with every default filled in; null if invalid."
    )


# -- capabilities and patterns -------------------------------------------------------------


class CapabilitySerializer(serializers.Serializer):
    name = serializers.CharField()
    tools = serializers.IntegerField(help_text="How many tools' current versions have it.")


class PolicySerializer(serializers.Serializer):
    max_cost = serializers.FloatField(allow_null=True)
    requires_approval = serializers.BooleanField()
    production_safe = serializers.BooleanField()


class PreferencesSerializer(serializers.Serializer):
    speed = serializers.FloatField()
    accuracy = serializers.FloatField()
    cost = serializers.FloatField()
    complexity = serializers.FloatField()
    completeness = serializers.FloatField()


class PatternSerializer(serializers.Serializer):
    """One way of using a capability of a tool's current version."""

    tool = serializers.CharField()
    version = serializers.CharField()
    capability = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    typical_use_cases = serializers.ListField(child=serializers.CharField())
    time_estimate_ms = serializers.CharField(help_text="An expression, e.g. '200 + 2 * N'.")
    cost_estimate = serializers.CharField()
    complexity_score = serializers.FloatField()
    scope = serializers.CharField()
    completeness = serializers.CharField()
    limitations = serializers.ListField(child=serializers.CharField())
    policy = PolicySerializer()
    preference_match = PreferencesSerializer()
    required_inputs = serializers.ListField(child=serializers.CharField())
    expected_outputs = serializers.ListField(child=serializers.CharField())

    def to_representation(self, p: Any) -> dict[str, Any]:
        pattern = pattern_definition(p)
        # This listing leaves out what only planning needs.
        del pattern["context_variables"], pattern["examples"]
        return {
            "tool": p.capability.version.tool.name,
            "version": p.capability.version.version,
            "capability": p.capability.name,
            **pattern,
        }


# -- import --------------------------------------------------------------------------------


class ImportItemSerializer(serializers.Serializer):
    name = serializers.CharField()
    source = serializers.CharField(help_text="The file (and #position in it) it came from.")
    action = serializers.ChoiceField(choices=["new", "changed", "unchanged", "refused"])
    version = serializers.CharField(help_text="The version it becomes (or stays at).")
    previous_version = serializers.CharField(allow_null=True)
    changes = serializers.DictField(
        help_text="Field path -> [old, new] for every change, tool fields included."
    )
    note = serializers.CharField(help_text="Anything to know, e.g. the version chosen.")


class ImportProblemSerializer(serializers.Serializer):
    file = serializers.CharField()
    tool = serializers.CharField(help_text="The tool's name as the file gives it.")
    path = serializers.CharField()
    message = serializers.CharField()


class ImportCountsSerializer(serializers.Serializer):
    new = serializers.IntegerField()
    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    refused = serializers.IntegerField(help_text="Tools with problems.")
    problems = serializers.IntegerField()


class ImportReportSerializer(serializers.Serializer):
    """What an import did, or with ``dry_run`` would do: the wizard's preview."""

    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField(help_text="Whether anything was written.")
    counts = ImportCountsSerializer()
    items = ImportItemSerializer(many=True)
    problems = ImportProblemSerializer(
        many=True, help_text="Only in a dry run: with any, the import would be refused."
    )
    warnings = ImportProblemSerializer(many=True)
    refused = ImportProblemSerializer(
        many=True, help_text="With partial: the problems of the tools left out."
    )
    partial = serializers.BooleanField()


class ImportUploadSerializer(serializers.Serializer):
    """A multipart upload: YAML, JSON or zip files under ``files``."""

    files = serializers.ListField(child=serializers.FileField())
    reason = serializers.CharField(required=False, max_length=REASON_MAX_LENGTH)


# -- audit ---------------------------------------------------------------------------------


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="The user's name, or 'system'.")
    ip = serializers.CharField(allow_null=True)
    action = serializers.ChoiceField(choices=AuditAction.choices)
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    object = serializers.CharField(help_text="What was changed, in words.")
    tool = serializers.CharField(allow_null=True, help_text="The tool's name, if it still exists.")
    changes = serializers.DictField(help_text="Field -> [old, new].")
    reason = serializers.CharField()

    def to_representation(self, entry: AuditLog) -> dict[str, Any]:
        return {
            "id": entry.pk,
            "created_at": serializers.DateTimeField().to_representation(entry.created_at),
            "actor": entry.actor_name or "system",
            "ip": entry.ip,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "object": entry.object_repr,
            "tool": entry.tool.name if entry.tool is not None else None,
            "changes": entry.changes,
            "reason": entry.reason,
        }


@extend_schema_field(OpenApiTypes.BINARY)
class _Binary(serializers.Field):
    pass
