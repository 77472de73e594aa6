"""PLACEHOLDER: being written; replace this whole module."""

from django.http import HttpRequest, HttpResponse

from catalog.views.access import role_required


@role_required()
def audit_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("audit_list is not built yet")


@role_required()
def audit_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("audit_detail is not built yet")
