"""The runs list, one run's page (with its live fragment), and the approval queue."""

from django.http import Http404, HttpRequest, HttpResponse


def run_list(request: HttpRequest) -> HttpResponse:
    raise Http404("not built yet")


def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    raise Http404("not built yet")


def run_live(request: HttpRequest, run_id: int) -> HttpResponse:
    raise Http404("not built yet")


def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    raise Http404("not built yet")


def approval_queue(request: HttpRequest) -> HttpResponse:
    raise Http404("not built yet")


def run_decide(request: HttpRequest, run_id: int) -> HttpResponse:
    raise Http404("not built yet")
