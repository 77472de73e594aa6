"""PLACEHOLDER: being written; replace this whole module."""

from django.http import HttpRequest, HttpResponse

from catalog.views.access import role_required


@role_required()
def import_upload(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("import_upload is not built yet")


@role_required()
def import_preview(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("import_preview is not built yet")


@role_required()
def import_apply(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("import_apply is not built yet")


@role_required()
def import_progress(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("import_progress is not built yet")
