"""PLACEHOLDER: being written; replace this whole module."""

from django.http import HttpRequest, HttpResponse

from catalog.views.access import role_required


@role_required()
def tool_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("tool_list is not built yet")


@role_required()
def tool_bulk(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("tool_bulk is not built yet")


@role_required()
def tool_export(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("tool_export is not built yet")
