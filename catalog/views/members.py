"""Settings → Members: who is in the tenant with which role; admins add, change, remove."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from catalog.accounts.guards import client_ip, role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.models import Membership, Role
from catalog.selectors import members_of
from catalog.services import (
    NewLogin,
    add_member,
    change_member_role,
    create_member,
    find_login,
    remove_member,
    renew_sign_in_link,
)
from catalog.services.members import FIRST_SIGN_IN, LINK, may_get_a_new_link

ROLE_CHOICES = [(r.value, r.label) for r in reversed(Role)]


class AddMemberForm(forms.Form):
    user = forms.CharField(
        label="Username or email",
        max_length=254,
        required=False,
        help_text="Of someone who already signs in to this Quiver server.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "required": True}),
    )
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.VIEWER)


class NewLoginForm(forms.Form):
    # Not required here: the service checks every field and reports every problem at once.
    username = forms.CharField(
        max_length=150,
        required=False,
        help_text="What they type to sign in: letters, digits and @ . + - _",
        widget=forms.TextInput(attrs={"autocomplete": "off", "required": True}),
    )
    email = forms.CharField(max_length=254, required=False, help_text="Optional.")
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.VIEWER)
    first_sign_in = forms.ChoiceField(
        choices=FIRST_SIGN_IN,
        initial=LINK,
        widget=forms.RadioSelect,
        label="How they sign in the first time",
    )


def _put_errors(form: forms.Form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


@never_cache  # the answer to a new login carries its password or link: no cache keeps it
@role_required(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def member_list(request: TenantRequest) -> HttpResponse:
    add_form, new_form = AddMemberForm(prefix="add"), NewLoginForm(prefix="new")
    new_login: NewLogin | None = None
    if request.method == "POST":
        if request.role != Role.ADMIN:
            raise PermissionDenied("Only an admin of this tenant adds members.")
        if request.POST.get("form") == "new":
            new_form = NewLoginForm(request.POST, prefix="new")
            new_login = _create(request, new_form)
            if new_login is not None:
                new_form = NewLoginForm(prefix="new")
        else:
            add_form = AddMemberForm(request.POST, prefix="add")
            if _add(request, add_form):
                return redirect("catalog:member_list")
    return _page(request, add_form=add_form, new_form=new_form, new_login=new_login)


def _page(
    request: TenantRequest,
    *,
    add_form: AddMemberForm | None = None,
    new_form: NewLoginForm | None = None,
    new_login: NewLogin | None = None,
) -> HttpResponse:
    members = list(members_of(request.tenant))
    if request.role == Role.ADMIN:
        for member in members:
            member.renewable = may_get_a_new_link(member)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "members": members,
        "add_form": add_form or AddMemberForm(prefix="add"),
        "new_form": new_form or NewLoginForm(prefix="new"),
        "new_login": new_login,
        "role_choices": ROLE_CHOICES,
        "link": _link(request, new_login),
        "link_days": settings.PASSWORD_RESET_TIMEOUT // (24 * 3600),
    }
    return render(request, "catalog/members.html", context)


def _add(request: TenantRequest, form: AddMemberForm) -> bool:
    if not form.is_valid():
        return False
    try:
        user = find_login(form.cleaned_data["user"])
        add_member(
            request.tenant,
            user=user,
            role=form.cleaned_data["role"],
            actor=request.user,
            ip=client_ip(request),
        )
    except ValidationError as error:
        _put_errors(form, error)
        return False
    role = Role(form.cleaned_data["role"]).label.lower()
    messages.success(request, f"Added {user.get_username()} as {role}.")
    return True


def _create(request: TenantRequest, form: NewLoginForm) -> NewLogin | None:
    if not form.is_valid():
        return None
    try:
        return create_member(
            request.tenant, **form.cleaned_data, actor=request.user, ip=client_ip(request)
        )
    except ValidationError as error:
        _put_errors(form, error)
        return None


def _link(request: TenantRequest, new_login: NewLogin | None) -> str:
    if new_login is None or not new_login.token:
        return ""
    path = reverse("catalog:set_password", args=[new_login.uid, new_login.token])
    return request.build_absolute_uri(path)


@require_POST
@role_required(Role.ADMIN)
def member_role(request: TenantRequest, member_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.for_tenant(request.tenant), pk=member_id)
    name, role = membership.user.get_username(), request.POST.get("role", "")
    try:
        change_member_role(membership, role=role, actor=request.user, ip=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"{name} is now {Role(role).label.lower()}; their API keys here have no more rights "
            "than that.",
        )
    return redirect("catalog:member_list")


@require_POST
@role_required(Role.ADMIN)
def member_remove(request: TenantRequest, member_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.for_tenant(request.tenant), pk=member_id)
    name = membership.user.get_username()
    try:
        remove_member(membership, actor=request.user, ip=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("catalog:member_list")
    messages.success(
        request,
        f"Removed {name} from {request.tenant.name}: their open pages and API keys here "
        "stopped working.",
    )
    if membership.user_id == request.user.pk:
        return redirect("catalog:dashboard")
    return redirect("catalog:member_list")


@never_cache
@require_POST
@role_required(Role.ADMIN)
def member_link(request: TenantRequest, member_id: int) -> HttpResponse:
    """A new one-time link for a member who never used theirs, shown once."""
    membership = get_object_or_404(Membership.objects.for_tenant(request.tenant), pk=member_id)
    try:
        new_login = renew_sign_in_link(membership, actor=request.user, ip=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("catalog:member_list")
    return _page(request, new_login=new_login)
