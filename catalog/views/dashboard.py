"""PLACEHOLDER: being written; replace this whole module."""

from django.http import HttpRequest, HttpResponse

from catalog.views.access import role_required


@role_required()
def dashboard(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("dashboard is not built yet")
