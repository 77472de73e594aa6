"""The audit row every change writes, whichever app makes the change."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from catalog.models import AuditLog, Tenant, Tool
from catalog.permissions import Actor


def audit(
    tenant: Tenant,
    *,
    actor: Actor,
    action: str,
    obj: Any,
    tool: Tool | None,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    ip: str | None = None,
    save: bool = True,
) -> AuditLog:
    entry = AuditLog(
        tenant=tenant,
        # Set here, not by the database default: bulk inserts of imports then send a
        # value instead of building a Now() expression per row.
        created_at=timezone.now(),
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "system",
        ip=ip or None,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(obj.pk or ""),
        object_repr=str(obj)[:200],
        tool=tool,
        changes=changes or {},
        reason=reason,
    )
    if save:
        entry.save()
    return entry
