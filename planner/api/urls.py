"""Routes of /api/v1/executions."""

from django.urls import path

from planner.api import views

app_name = "runs_api"

urlpatterns = [
    path("executions", views.execution_list, name="execution-list"),
    path("executions/<int:pk>", views.execution_detail, name="execution-detail"),
    path("executions/<int:pk>/cancel", views.execution_cancel, name="execution-cancel"),
    path("executions/<int:pk>/approve", views.execution_approve, name="execution-approve"),
    path("executions/<int:pk>/reject", views.execution_reject, name="execution-reject"),
]
