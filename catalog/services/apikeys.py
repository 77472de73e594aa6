"""API keys: created by a member for themselves, revoked by them or a tenant admin."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import ApiKey, AuditAction, Role, Tenant
from catalog.permissions import Actor, role_of
from catalog.services.audit import audit

NAME_MAX = ApiKey._meta.get_field("name").max_length or 100


@transaction.atomic
def create_api_key(
    tenant: Tenant,
    *,
    name: str,
    role: str,
    actor: AuthUser,
    expires_at: datetime | None = None,
    max_role: str | None = None,
    ip: str | None = None,
) -> tuple[ApiKey, str]:
    """A key acting as ``actor`` in the tenant, with its token (returned once, never stored).

    The key's role may not exceed the actor's role, nor ``max_role`` when given (the
    effective role of a key that is itself creating keys).
    """
    held = role_of(actor, tenant)
    if held is None:
        raise PermissionDenied(f"You are not a member of {tenant.slug}.")
    cap = held if max_role is None else min(held, max_role, key=Role.rank)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the key a name that says which program uses it."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"Use at most {NAME_MAX} characters."]
    if role not in Role.values:
        errors["role"] = [f"'{role}' is not a role: use one of {', '.join(Role.values)}."]
    elif Role.rank(role) > Role.rank(cap):
        errors["role"] = [f"A key cannot have more rights than you: your role is {cap}."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise ValidationError(errors)
    prefix, secret, token = ApiKey.new_token()
    key = ApiKey.objects.create(
        tenant=tenant,
        name=name,
        role=role,
        created_by=actor,
        prefix=prefix,
        secret_hash=ApiKey.hash_secret(secret),
        expires_at=expires_at,
    )
    audit(
        tenant,
        actor=actor,
        action=AuditAction.KEY_CREATE,
        obj=key,
        tool=None,
        changes={
            "name": [None, name],
            "role": [None, role],
            "prefix": [None, prefix],
            "expires_at": [None, expires_at.isoformat() if expires_at else None],
        },
        ip=ip,
    )
    return key, token


@transaction.atomic
def revoke_api_key(key: ApiKey, *, actor: Actor, reason: str = "", ip: str | None = None) -> ApiKey:
    """Revoke a key at once (its creator or a tenant admin); revoking twice changes nothing."""
    key = ApiKey.objects.select_for_update().select_related("tenant").get(pk=key.pk)
    own = actor is not None and actor.pk == key.created_by_id
    if not own and role_of(actor, key.tenant) != Role.ADMIN:
        raise PermissionDenied("Only an admin can revoke another member's key.")
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.revoked_by = actor
    key.save(update_fields=["revoked_at", "revoked_by"])
    audit(
        key.tenant,
        actor=actor,
        action=AuditAction.KEY_REVOKE,
        obj=key,
        tool=None,
        changes={"revoked_at": [None, key.revoked_at.isoformat()]},
        reason=reason,
        ip=ip,
    )
    return key
