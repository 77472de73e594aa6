"""The REST API under /api/v1/: thin DRF views over the same services as the pages."""
