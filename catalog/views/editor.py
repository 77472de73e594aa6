"""PLACEHOLDER: being written; replace this whole module."""

from django.http import HttpRequest, HttpResponse

from catalog.views.access import role_required


@role_required()
def tool_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("tool_create is not built yet")


@role_required()
def tool_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("tool_edit is not built yet")


@role_required()
def check_script(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("check_script is not built yet")


@role_required()
def infer_inputs(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("infer_inputs is not built yet")


@role_required()
def check_expression(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("check_expression is not built yet")


@role_required()
def check_schema(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("check_schema is not built yet")
