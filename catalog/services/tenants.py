"""Tenants and memberships."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog import sandbox_limits
from catalog.definitions.problems import DefinitionInvalid, FieldError
from catalog.models import (
    AuditAction,
    Membership,
    Role,
    SandboxLimits,
    Tenant,
)
from catalog.permissions import Actor, require_role
from catalog.services.audit import audit
from catalog.services.members import add_member, change_member_role

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
    """Give a user a role in a tenant (admins only): adds them, or changes their role by
    the same rules as the Members page (the last admin stays, keys are lowered)."""
    require_role(actor, tenant, Role.ADMIN)
    membership = Membership.objects.filter(user=user, tenant=tenant).first()
    if membership is None:
        return add_member(tenant, user=user, role=role, actor=actor, reason=reason, ip=ip)
    return change_member_role(membership, role=role, actor=actor, reason=reason, ip=ip)


# -- what the tenant's scripts may have --------------------------------------------------


class StaleLimits(ValidationError):
    """An edit of the limits based on an older revision than the saved one."""

    def __init__(self, row: SandboxLimits, revision: int) -> None:
        self.row = row
        super().__init__(
            {
                "revision": [
                    f"someone changed these limits since you opened them (they are at "
                    f"revision {row.revision}, you had {revision}); reload to see their "
                    "change, then make yours again"
                ]
            }
        )


def sandbox_limits_of(tenant: Tenant) -> SandboxLimits:
    """The tenant's own limits (not saved when it has none yet: the machine's apply)."""
    return SandboxLimits.objects.filter(tenant=tenant).first() or SandboxLimits(tenant=tenant)


@transaction.atomic
def set_sandbox_limits(
    tenant: Tenant,
    *,
    network: bool,
    internal_networks: list[str] | None,
    max_memory_mb: int | None,
    revision: int,
    actor: Actor,
    reason: str = "",
    ip: str | None = None,
) -> SandboxLimits:
    """Narrow what the tenant's scripts may have (admins only). ``revision`` is the one the
    admin read: when someone changed the limits since, nothing is saved."""
    require_role(actor, tenant, Role.ADMIN)
    row, _ = SandboxLimits.objects.select_for_update().get_or_create(tenant=tenant)
    if revision != row.revision:
        raise StaleLimits(row, revision)
    errors = sandbox_limits.check(
        network=network, internal_networks=internal_networks, max_memory_mb=max_memory_mb
    )
    if internal_networks is not None and len(internal_networks) > MAX_INTERNAL_NETWORKS:
        errors.append(FieldError("internal_networks", f"at most {MAX_INTERNAL_NETWORKS} networks"))
    if errors:
        raise DefinitionInvalid(errors)
    wanted = {
        "network": network,
        "internal_networks": None
        if internal_networks is None
        else sandbox_limits.normalised(internal_networks),
        "max_memory_mb": max_memory_mb,
    }
    changes = {
        name: [getattr(row, name), value]
        for name, value in wanted.items()
        if getattr(row, name) != value
    }
    if not changes:
        return row
    for name, value in wanted.items():
        setattr(row, name, value)
    row.revision += 1
    row.save()
    audit(
        tenant,
        actor=actor,
        action=AuditAction.SANDBOX_LIMITS,
        obj=row,
        tool=None,
        changes=changes,
        reason=reason,
        ip=ip,
    )
    return row


MAX_INTERNAL_NETWORKS = 64
