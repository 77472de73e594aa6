"""Settings → API keys: a member's keys (an admin's: all of the tenant's), create, revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from catalog.accounts.guards import client_ip, role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.models import Role
from catalog.selectors import api_keys_for
from catalog.services import create_api_key, revoke_api_key

EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Which program uses it, e.g. nightly-sync.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(help_text="At most your own role.")
    expires_in = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False, label="Expires"
    )

    def __init__(self, *args: Any, role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = [r for r in reversed(Role) if Role.rank(r) <= Role.rank(role)]
        self.fields["role"].choices = [(r.value, r.label) for r in allowed]  # type: ignore[attr-defined]
        self.fields["role"].initial = Role.VIEWER


def visible_keys(request: TenantRequest) -> Any:
    return api_keys_for(request.tenant, request.user, request.role)


@never_cache  # the response to a create carries the token: no cache may keep it
@role_required(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def apikey_list(request: TenantRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST if request.method == "POST" else None, role=request.role)
    created, token = None, ""
    if form.is_bound and form.is_valid():
        days = form.cleaned_data["expires_in"]
        try:
            created, token = create_api_key(
                request.tenant,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            form = ApiKeyForm(role=request.role)
    context = {
        "form": form,
        "keys": visible_keys(request),
        "created": created,
        "token": token,
        "now": timezone.now(),
    }
    return render(request, "catalog/apikeys.html", context)


@require_POST
@role_required(Role.VIEWER)
def apikey_revoke(request: TenantRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(visible_keys(request), pk=key_id)
    revoke_api_key(key, actor=request.user, ip=client_ip(request))
    messages.success(request, f"Revoked the key “{key.name}”: programs using it are refused now.")
    return redirect("catalog:apikey_list")
