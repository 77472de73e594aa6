"""The runs pages, and how a tool runs on its page."""

from django.urls import path

from telemetry import views

app_name = "telemetry"

urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/live/", views.run_live, name="run_live"),
    path("tools/<slug:name>/runs/", views.tool_runs, name="tool_runs"),
]
