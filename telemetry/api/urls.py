"""Routes of GET /api/v1/executions/<id>.

GET /api/v1/executions (the list, ExecutionReadViewSet.list) shares its path with the
planner's POST (run a tool); config/urls.py routes that one path with both apps' actions."""

from django.urls import path

from telemetry.api import views

app_name = "telemetry_api"

urlpatterns = [
    path("executions/<int:pk>", views.execution_detail, name="execution-detail"),
]
