"""The people of a tenant: add an existing login, create a new one, change a role, remove.

Admins only. A tenant always keeps at least one admin. A member's browser sessions and
API keys follow their membership at once: TenantMiddleware and API-key authentication
read the role on every request, so a removed member's open page has no tenant on its
next request; here their keys in the tenant are revoked (removed) or lowered to the new
role (demoted), so that a later promotion does not silently widen them again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from catalog.models import ApiKey, AuditAction, Membership, Role, Tenant
from catalog.permissions import Actor, require_role
from catalog.services.audit import audit

User = get_user_model()
LINK, PASSWORD = "link", "password"
FIRST_SIGN_IN = [
    (LINK, "A one-time link they open to choose their own password"),
    (PASSWORD, "A password Quiver makes up now"),
]


@dataclass
class NewLogin:
    """A login made for a new member, with how they sign in the first time: a generated
    password, or the two parts of a one-time set-password link (shown once, never stored)."""

    membership: Membership
    password: str = ""
    uid: str = ""
    token: str = ""


def find_login(identifier: str) -> Any:
    """The one existing login with this username or email; ValidationError if none or many."""
    identifier = (identifier or "").strip()
    if not identifier:
        raise ValidationError({"user": ["Give the username or email of their login."]})
    by_name = User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": identifier})
    users = list(by_name[:2]) or list(User.objects.filter(email__iexact=identifier)[:2])
    if not users:
        raise ValidationError(
            {
                "user": [
                    f"No login has the username or email '{identifier}'. To give them one, "
                    "create a new login instead."
                ]
            }
        )
    if len(users) > 1:
        raise ValidationError(
            {"user": [f"Several logins use '{identifier}'; give the username instead."]}
        )
    return users[0]


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError(
            {"role": [f"'{role}' is not a role: use one of {', '.join(Role.values)}."]}
        )


@transaction.atomic
def add_member(
    tenant: Tenant, *, user: Any, role: str, actor: Actor, reason: str = "", ip: str | None = None
) -> Membership:
    """Give an existing login a role in the tenant (admins only)."""
    require_role(actor, tenant, Role.ADMIN)
    _check_role(role)
    existing = Membership.objects.filter(tenant=tenant, user=user).first()
    if existing is not None:
        raise ValidationError(
            {
                "user": [
                    f"{user.get_username()} is already a member, as {existing.get_role_display()}"
                    "; change their role in the list instead."
                ]
            }
        )
    membership = Membership.objects.create(tenant=tenant, user=user, role=role)
    _audit(membership, actor=actor, changes={"role": [None, role]}, reason=reason, ip=ip)
    return membership


@transaction.atomic
def create_member(
    tenant: Tenant,
    *,
    username: str,
    email: str = "",
    role: str,
    first_sign_in: str = LINK,
    actor: Actor,
    reason: str = "",
    ip: str | None = None,
) -> NewLogin:
    """Make a new login and give it a role in the tenant (admins only). Every problem of
    the form is reported at once."""
    require_role(actor, tenant, Role.ADMIN)
    username, email = (username or "").strip(), (email or "").strip()
    errors: dict[str, list[str]] = {}
    username_field: Any = User._meta.get_field(User.USERNAME_FIELD)
    if not username:
        errors["username"] = ["Give the new login a username."]
    else:
        try:
            username_field.run_validators(username)
        except ValidationError as error:
            errors["username"] = list(error.messages)
        if "username" not in errors and len(username) > (username_field.max_length or 150):
            errors["username"] = [f"Use at most {username_field.max_length} characters."]
        if (
            "username" not in errors
            and User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": username}).exists()
        ):
            errors["username"] = [
                f"The username '{username}' is taken. If it is the person you mean, add "
                "them as someone who already has a login."
            ]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [f"'{email}' is not an email address."]
    if role not in Role.values:
        errors["role"] = [f"'{role}' is not a role: use one of {', '.join(Role.values)}."]
    if first_sign_in not in (LINK, PASSWORD):
        errors["first_sign_in"] = [f"Choose '{LINK}' or '{PASSWORD}'."]
    if errors:
        raise ValidationError(errors)
    user = User(**{User.USERNAME_FIELD: username}, email=email)
    new = NewLogin(membership=Membership(tenant=tenant, user=user, role=role))
    if first_sign_in == PASSWORD:
        new.password = secrets.token_urlsafe(12)
        user.set_password(new.password)
    else:
        user.set_unusable_password()
    user.save()
    new.membership.save()
    if first_sign_in == LINK:
        new.uid = urlsafe_base64_encode(force_bytes(user.pk))
        new.token = default_token_generator.make_token(user)
    _audit(
        new.membership,
        actor=actor,
        changes={"role": [None, role], "login": [None, f"new, first sign-in by {first_sign_in}"]},
        reason=reason,
        ip=ip,
    )
    return new


def may_get_a_new_link(membership: Membership) -> bool:
    """Whether an admin may give this member a new one-time set-password link: only a
    login that never signed in, has no password yet, and belongs to this tenant alone
    (an admin of one tenant must never be able to take over someone else's login)."""
    user = membership.user
    return (
        user.last_login is None
        and not user.has_usable_password()
        and not user.is_superuser
        and not user.is_staff
        and not Membership.objects.filter(user=user).exclude(pk=membership.pk).exists()
    )


@transaction.atomic
def renew_sign_in_link(membership: Membership, *, actor: Actor, ip: str | None = None) -> NewLogin:
    """A new one-time link for a member who never used theirs (admins only); an earlier
    link stops working, as the stored unusable password changes."""
    membership = _locked(membership)
    require_role(actor, membership.tenant, Role.ADMIN)
    if not may_get_a_new_link(membership):
        raise ValidationError(
            {
                "user": [
                    f"{membership.user.get_username()} has signed in or set a password "
                    "already: they change their password on their Account page."
                ]
            }
        )
    user = membership.user
    user.set_unusable_password()
    user.save(update_fields=["password"])
    _audit(
        membership,
        actor=actor,
        changes={"login": ["sign-in link unused", "new one-time link made"]},
        reason="",
        ip=ip,
    )
    return NewLogin(
        membership=membership,
        uid=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )


@transaction.atomic
def change_member_role(
    membership: Membership, *, role: str, actor: Actor, reason: str = "", ip: str | None = None
) -> Membership:
    """Give a member another role (admins only); their API keys in the tenant are lowered
    to it at once. The last admin stays an admin."""
    membership = _locked(membership)
    require_role(actor, membership.tenant, Role.ADMIN)
    _check_role(role)
    old = membership.role
    if old == role:
        return membership
    _not_a_server_admin(membership, f"make them {Role(role).label.lower()}")
    if old == Role.ADMIN:
        _keep_an_admin(membership, f"make them {Role(role).label.lower()}")
    membership.role = role
    membership.save(update_fields=["role"])
    changes: dict[str, Any] = {"role": [old, role]}
    higher = [r for r in Role.values if Role.rank(r) > Role.rank(role)]
    keys = _live_keys(membership).filter(role__in=higher)
    lowered = sorted(f"{key.name} ({key.role})" for key in keys)
    if lowered:
        keys.update(role=role)
        changes["api_keys"] = [", ".join(lowered), f"lowered to {role}"]
    _audit(membership, actor=actor, changes=changes, reason=reason, ip=ip)
    return membership


@transaction.atomic
def remove_member(
    membership: Membership, *, actor: Actor, reason: str = "", ip: str | None = None
) -> None:
    """Take a member out of the tenant (admins only) and revoke their API keys in it at
    once. The last admin cannot be removed."""
    membership = _locked(membership)
    require_role(actor, membership.tenant, Role.ADMIN)
    _not_a_server_admin(membership, "remove them")
    if membership.role == Role.ADMIN:
        _keep_an_admin(membership, "remove them")
    changes: dict[str, Any] = {"role": [membership.role, None]}
    keys = _live_keys(membership)
    revoked = sorted(key.name for key in keys)
    if revoked:
        keys.update(revoked_at=timezone.now(), revoked_by=actor)
        changes["api_keys"] = [", ".join(revoked), "revoked"]
    entry = _audit(membership, actor=actor, changes=changes, reason=reason, ip=ip, save=False)
    membership.delete()
    entry.save()


# -- helpers -------------------------------------------------------------------------------


def _locked(membership: Membership) -> Membership:
    """The membership row, locked, with the tenant's admin rows locked too: two admins
    demoting each other at once must not leave the tenant without one."""
    admins = Membership.objects.select_for_update().filter(
        tenant_id=membership.tenant_id, role=Role.ADMIN
    )
    list(admins.values_list("pk", flat=True))
    return (
        Membership.objects.select_for_update()
        .select_related("tenant", "user")
        .get(pk=membership.pk)
    )


def _keep_an_admin(membership: Membership, doing: str) -> None:
    others = (
        Membership.objects.filter(tenant=membership.tenant, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )
    if not others:
        name = membership.user.get_username()
        raise ValidationError(
            {
                "role": [
                    f"{name} is the last admin of {membership.tenant.name}: make someone else "
                    f"an admin first, then {doing}."
                ]
            }
        )


def _not_a_server_admin(membership: Membership, doing: str) -> None:
    """A superuser acts as an admin of every tenant whatever their membership says, so
    a lower role or a removal here would only look as if it took effect."""
    if membership.user.is_superuser:
        name = membership.user.get_username()
        raise ValidationError(
            {
                "role": [
                    f"{name} administers this whole Quiver server (the login made when it "
                    f"was set up), so they are an admin everywhere whatever their role here: "
                    f"you cannot {doing}. Give the work to another member instead."
                ]
            }
        )


def _live_keys(membership: Membership) -> Any:
    return ApiKey.objects.filter(
        tenant=membership.tenant, created_by=membership.user, revoked_at__isnull=True
    )


def _audit(
    membership: Membership,
    *,
    actor: Actor,
    changes: dict[str, Any],
    reason: str,
    ip: str | None,
    save: bool = True,
) -> Any:
    return audit(
        membership.tenant,
        actor=actor,
        action=AuditAction.MEMBERSHIP,
        obj=membership,
        tool=None,
        changes=changes,
        reason=reason,
        ip=ip,
        save=save,
    )
