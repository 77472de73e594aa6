"""Tenants and memberships."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog.models import (
    AuditAction,
    Membership,
    Role,
    Tenant,
)
from catalog.services.base import (
    Actor,
    audit,
    require_role,
)

# -- tenants and members -----------------------------------------------------------------


@transaction.atomic
def create_tenant(
    *, slug: str, name: str = "", actor: Actor = None, ip: str | None = None
) -> Tenant:
    """A new tenant; its creator (if a user) becomes its admin."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", slug):
        raise ValidationError(
            {
                "slug": [
                    f"'{slug}' is not a valid tenant slug: use lower-case letters, digits and '-'"
                ]
            }
        )
    if Tenant.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"A tenant called '{slug}' already exists."]})
    tenant = Tenant.objects.create(slug=slug, name=name or slug.replace("-", " ").title())
    if actor is not None:
        set_membership(tenant, user=actor, role=Role.ADMIN, actor=None, ip=ip)
    return tenant


@transaction.atomic
def set_membership(
    tenant: Tenant, *, user: Any, role: str, actor: Actor, reason: str = "", ip: str | None = None
) -> Membership:
    """Give a user a role in a tenant (admins only)."""
    require_role(actor, tenant, Role.ADMIN)
    membership, created = Membership.objects.get_or_create(
        user=user, tenant=tenant, defaults={"role": role}
    )
    old = None if created else membership.role
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if old != role:
        audit(
            tenant,
            actor=actor,
            action=AuditAction.MEMBERSHIP,
            obj=membership,
            tool=None,
            changes={"role": [old, role]},
            reason=reason,
            ip=ip,
        )
    return membership
