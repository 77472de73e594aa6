from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from catalog.views import account
from config.api.docs import RedocView, SwaggerView

urlpatterns = [
    path("login/", account.login_view, name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("tenant/", account.switch_tenant, name="switch_tenant"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("catalog.api.urls")),
    path("api/v1/", include("planner.api.urls")),
    # -- OpenAPI schema and its two readers, served without any CDN --
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("planner.urls")),
    path("", include("catalog.urls")),
]
