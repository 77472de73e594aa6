"""Pages of API lists: ``{count, next, previous, results}``, asked for with ``page`` and
``page_size``. A page number that is not a number (empty included), or beyond the last
page, is a 400 naming the parameter (not DRF's bare 404), so that every answer is in the
error shape the schema documents, and the schema says which numbers are taken."""

from __future__ import annotations

from typing import Any

from django.core.paginator import InvalidPage
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class Pages(PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [f"a whole number from 1 to {self.max_page_size}"]})
        return size

    def paginate_queryset(
        self, queryset: QuerySet[Any] | list[Any], request: Request, view: APIView | None = None
    ) -> list[Any]:
        size = self.get_page_size(request)
        paginator = DjangoPaginator(queryset, size)
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            number = int(raw)
            if number < 1:
                raise ValueError
        except ValueError:
            raise ValidationError({"page": ["a whole number from 1"]}) from None
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            last = paginator.num_pages
            raise ValidationError(
                {"page": [f"there {'is' if last == 1 else 'are'} only {last} page(s)"]}
            ) from None
        self.request = request
        return list(self.page)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
