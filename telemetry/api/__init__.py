"""GET /api/v1/executions: reading and filtering runs, for programs."""
