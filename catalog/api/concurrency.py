"""Edits name the version they are based on: the tool's ETag (its head version's id and
content hash) in If-Match, or ``base_version`` in the body. Missing both: 428. An ETag
that names no version of the tool: 412 here; a version that is no longer the head: 412
from the service (StaleEdit), which says what changed since."""

from __future__ import annotations

import re

from rest_framework.exceptions import ValidationError

from catalog.models import Tool, ToolVersion
from config.api.errors import PreconditionFailed, PreconditionRequired

ETAG = re.compile(r'^(?:W/)?"(\d{1,18})-([0-9a-f]{1,64})"$')


def etag_of(version: ToolVersion) -> str:
    """The tool's ETag: its head version's id and content hash."""
    return f'"{version.pk}-{version.content_hash[:12]}"'


def base_version_of(tool: Tool, if_match: str | None, base_version: str | None) -> ToolVersion:
    """The version an edit is based on, from If-Match or the body's base_version.

    Missing: 428. An ETag that names no version of this tool: 412. A version that is
    not the head any more is left to the service, whose StaleEdit says what changed.
    """
    from_etag = _version_from_etag(tool, if_match) if if_match else None
    if base_version:
        named = tool.versions.filter(version=base_version).first()
        if named is None:
            raise PreconditionFailed(
                f"'{tool.name}' has no version {base_version} (a discarded draft?); "
                f"it is now at {tool.head_version.version if tool.head_version else 'none'}."
            )
        if from_etag is not None and from_etag.pk != named.pk:
            raise ValidationError(
                {"base_version": ["names another version than the If-Match header"]}
            )
        return named
    if from_etag is None:
        raise PreconditionRequired()
    return from_etag


def _version_from_etag(tool: Tool, header: str) -> ToolVersion:
    tags = [tag.strip() for tag in header.split(",") if tag.strip()]
    if tags == ["*"]:
        raise PreconditionRequired(
            "If-Match: * is not accepted: send the ETag you read, so that nobody's change "
            "is overwritten unseen."
        )
    for tag in tags:
        match = ETAG.match(tag)
        if match is None:
            continue
        version = tool.versions.filter(pk=int(match.group(1))).first()
        if version is not None and etag_of(version) == f'"{match.group(1)}-{match.group(2)}"':
            return version
    now = etag_of(tool.head_version) if tool.head_version else "none"
    raise PreconditionFailed(
        f"If-Match {header[:100]} names no version of '{tool.name}'; its ETag is now {now}."
    )
