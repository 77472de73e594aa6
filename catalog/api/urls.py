"""Routes of /api/v1/. Resource routes (helper F2) and key/auth routes (helper F1) are
added here; keep each group in its own block."""

from django.urls import path  # noqa: F401  (used as routes are added)

app_name = "api"

urlpatterns: list = [
    # -- resources: tools, versions, capabilities, patterns, import/export, audit (F2) --
    # -- LLM-facing export (G) --
    # -- API keys (F1) --
]
