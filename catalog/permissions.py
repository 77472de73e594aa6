"""Who may do what in a tenant: a user's role, and the rights that follow from it.

Every service checks rights here, whichever app it belongs to; pages and the API ask
the same functions to decide what to offer. The system (no user) and superusers act as
admins.
"""

from __future__ import annotations

from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied

from catalog.models import Membership, Role, Tenant, Tool

# Who acts: a user, or None for the system (commands, the sample catalog, the reaper).
Actor = AuthUser | None


def role_of(actor: Actor, tenant: Tenant) -> str | None:
    """The actor's role in a tenant; the system and superusers act as admins."""
    if actor is None or getattr(actor, "is_superuser", False):
        return Role.ADMIN
    membership = Membership.objects.filter(user=actor, tenant=tenant).only("role").first()
    return membership.role if membership else None


def require_role(actor: Actor, tenant: Tenant, role: str) -> None:
    held = role_of(actor, tenant)
    if held is None or Role.rank(held) < Role.rank(role):
        raise PermissionDenied(f"This needs the {role} role in {tenant.slug}.")


def may_change_tool(actor: Actor, tool: Tool, *, role: str | None = None) -> bool:
    """Whether the actor may change the tool's content or lifecycle (not just enable it).

    Admins (the system and superusers too) change any tool; editors change the tools
    they own and the tools nobody owns; operators and viewers change none. ``role`` is
    the actor's role in the tool's tenant when the caller already knows it.
    """
    held = role if role is not None else role_of(actor, tool.tenant)
    if held is None or Role.rank(held) < Role.rank(Role.EDITOR):
        return False
    if held == Role.ADMIN or actor is None:
        return True
    owners = [user.pk for user in tool.owners.all()]
    return not owners or actor.pk in owners


def require_tool_change(actor: Actor, tool: Tool) -> None:
    """Refuse (PermissionDenied) a change the actor may not make to this tool."""
    held = role_of(actor, tool.tenant)
    if held is None or Role.rank(held) < Role.rank(Role.EDITOR):
        raise PermissionDenied(f"This needs the editor role in {tool.tenant.slug}.")
    if not may_change_tool(actor, tool, role=held):
        owners = ", ".join(sorted(u.get_username() for u in tool.owners.all()))
        raise PermissionDenied(
            f"Only its owners ({owners}) or an admin may change '{tool.name}'; "
            "editors change the tools they own."
        )
