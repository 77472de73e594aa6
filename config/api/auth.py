"""Who is calling the API: an API key (programs) or the browser's session.

A key acts as its creator in the key's tenant with the lower of the key's role and the
creator's current role there, so demoting or removing a member reins in their keys at
once. Authentication sets ``request.tenant`` and ``request.role`` on the Django request,
the same attributes TenantMiddleware sets for sessions (see config/api/permissions.py).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from catalog.models import ApiKey, Membership, Role
from config.api.permissions import role_at_least

# last_used_at is written at most this often per key, not on every request.
TOUCH_EVERY = timedelta(minutes=1)
KEY_HEADER = "HTTP_X_API_KEY"

# The default permission of every API view: signed in, in a tenant, viewer or more.
TenantMember = role_at_least(Role.VIEWER)


def token_of(request: Request) -> str | None:
    """The key a request presents: ``Authorization: Bearer <token>`` or ``X-API-Key``."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    return request.META.get(KEY_HEADER, "").strip() or None


def key_for_token(token: str) -> tuple[ApiKey, str]:
    """The usable key a token names and its effective role; AuthenticationFailed if none."""
    parts = ApiKey.split_token(token)
    if parts is None:
        raise AuthenticationFailed("Invalid API key.")
    prefix, secret = parts
    # One query: the key, its tenant and creator, and the creator's role in that tenant.
    creator_role = Membership.objects.filter(
        user=OuterRef("created_by"), tenant=OuterRef("tenant")
    ).values("role")[:1]
    key = (
        ApiKey.objects.select_related("tenant", "created_by")
        .annotate(creator_role=Subquery(creator_role))
        .filter(prefix=prefix)
        .first()
    )
    if key is None or not key.matches(secret):
        raise AuthenticationFailed("Invalid API key.")
    now = timezone.now()
    if key.is_revoked:
        raise AuthenticationFailed("This API key was revoked.")
    if key.is_expired(now):
        raise AuthenticationFailed("This API key has expired.")
    creator = key.created_by
    if not creator.is_active:
        raise AuthenticationFailed("This API key's owner is deactivated.")
    held = Role.ADMIN if creator.is_superuser else key.creator_role  # type: ignore[attr-defined]
    role = key.effective_role(held)
    if role is None:
        raise AuthenticationFailed("This API key's owner no longer belongs to its tenant.")
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key, role


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer qv_<prefix>_<secret>`` (or the ``X-API-Key`` header)."""

    def authenticate(self, request: Request) -> tuple[object, ApiKey] | None:
        token = token_of(request)
        if token is None:
            return None
        key, role = key_for_token(token)
        django_request = request._request
        django_request.tenant = key.tenant  # type: ignore[attr-defined]
        django_request.role = role  # type: ignore[attr-defined]
        django_request.tenants = [(key.tenant, role)]  # type: ignore[attr-defined]
        return key.created_by, key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated calls, naming the scheme.
        return 'Bearer realm="api"'
