"""Signing in and out, switching between the tenants a user belongs to, and the account
page: the user's password and tenants; the one-time link a new member sets theirs with."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from catalog.accounts import signin
from catalog.accounts.guards import client_ip
from catalog.accounts.tenancy import SESSION_KEY


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request) or "catalog:dashboard")
    form = AuthenticationForm(request, data=request.POST or None)
    status, refused = 200, None
    if request.method == "POST":
        username, ip = request.POST.get("username", ""), client_ip(request)
        refused = signin.refusal(username, ip)
        if refused:
            # Checked before the password, so a locked account reveals nothing.
            status = 429
        elif form.is_valid():
            signin.record_success(username, ip)
            login(request, form.get_user())
            return redirect(_next_url(request) or "catalog:dashboard")
        else:
            signin.record_failure(username, ip)
            refused = signin.refusal(username, ip)
    context = {
        "form": form,
        "next": _next_url(request),
        "refusal": refused.message if refused else "",
    }
    response = render(request, "registration/login.html", context, status=status)
    if status == 429 and refused:
        response.headers["Retry-After"] = str(refused.seconds)
    return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("login")


@login_required
@require_POST
def switch_tenant(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("tenant", "")
    tenants = getattr(request, "tenants", [])
    match = next((tenant for tenant, _ in tenants if tenant.slug == slug), None)
    if match is None:
        messages.error(request, "You are not a member of that tenant.")
    else:
        request.session[SESSION_KEY] = match.slug
        messages.success(request, f"You are now working in {match.name}.")
    return redirect("catalog:dashboard")


class NewPasswordChecks:
    """Django's password forms check the new password's strength only once both copies
    match, so problems arrive in rounds; here every problem shows at once, the strength
    next to the new password and a mismatch next to its confirmation."""

    user: Any
    validate_passwords: Any
    validate_password_for_user: Any

    def clean(self) -> dict[str, Any] | None:
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        return forms.Form.clean(self)  # type: ignore[arg-type]


class ChangePasswordForm(NewPasswordChecks, PasswordChangeForm):
    pass


class FirstPasswordForm(NewPasswordChecks, SetPasswordForm):
    pass


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_page(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.user, request.POST or None)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # The session was signed with the old password's hash: keep this one signed in.
        update_session_auth_hash(request, user)
        messages.success(request, "Your password is changed. Use the new one from now on.")
        return redirect("catalog:account")
    return render(request, "catalog/account.html", {"form": form})


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "POST"])
def set_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The one-time link an admin gave a new member: it works until a password is set."""
    user_model = get_user_model()
    try:
        user = user_model.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError, user_model.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        return render(request, "catalog/set_password.html", {"form": None}, status=400)
    form = FirstPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        if request.user.is_authenticated:
            logout(request)
        messages.success(request, "Your password is set. Sign in with it now.")
        return redirect("login")
    return render(request, "catalog/set_password.html", {"form": form, "login_user": user})
