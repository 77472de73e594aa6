from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from catalog.views import account
from config.api.docs import RedocView, SwaggerView
from planner.api.views import ExecutionViewSet
from telemetry.api.views import ExecutionReadViewSet


# GET /api/v1/executions lists runs (telemetry's) and POST runs a tool (the planner's). One
# path is one view, so this one joins the two apps' viewsets; they meet here, where every
# app's routes do, because no app may import another's api/ package (tests/test_layout.py).
class Executions(ExecutionViewSet, ExecutionReadViewSet):
    roles = {**ExecutionReadViewSet.roles, **ExecutionViewSet.roles}


urlpatterns = [
    path("login/", account.login_view, name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("tenant/", account.switch_tenant, name="switch_tenant"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("catalog.api.urls")),
    path(
        "api/v1/executions",
        Executions.as_view({"get": "list", "post": "create"}),
        name="execution-list",
    ),
    path("api/v1/", include("planner.api.urls")),
    path("api/v1/", include("telemetry.api.urls")),
    # -- OpenAPI schema and its two readers, served without any CDN --
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("planner.urls")),
    path("", include("telemetry.urls")),
    path("", include("catalog.urls")),
]
