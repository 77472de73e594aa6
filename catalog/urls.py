from django.urls import path

from catalog.views import (
    account,
    apikeys,
    audit,
    dashboard,
    detail,
    editor,
    imports,
    limits,
    members,
    tools,
)

app_name = "catalog"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    # The list, its bulk actions and export.
    path("tools/", tools.tool_list, name="tool_list"),
    path("tools/bulk/", tools.tool_bulk, name="tool_bulk"),
    path("tools/export/", tools.tool_export, name="tool_export"),
    # Creating and editing.
    path("tools/new/", editor.tool_create, name="tool_create"),
    path("tools/<slug:name>/edit/", editor.tool_edit, name="tool_edit"),
    path("editor/check-script/", editor.check_script, name="check_script"),
    path("editor/infer-inputs/", editor.infer_inputs, name="infer_inputs"),
    path("editor/check-expression/", editor.check_expression, name="check_expression"),
    path("editor/check-schema/", editor.check_schema, name="check_schema"),
    # One tool: detail, versions, diff, and the verbs on it.
    path("tools/<slug:name>/", detail.tool_detail, name="tool_detail"),
    path("tools/<slug:name>/diff/", detail.tool_diff, name="tool_diff"),
    path("tools/<slug:name>/rollback/", detail.tool_rollback, name="tool_rollback"),
    path("tools/<slug:name>/state/", detail.tool_state, name="tool_state"),
    path(
        "tools/<slug:name>/versions/<str:version>/publish/",
        detail.version_publish,
        name="version_publish",
    ),
    path(
        "tools/<slug:name>/versions/<str:version>/discard/",
        detail.version_discard,
        name="version_discard",
    ),
    # Import wizard.
    path("import/", imports.import_upload, name="import_upload"),
    path("import/<str:token>/", imports.import_preview, name="import_preview"),
    path("import/<str:token>/apply/", imports.import_apply, name="import_apply"),
    path("import/<str:token>/progress/", imports.import_progress, name="import_progress"),
    # Audit log.
    path("audit/", audit.audit_list, name="audit_list"),
    path("audit/<int:entry_id>/", audit.audit_detail, name="audit_detail"),
    # Settings: API keys.
    path("settings/api-keys/", apikeys.apikey_list, name="apikey_list"),
    path("settings/api-keys/<int:key_id>/revoke/", apikeys.apikey_revoke, name="apikey_revoke"),
    # The signed-in user's own account; the one-time link a new member sets a password with.
    path("account/", account.account_page, name="account"),
    path(
        "account/set-password/<str:uidb64>/<str:token>/",
        account.set_password,
        name="set_password",
    ),
    # Settings: members.
    path("settings/members/", members.member_list, name="member_list"),
    path("settings/members/<int:member_id>/role/", members.member_role, name="member_role"),
    path("settings/members/<int:member_id>/remove/", members.member_remove, name="member_remove"),
    path("settings/members/<int:member_id>/link/", members.member_link, name="member_link"),
    # Settings: what the tenant's scripts may have.
    path("settings/script-limits/", limits.script_limits, name="script_limits"),
]
