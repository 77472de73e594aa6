"""/api/v1/executions: running tools, cancelling, approving and rejecting runs, for programs."""
