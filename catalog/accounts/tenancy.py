"""Which tenant a signed-in user is working in, and with which role."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from catalog.models import Membership, Role, Tenant

SESSION_KEY = "quiver_tenant"


class TenantRequest(HttpRequest):
    """A request that passed TenantMiddleware (and, in views, a role check)."""

    user: User
    tenant: Tenant
    role: str
    tenants: list[tuple[Tenant, str]]
    htmx: HtmxDetails


def tenants_of(user: User | AnonymousUser) -> list[tuple[Tenant, str]]:
    """Every tenant the user may work in, with their role there, by name."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return [(tenant, Role.ADMIN) for tenant in Tenant.objects.order_by("name")]
    memberships = (
        Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")
    )
    return [(m.tenant, m.role) for m in memberships]


class TenantMiddleware:
    """Sets ``request.tenant`` and ``request.role`` from the session's chosen tenant.

    A user in several tenants switches with the switcher in the navigation bar; one
    who belongs to none gets ``tenant = None`` and sees only an explanation.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenants = tenants_of(request.user)
        chosen = request.session.get(SESSION_KEY) if tenants else None
        current = next((pair for pair in tenants if pair[0].slug == chosen), None)
        if current is None and tenants:
            current = tenants[0]
        request.tenants = tenants  # type: ignore[attr-defined]
        request.tenant = current[0] if current else None  # type: ignore[attr-defined]
        request.role = current[1] if current else None  # type: ignore[attr-defined]
        return self.get_response(request)
