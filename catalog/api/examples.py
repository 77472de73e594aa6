"""Example requests and responses shown in the OpenAPI description of the resource
endpoints (one place, so that the same disk_usage tool runs through all of them)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

DEFINITION: dict[str, Any] = {
    "name": "disk_usage",
    "version": "1.2.0",
    "description": "Report disk usage per mount point, largest first.",
    "platform": "linux",
    "category": "monitoring",
    "status": "active",
    "enabled": True,
    "archived": False,
    "owners": ["alice"],
    "tags": ["capacity", "storage"],
    "defaults": {"freshness": "live"},
    "dependencies": [{"name": "df", "type": "binary", "required": True}],
    "metadata": {"author": "ops-team"},
    "input_schema": {
        "type": "object",
        "properties": {
            "threshold_pct": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "default": 80,
                "description": "Only report mounts at least this full.",
            }
        },
        "additionalProperties": False,
    },
    "output_schema": {"type": "object", "properties": {"mounts": {"type": "array"}}},
    "runtime": {"kind": "script", "timeout_s": 30.0, "memory_mb": 256, "network": False},
    "script": "def main(threshold_pct: int = 80) -> dict:\n    return {'mounts': []}\n",
    "capabilities": [
        {
            "name": "disk_capacity_check",
            "description": "Find file systems running out of space.",
            "patterns": [
                {
                    "name": "all_mounts",
                    "description": "Scan every mounted file system once.",
                    "typical_use_cases": ["is the disk full"],
                    "context_variables": {"N": {"description": "mount points", "sample": 12}},
                    "time_estimate_ms": "200 + 2 * N",
                    "cost_estimate": "1",
                    "complexity_score": 0.2,
                    "policy": {"max_cost": 5, "requires_approval": False},
                }
            ],
        }
    ],
}
NEW_DEFINITION = {
    key: value
    for key, value in DEFINITION.items()
    if key not in ("version", "status", "enabled", "archived", "owners")
}
VERSION_FIELDS = {
    key: value
    for key, value in DEFINITION.items()
    if key not in ("status", "enabled", "archived", "owners")
}

TOOL_LIST = OpenApiExample(
    "A tool in a list",
    value={
        "name": "disk_usage",
        "description": "Report disk usage per mount point, largest first.",
        "platform": "linux",
        "category": "monitoring",
        "status": "active",
        "enabled": True,
        "archived": False,
        "version": "1.2.0",
        "tags": ["capacity", "storage"],
        "updated_at": "2025-02-01T09:30:00Z",
    },
    response_only=True,
)

TOOL_DETAIL = OpenApiExample(
    "A tool",
    value={
        "name": "disk_usage",
        "description": "Report disk usage per mount point, largest first.",
        "platform": "linux",
        "category": "monitoring",
        "status": "active",
        "enabled": True,
        "archived": False,
        "archived_at": None,
        "owners": ["alice"],
        "current_version": "1.2.0",
        "head_version": "1.2.0",
        "etag": '"412-9c1f0e7a2b3d"',
        "created_at": "2025-01-20T08:00:00Z",
        "updated_at": "2025-02-01T09:30:00Z",
        "definition": DEFINITION,
        "draft": None,
    },
    response_only=True,
)

VERSION = {
    "version": "1.2.0",
    "state": "published",
    "parent": "1.1.0",
    "content_hash": "9c1f0e7a2b3d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6",
    "is_current": True,
    "is_head": True,
    "created_at": "2025-02-01T09:00:00Z",
    "created_by": "alice",
    "published_at": "2025-02-01T09:30:00Z",
    "published_by": "alice",
}
VERSION_LIST = OpenApiExample("A version", value=VERSION, response_only=True)
VERSION_DETAIL = OpenApiExample(
    "A version with its content",
    value={**VERSION, "definition": VERSION_FIELDS},
    response_only=True,
)

CREATE_REQUEST = OpenApiExample(
    "Create and publish",
    value={"definition": NEW_DEFINITION, "reason": "new monitoring tool", "publish": True},
    request_only=True,
)
UPDATE_REQUEST = OpenApiExample(
    "Replace the definition",
    value={
        "definition": {**NEW_DEFINITION, "description": "Disk usage per mount, fullest first."},
        "base_version": "1.2.0",
        "reason": "clearer description",
        "publish": False,
    },
    request_only=True,
)
PATCH_REQUEST = OpenApiExample(
    "Change one field",
    value={
        "definition": {"description": "Disk usage per mount, fullest first."},
        "reason": "clearer description",
        "publish": True,
    },
    request_only=True,
)
PUBLISH_REQUEST = OpenApiExample(
    "Publish the waiting draft",
    value={"reason": "reviewed by bob"},
    request_only=True,
)
ROLLBACK_REQUEST = OpenApiExample(
    "Roll back",
    value={"to_version": "1.1.0", "reason": "1.2.0 times out on NFS mounts"},
    request_only=True,
)
REASON_REQUEST = OpenApiExample(
    "With a reason",
    value={"reason": "replaced by disk_report"},
    request_only=True,
)
VALIDATE_REQUEST = OpenApiExample(
    "A definition to check",
    value={"definition": {**NEW_DEFINITION, "platform": "solaris"}},
    request_only=True,
)
VALIDATION_RESULT = OpenApiExample(
    "Invalid",
    value={
        "valid": False,
        "errors": [
            {
                "path": "platform",
                "message": "must be one of: linux, windows, network, scheduler, custom",
            }
        ],
        "normalized": None,
    },
    response_only=True,
)

CAPABILITY = OpenApiExample(
    "A capability",
    value={"name": "disk_capacity_check", "tools": 3},
    response_only=True,
)
PATTERN = OpenApiExample(
    "A pattern",
    value={
        "tool": "disk_usage",
        "version": "1.2.0",
        "capability": "disk_capacity_check",
        "name": "all_mounts",
        "description": "Scan every mounted file system once.",
        "typical_use_cases": ["is the disk full"],
        "time_estimate_ms": "200 + 2 * N",
        "cost_estimate": "1",
        "complexity_score": 0.2,
        "scope": "host",
        "completeness": "full",
        "limitations": ["network mounts may hang"],
        "policy": {"max_cost": 5.0, "requires_approval": False, "production_safe": True},
        "preference_match": {
            "speed": 0.9,
            "accuracy": 1.0,
            "cost": 0.9,
            "complexity": 0.8,
            "completeness": 1.0,
        },
        "required_inputs": [],
        "expected_outputs": ["mount", "used_pct", "free_bytes"],
    },
    response_only=True,
)

IMPORT_YAML = OpenApiExample(
    "YAML body",
    value="name: disk_usage\ndescription: Report disk usage per mount point.\n"
    "platform: linux\ncategory: monitoring\n",
    media_type="application/yaml",
    request_only=True,
)
IMPORT_JSON = OpenApiExample(
    "JSON body: a list of definitions",
    value=[NEW_DEFINITION],
    media_type="application/json",
    request_only=True,
)
IMPORT_REPORT = OpenApiExample(
    "A dry run",
    value={
        "dry_run": True,
        "applied": False,
        "counts": {"new": 1, "changed": 1, "unchanged": 0, "problems": 0},
        "items": [
            {
                "name": "disk_usage",
                "source": "request.yaml#1",
                "action": "changed",
                "version": "1.2.1",
                "previous_version": "1.2.0",
                "changes": {
                    "description": ["Report disk usage.", "Report disk usage per mount point."],
                    "version": ["1.2.0", "1.2.1"],
                },
            },
            {
                "name": "dns_lookup",
                "source": "request.yaml#2",
                "action": "new",
                "version": "1.0.0",
                "previous_version": None,
                "changes": {},
            },
        ],
        "problems": [],
        "warnings": [],
    },
    response_only=True,
)

AUDIT_ENTRY = OpenApiExample(
    "An audit entry",
    value={
        "id": 981,
        "created_at": "2025-02-01T09:30:00Z",
        "actor": "alice",
        "ip": "10.0.0.7",
        "action": "publish",
        "object_type": "toolversion",
        "object_id": "412",
        "object": "disk_usage 1.2.0",
        "tool": "disk_usage",
        "changes": {"current_version": ["1.1.0", "1.2.0"]},
        "reason": "reviewed by bob",
    },
    response_only=True,
)

EXPORT_YAML = OpenApiExample(
    "YAML",
    value=[DEFINITION],
    media_type="application/yaml",
    response_only=True,
)
EXPORT_JSON = OpenApiExample(
    "JSON",
    value=[DEFINITION],
    media_type="application/json",
    response_only=True,
)
