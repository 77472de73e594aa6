"""The "Try it" page of a tool: a form made from its input schema, and the live result."""

from django.http import Http404, HttpRequest, HttpResponse


def try_it(request: HttpRequest, name: str) -> HttpResponse:
    raise Http404("not built yet")
