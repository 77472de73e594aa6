"""The pages that run tools and decide runs: "Try it", cancelling, and the approval queue.
Thin: the work is in planner.services; the runs list and a run's page are telemetry's."""
