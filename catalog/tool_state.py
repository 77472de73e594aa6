"""A tool's state in one vocabulary: one word for where it stands, one sentence for what
agents can do with it. Every page says it this way; nothing else combines the fields.

A tool has three switches (archived, the operator's enable/disable, and its lifecycle
status, where "disabled" hides it too) and may have no published version yet. Shown
side by side they contradicted each other ("Disabled" next to "Enabled: yes"); here they
become one state.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import Tool, ToolStatus


@dataclass(frozen=True)
class ToolState:
    key: str  # also the badge's class: badge-<key>
    label: str
    agents: str  # what agents can do with the tool, as a sentence
    usable: bool  # agents are offered it and it can be run


ARCHIVED = ToolState(
    "archived", "Archived", "Agents cannot see or run it: it is archived.", usable=False
)
DISABLED = ToolState(
    "disabled", "Disabled", "Agents cannot see or run it: it is disabled.", usable=False
)
UNPUBLISHED = ToolState(
    "draft", "Not published yet", "Agents cannot use it until a version is published.", usable=False
)
LIFECYCLE = {
    ToolStatus.ACTIVE: ToolState("active", "Active", "Agents can use it.", usable=True),
    ToolStatus.TESTING: ToolState(
        "testing", "Testing", "Agents can use it while it is being tested.", usable=True
    ),
    ToolStatus.DEPRECATED: ToolState(
        "deprecated",
        "Deprecated",
        "Agents can still use it, but it is on its way out.",
        usable=True,
    ),
}


def state_of(tool: Tool) -> ToolState:
    """The one state a tool is in, by precedence: archived, disabled, unpublished, lifecycle."""
    if tool.archived_at is not None:
        return ARCHIVED
    if not tool.enabled or tool.status == ToolStatus.DISABLED:
        return DISABLED
    if tool.current_version_id is None:
        return UNPUBLISHED
    return LIFECYCLE.get(ToolStatus(tool.status), DISABLED)
