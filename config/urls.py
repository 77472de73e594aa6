from django.contrib import admin
from django.urls import include, path

from catalog.views import account

urlpatterns = [
    path("login/", account.login_view, name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("tenant/", account.switch_tenant, name="switch_tenant"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("catalog.api.urls")),
    path("", include("catalog.urls")),
]
