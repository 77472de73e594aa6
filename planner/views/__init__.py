"""The pages that run tools and follow their runs: "Try it", the runs list and detail,
and the approval queue. Thin: the work is in planner.services and telemetry."""
