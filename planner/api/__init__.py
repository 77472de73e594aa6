"""/api/v1/executions: running tools and following their runs, for programs."""
