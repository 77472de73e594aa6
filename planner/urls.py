"""Pages that run tools and decide runs: Try it, cancelling, and the approval queue.
The runs list and a run's page are telemetry's (telemetry/urls.py), at runs/ too."""

from django.urls import path

from planner.views import runs, try_it

app_name = "planner"

urlpatterns = [
    path("tools/<slug:name>/try/", try_it.try_it, name="try_it"),
    path("tools/<slug:name>/try/button/", try_it.try_it_button, name="try_it_button"),
    path("runs/approvals/", runs.approval_queue, name="approval_queue"),
    path("runs/<int:run_id>/cancel/", runs.run_cancel, name="run_cancel"),
    path("runs/<int:run_id>/decide/", runs.run_decide, name="run_decide"),
]
