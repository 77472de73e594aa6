"""PLACEHOLDER: being written; replace this whole module."""

from django.http import HttpRequest, HttpResponse

from catalog.views.access import role_required


@role_required()
def tool_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("tool_detail is not built yet")


@role_required()
def tool_diff(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("tool_diff is not built yet")


@role_required()
def tool_rollback(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("tool_rollback is not built yet")


@role_required()
def tool_state(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("tool_state is not built yet")


@role_required()
def version_publish(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("version_publish is not built yet")


@role_required()
def version_discard(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("version_discard is not built yet")
