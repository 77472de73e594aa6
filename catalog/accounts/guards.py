"""Guards every catalog page uses: signed in, working in a tenant, holding a role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django_htmx.http import HttpResponseClientRedirect

from catalog.models import Role

# HttpResponseBase: downloads are StreamingHttpResponses.
View = Callable[..., HttpResponseBase]


def role_required(role: str = Role.VIEWER) -> Callable[[View], View]:
    """Signed in, with a tenant, holding at least ``role`` there; else 403.

    The view gets a ``TenantRequest``: ``request.tenant`` and ``request.role`` are set.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return to_sign_in(request)
            tenant = getattr(request, "tenant", None)
            if tenant is None:
                return render(request, "catalog/no_tenant.html", status=403)
            if Role.rank(request.role) < Role.rank(role):  # type: ignore[attr-defined]
                raise PermissionDenied(f"This needs the {role} role in {tenant.name}.")
            return view(request, *args, **kwargs)

        return guarded

    return decorator


def to_sign_in(request: HttpRequest) -> HttpResponseBase:
    """To the sign-in page, and back here after it. An htmx request (its session ended in
    another tab, or expired) sends the whole browser there and back to the page it was on,
    instead of having the sign-in page swapped into a fragment of the page."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return redirect_to_login(request.get_full_path())
    back = htmx.current_url_abs_path or request.get_full_path()
    return HttpResponseClientRedirect(redirect_to_login(back).url)


def client_ip(request: HttpRequest) -> str:
    """The address audit rows and sign-in throttling record.

    REMOTE_ADDR is the peer; behind a trusted proxy (BEHIND_TLS_PROXY) a deployment
    should set it from X-Forwarded-For in the proxy itself.
    """
    return request.META.get("REMOTE_ADDR", "") or ""
