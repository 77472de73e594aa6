"""Routes of /api/v1/: the catalog's resources, the LLM-facing export, and API keys."""

from django.urls import path

from catalog.api import exchange, keys, limits, llm, members, readonly
from catalog.api.tools import STATE_VERBS, ToolViewSet

_tools = ToolViewSet.as_view

app_name = "api"

urlpatterns: list = [
    # -- resources: tools, versions, capabilities, patterns, import/export, audit --
    # Literal paths under tools/ come before tools/<name>.
    path("tools", _tools({"get": "list", "post": "create"}), name="tool-list"),
    path("tools/import", exchange.ImportView.as_view(), name="tool-import"),
    path("tools/export", exchange.ExportView.as_view(), name="tool-export"),
    path("tools/validate", _tools({"post": "validate_new"}), name="tool-validate-new"),
    path(
        "tools/<slug:name>",
        _tools({"get": "retrieve", "put": "update", "patch": "partial_update"}),
        name="tool-detail",
    ),
    path("tools/<slug:name>/versions", _tools({"get": "versions"}), name="tool-versions"),
    path(
        "tools/<slug:name>/versions/<str:version>",
        _tools({"get": "version", "delete": "discard"}),
        name="tool-version",
    ),
    *[
        path(f"tools/<slug:name>/{verb}", _tools({"post": verb}), name=f"tool-{verb}")
        for verb in ("publish", "rollback", *STATE_VERBS, "validate")
    ],
    path("capabilities", readonly.CapabilityList.as_view(), name="capability-list"),
    path(
        "capabilities/<slug:name>/tools",
        readonly.CapabilityTools.as_view(),
        name="capability-tools",
    ),
    path("patterns", readonly.PatternList.as_view(), name="pattern-list"),
    path("audit", readonly.AuditList.as_view(), name="audit-list"),
    # -- LLM-facing export --
    path("llm/tools", llm.LlmToolsView.as_view(), name="llm-tools"),
    # -- API keys --
    path("keys", keys.key_list, name="key_list"),
    path("keys/<int:pk>", keys.key_detail, name="key_detail"),
    path("keys/<int:pk>/revoke", keys.key_revoke, name="key_revoke"),
    # -- members --
    path("members", members.member_list, name="member-list"),
    path("members/<int:pk>", members.member_detail, name="member-detail"),
    path("members/<int:pk>/sign-in-link", members.member_link, name="member-sign-in-link"),
    # -- what the tenant's scripts may have --
    path("script-limits", limits.script_limits, name="script-limits"),
]
