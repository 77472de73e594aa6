"""What the navigation bar needs from telemetry: how many runs wait for an admin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from catalog.models import Role
from telemetry.selectors import awaiting_approval


def approvals(request: HttpRequest) -> dict[str, Any]:
    """``runs_awaiting_approval``: the tenant's runs waiting for approval, for admins only.

    Lazy, so that the one COUNT runs only when a template shows it (full pages), never
    for the fragments htmx polls for."""
    tenant = getattr(request, "tenant", None)
    role = getattr(request, "role", None)
    if tenant is None or not role or Role.rank(role) < Role.rank(Role.ADMIN):
        return {}

    def count() -> int:
        return awaiting_approval(tenant).count()

    return {"runs_awaiting_approval": SimpleLazyObject(count)}
