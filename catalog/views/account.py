"""Signing in and out, and switching between the tenants a user belongs to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from catalog import signin
from catalog.tenancy import SESSION_KEY
from catalog.views.access import client_ip


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
