"""What every page's layout needs: the tenant, the user's role in it, and the version."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.http import HttpRequest

from catalog.models import Role


@cache
def quiver_version() -> str:
    try:
        return version("quiver")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "dev"


def navigation(request: HttpRequest) -> dict[str, Any]:
    role = getattr(request, "role", None)
    rank = Role.rank(role) if role else -1
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_role": role,
        "user_tenants": getattr(request, "tenants", []),
        "can_operate": rank >= Role.rank(Role.OPERATOR),
        "can_edit": rank >= Role.rank(Role.EDITOR),
        "is_tenant_admin": rank >= Role.rank(Role.ADMIN),
        "quiver_version": quiver_version(),
    }
