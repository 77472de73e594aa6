"""The changes of a tool's state, tabled once: the service that makes each, the role it
needs, when it applies, and its words for one tool and for many. The tool page offers
them as buttons, the tool list as bulk actions, and the API as verbs
(``POST /api/v1/tools/{name}/disable``), all from ``STATE_CHANGES``; ``change_states`` is the
bulk change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction
from django.db.models import QuerySet

from catalog.models import Role, Tool, ToolStatus
from catalog.permissions import Actor
from catalog.services.tools import (
    archive_tool,
    deprecate_tool,
    disable_tool,
    enable_tool,
    restore_tool,
    set_tool_status,
)


@dataclass(frozen=True)
class StateChange:
    """One change of a tool's state."""

    key: str  # also the API's verb and the page's form value
    label: str  # "Disable": the button, the bulk action, the API's summary
    role: str  # operators enable and disable any tool; the rest need the right to change it
    holds: Callable[[Tool], bool]  # the state it makes is already there
    done: str  # "disabled", as in "2 tools disabled"
    does: str  # on the tool page, before and after: "Agents will no longer see {name}..."
    about: str  # in the API's description
    service: Callable[..., Tool] = field(repr=False)
    consequence: tuple[str, str] = ("", "")  # in the bulk confirmation: one tool, several
    button: str = "btn"  # the tool page's button
    danger: bool = False  # the bulk confirmation asks with a red button
    in_bulk: bool = False  # offered by the tool list for many tools at once
    in_api: bool = True  # a verb of the API
    for_archived: bool = False  # applies to archived tools (and only to them)

    @property
    def any_tool(self) -> bool:
        """Operators' changes apply to any tool; editors' only to the tools they may change."""
        return self.role == Role.OPERATOR

    def applies(self, tool: Tool) -> bool:
        """It would change something now: the tool is not so already, and archived tools
        take only what brings them back."""
        return tool.is_archived == self.for_archived and not self.holds(tool)

    def allowed(self, role: str) -> bool:
        return Role.rank(role) >= Role.rank(self.role)


STATE_CHANGES: dict[str, StateChange] = {
    change.key: change
    for change in (
        StateChange(
            key="enable",
            label="Enable",
            role=Role.OPERATOR,
            holds=lambda tool: tool.enabled,
            done="enabled",
            does="Agents can find and run {name} again.",
            about="Let agents find and run the tool again (operators and up, any tool).",
            consequence=(
                "Agents will be able to use it again.",
                "Agents will be able to use them again.",
            ),
            button="btn-success",
            in_bulk=True,
            service=enable_tool,
        ),
        StateChange(
            key="disable",
            label="Disable",
            role=Role.OPERATOR,
            holds=lambda tool: not tool.enabled,
            done="disabled",
            does="Agents will no longer see or run {name}. Nothing else changes; "
            "you can enable it again at any time.",
            about="Hide the tool from agents; nothing else changes (operators and up, any tool).",
            consequence=(
                "Agents will stop seeing it until it is enabled again.",
                "Agents will stop seeing them until they are enabled again.",
            ),
            danger=True,
            in_bulk=True,
            service=disable_tool,
        ),
        StateChange(
            key="activate",
            label="Mark active",
            role=Role.EDITOR,
            holds=lambda tool: tool.status == ToolStatus.ACTIVE,
            done="marked active",
            does="{name} is marked active: ready for everyday use.",
            about="Mark the tool as ready for everyday use.",
            in_api=False,
            service=partial(set_tool_status, status=ToolStatus.ACTIVE),
        ),
        StateChange(
            key="testing",
            label="Mark as testing",
            role=Role.EDITOR,
            holds=lambda tool: tool.status == ToolStatus.TESTING,
            done="marked as testing",
            does="{name} is marked as testing: it still runs, and people see it is being "
            "tried out.",
            about="Mark the tool as being tried out; it still runs.",
            in_api=False,
            service=partial(set_tool_status, status=ToolStatus.TESTING),
        ),
        StateChange(
            key="deprecate",
            label="Deprecate",
            role=Role.EDITOR,
            holds=lambda tool: tool.status == ToolStatus.DEPRECATED,
            done="deprecated",
            does="{name} is marked as deprecated: it still runs while enabled, but is on its "
            "way out. Disable it too when nothing should use it any more.",
            about="Mark the tool as on its way out; it still runs while enabled.",
            consequence=(
                "It keeps working, but is marked as deprecated so that people move to "
                "something else.",
                "They keep working, but are marked as deprecated so that people move to "
                "something else.",
            ),
            in_bulk=True,
            service=deprecate_tool,
        ),
        StateChange(
            key="archive",
            label="Archive",
            role=Role.EDITOR,
            holds=lambda tool: tool.is_archived,
            done="archived",
            does="{name} is hidden from agents and from the tool list. Its versions and "
            "history are kept, and you can restore it later.",
            about="Hide the tool everywhere, keeping its versions and history; restorable.",
            button="btn-danger",
            danger=True,
            service=archive_tool,
        ),
        StateChange(
            key="restore",
            label="Restore",
            role=Role.EDITOR,
            holds=lambda tool: not tool.is_archived,
            done="restored",
            does="{name} comes back to the tool list, as it was before it was archived.",
            about="Bring an archived tool back.",
            button="btn-primary",
            for_archived=True,
            service=restore_tool,
        ),
    )
}


@dataclass
class StateOutcome:
    """What a bulk change did: the tools it changed and those already so."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def message(self, change: StateChange) -> str:
        """E.g. "2 tools disabled, 1 was already disabled." """
        parts = [f"{_tools(len(self.changed))} {change.done}"]
        if self.unchanged:
            was = "was" if len(self.unchanged) == 1 else "were"
            parts.append(f"{len(self.unchanged)} {was} already {change.done}")
        return ", ".join(parts) + "."


def _tools(count: int) -> str:
    return f"{count:,} tool" + ("" if count == 1 else "s")


def change_states(
    change: StateChange,
    tools: QuerySet[Tool],
    *,
    actor: Actor,
    reason: str = "",
    ip: str | None = None,
) -> StateOutcome:
    """Make one state change to many tools through its service, all or nothing.

    Tools already so are left alone (no audit row); one tool the actor may not change
    (PermissionDenied) stops the whole batch.
    """
    outcome = StateOutcome()
    with transaction.atomic():
        for tool in tools.select_for_update().order_by("name"):
            if change.holds(tool):
                outcome.unchanged.append(tool.name)
                continue
            change.service(tool, actor=actor, reason=reason, ip=ip)
            outcome.changed.append(tool.name)
    return outcome
