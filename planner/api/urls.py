"""Routes of /api/v1/executions/<id>/cancel, approve and reject.

POST /api/v1/executions (run a tool, ExecutionViewSet.create) shares its path with
telemetry's list of runs; config/urls.py routes that one path with both apps' actions."""

from django.urls import path

from planner.api import views

app_name = "runs_api"

urlpatterns = [
    path("executions/<int:pk>/cancel", views.execution_cancel, name="execution-cancel"),
    path("executions/<int:pk>/approve", views.execution_approve, name="execution-approve"),
    path("executions/<int:pk>/reject", views.execution_reject, name="execution-reject"),
]
