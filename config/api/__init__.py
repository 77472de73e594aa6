"""The plumbing every app's API shares: authentication, permissions, throttling, errors,
pagination, parsers, the OpenAPI schema and its docs pages."""
