"""Business rules of the catalog services: versions, conflicts, roles and the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from catalog import revision, services
from catalog.definitions.problems import DefinitionInvalid
from catalog.models import AuditLog, Tenant, Tool, ToolTag, ToolVersion, VersionState
from catalog.selectors import current_version_by_name, definition_of, with_content
from tests.factories import make_definition

pytestmark = pytest.mark.django_db


def create(tenant: Tenant, actor: Any, publish: bool = True, **overrides: Any) -> Tool:
    return services.create_tool(
        tenant,
        definition=make_definition(**overrides),
        actor=actor,
        reason="first cut",
        ip="10.0.0.7",
        publish=publish,
    )


def edited(tool: Tool, **overrides: Any) -> dict[str, Any]:
    version = with_content(ToolVersion.objects.filter(pk=tool.head_version_id)).get()
    definition = definition_of(version)
    definition.pop("version")
    definition.update(overrides)
    return definition


def head(tool: Tool) -> ToolVersion:
    return Tool.objects.get(pk=tool.pk).head_version


def entries(tool: Tool) -> list[AuditLog]:
    return list(AuditLog.objects.filter(tool=tool).order_by("id"))


# -- create ---------------------------------------------------------------------------


def test_create_makes_a_draft_first_version(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor, publish=False)
    version = tool.versions.get()
    assert (version.version, version.state) == ("1.0.0", VersionState.DRAFT)
    assert tool.current_version is None
    assert tool.head_version == version
    assert list(tool.owners.all()) == [editor]


def test_create_writes_audit_entry_with_who_where_and_why(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor, publish=False)
    (entry,) = entries(tool)
    assert (entry.action, entry.actor, entry.ip, entry.reason) == (
        "create",
        editor,
        "10.0.0.7",
        "first cut",
    )
    assert entry.changes["version"] == [None, "1.0.0"]
    assert entry.changes["platform"] == [None, "linux"]


def test_create_refuses_a_name_taken_in_the_tenant(tenant: Tenant, editor: Any) -> None:
    create(tenant, editor)
    with pytest.raises(DefinitionInvalid) as exc:
        create(tenant, editor)
    assert exc.value.errors[0].path == "name"
    assert Tool.objects.count() == 1


def test_the_same_name_is_free_in_another_tenant(
    tenant: Tenant, other_tenant: Tenant, editor: Any, outsider: Any
) -> None:
    create(tenant, editor)
    create(other_tenant, outsider)
    assert Tool.objects.filter(name="disk_usage").count() == 2


def test_create_with_an_invalid_definition_saves_nothing(tenant: Tenant, editor: Any) -> None:
    with pytest.raises(DefinitionInvalid) as exc:
        create(tenant, editor, script="def main(:")
    assert exc.value.errors[0].path == "script"
    assert not Tool.objects.exists()
    assert not AuditLog.objects.exists()


def test_publish_makes_current_and_mirrors_list_fields(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor, publish=False)
    services.publish_version(tool.head_version, actor=editor, reason="ready", ip="10.0.0.8")
    tool.refresh_from_db()
    assert tool.current_version.state == VersionState.PUBLISHED
    assert tool.current_version.published_by == editor
    assert (tool.platform, tool.category) == ("linux", "monitoring")
    assert sorted(ToolTag.objects.filter(tool=tool).values_list("name", flat=True)) == [
        "capacity",
        "storage",
    ]
    publish = entries(tool)[-1]
    assert (publish.action, publish.changes) == ("publish", {"current_version": [None, "1.0.0"]})


def test_publishing_a_published_version_is_refused(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    with pytest.raises(ValidationError, match="already published"):
        services.publish_version(tool.current_version, actor=editor)


# -- edit and conflicts ---------------------------------------------------------------


def test_edit_makes_a_new_draft_and_keeps_the_old_version(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    first = tool.current_version
    draft = services.edit_tool(
        tool, definition=edited(tool, description="Disk use."), base_version=first, actor=editor
    )
    assert (draft.version, draft.state, draft.parent) == ("1.0.1", VersionState.DRAFT, first)
    first.refresh_from_db()
    assert first.description == "Report disk usage per mount point, largest first."
    assert Tool.objects.get(pk=tool.pk).current_version == first


def test_edit_audit_entry_holds_a_field_level_diff(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    definition = edited(tool)
    definition["input_schema"]["properties"]["threshold_pct"]["maximum"] = 90
    services.edit_tool(
        tool, definition=definition, base_version=tool.current_version, actor=editor, reason="cap"
    )
    entry = entries(tool)[-1]
    assert entry.action == "update"
    assert entry.reason == "cap"
    assert entry.changes == {
        "version": ["1.0.0", "1.0.1"],
        "input_schema.properties.threshold_pct.maximum": [100, 90],
    }


def test_edit_suggests_a_minor_bump_for_a_new_input(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    definition = edited(tool)
    definition["input_schema"]["properties"]["mount"] = {"type": "string"}
    definition["script"] = "def main(threshold_pct=80, mount='/'):\n    return {}\n"
    draft = services.edit_tool(
        tool, definition=definition, base_version=tool.current_version, actor=editor
    )
    assert draft.version == "1.1.0"


def test_edit_may_name_its_version(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    definition = edited(tool, description="New.", version="2.0.0")
    draft = services.edit_tool(
        tool, definition=definition, base_version=tool.current_version, actor=editor
    )
    assert draft.version == "2.0.0"


@pytest.mark.parametrize(
    ("version", "message"),
    [("1.0.0", "already exists"), ("0.9.0", "must be higher than 1.0.0")],
)
def test_edit_refuses_a_reused_or_lower_version(
    tenant: Tenant, editor: Any, version: str, message: str
) -> None:
    tool = create(tenant, editor)
    definition = edited(tool, description="New.", version=version)
    with pytest.raises(DefinitionInvalid) as exc:
        services.edit_tool(
            tool, definition=definition, base_version=tool.current_version, actor=editor
        )
    assert exc.value.errors[0].path == "version"
    assert message in exc.value.errors[0].message
    assert tool.versions.count() == 1


def test_edit_with_no_change_is_refused(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    with pytest.raises(DefinitionInvalid, match="nothing changed"):
        services.edit_tool(
            tool, definition=edited(tool), base_version=tool.current_version, actor=editor
        )


def test_edit_cannot_rename(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    with pytest.raises(DefinitionInvalid) as exc:
        services.edit_tool(
            tool,
            definition=edited(tool, name="other"),
            base_version=tool.current_version,
            actor=editor,
        )
    assert exc.value.errors[0].as_dict() == {
        "path": "name",
        "message": "cannot be changed by an edit",
    }


def test_stale_edit_is_refused_and_says_who_changed_what(
    tenant: Tenant, editor: Any, admin: Any
) -> None:
    tool = create(tenant, editor)
    opened = tool.current_version
    services.edit_tool(
        tool,
        definition=edited(tool, description="Admin's words."),
        base_version=opened,
        actor=admin,
    )
    with pytest.raises(services.StaleEdit) as exc:
        services.edit_tool(
            tool, definition=edited(tool, category="storage"), base_version=opened, actor=editor
        )
    message = str(exc.value)
    assert "changed by admin-acme" in message
    assert "since you opened version 1.0.0" in message
    assert "now at version 1.0.1 (changed: description)" in message
    assert exc.value.changes == {
        "description": ["Report disk usage per mount point, largest first.", "Admin's words."]
    }
    assert head(tool).description == "Admin's words."
    assert tool.versions.count() == 2


def test_edit_based_on_the_head_draft_is_not_stale(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    draft = services.edit_tool(
        tool, definition=edited(tool, description="One."), base_version=tool.current_version,
        actor=editor,
    )  # fmt: skip
    second = services.edit_tool(
        tool, definition=edited(tool, description="Two."), base_version=draft, actor=editor
    )
    assert second.parent == draft


# -- rollback ---------------------------------------------------------------------------


def published_twice(tenant: Tenant, editor: Any) -> tuple[Tool, ToolVersion, ToolVersion]:
    tool = create(tenant, editor)
    first = tool.current_version
    second = services.edit_tool(
        tool, definition=edited(tool, description="Second."), base_version=first, actor=editor
    )
    services.publish_version(second, actor=editor)
    return Tool.objects.get(pk=tool.pk), first, second


def test_rollback_points_current_at_an_earlier_version(tenant: Tenant, editor: Any) -> None:
    tool, first, _second = published_twice(tenant, editor)
    services.rollback_tool(tool, to_version=first, actor=editor, reason="bad output", ip="::1")
    tool.refresh_from_db()
    assert tool.current_version == first
    assert tool.head_version == first
    assert tool.description == first.description
    assert ToolVersion.objects.filter(tool=tool).count() == 2
    entry = entries(tool)[-1]
    assert (entry.action, entry.reason, entry.ip) == ("rollback", "bad output", "::1")
    assert entry.changes["current_version"] == ["1.0.1", "1.0.0"]
    assert entry.changes["description"] == ["Second.", first.description]


def test_rollback_then_forward_again(tenant: Tenant, editor: Any) -> None:
    tool, first, second = published_twice(tenant, editor)
    services.rollback_tool(tool, to_version=first, actor=editor)
    services.rollback_tool(tool, to_version=second, actor=editor)
    assert Tool.objects.get(pk=tool.pk).current_version == second


def test_edit_after_rollback_bumps_past_every_version(tenant: Tenant, editor: Any) -> None:
    tool, first, _second = published_twice(tenant, editor)
    services.rollback_tool(tool, to_version=first, actor=editor)
    tool.refresh_from_db()
    draft = services.edit_tool(
        tool, definition=edited(tool, description="Third."), base_version=first, actor=editor
    )
    assert draft.version == "1.0.2"


def test_rollback_to_a_draft_is_refused(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    draft = services.edit_tool(
        tool, definition=edited(tool, description="D."), base_version=tool.current_version,
        actor=editor,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="never published"):
        services.rollback_tool(tool, to_version=draft, actor=editor)


def test_rollback_to_the_current_version_is_refused(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    with pytest.raises(ValidationError, match="already current"):
        services.rollback_tool(tool, to_version=tool.current_version, actor=editor)


def test_rollback_to_another_tools_version_is_refused(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    other = create(tenant, editor, name="other_tool")
    with pytest.raises(ValidationError, match="another tool"):
        services.rollback_tool(tool, to_version=other.current_version, actor=editor)


def test_discarding_a_draft_moves_the_head_back(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    draft = services.edit_tool(
        tool, definition=edited(tool, description="D."), base_version=tool.current_version,
        actor=editor,
    )  # fmt: skip
    services.discard_draft(draft, actor=editor, reason="wrong idea")
    tool.refresh_from_db()
    assert tool.head_version == tool.current_version
    assert entries(tool)[-1].changes == {"version": ["1.0.1", None]}


# -- lifecycle --------------------------------------------------------------------------


def test_disable_and_enable_are_audited(tenant: Tenant, editor: Any, operator: Any) -> None:
    tool = create(tenant, editor)
    services.disable_tool(tool, actor=operator, reason="flaky", ip="10.1.1.1")
    assert not Tool.objects.get(pk=tool.pk).enabled
    services.enable_tool(tool, actor=operator)
    assert Tool.objects.get(pk=tool.pk).enabled
    actions = [(e.action, e.changes) for e in entries(tool)[-2:]]
    assert actions == [
        ("disable", {"enabled": [True, False]}),
        ("enable", {"enabled": [False, True]}),
    ]


def test_a_change_to_the_same_value_writes_nothing(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    before = AuditLog.objects.count()
    services.enable_tool(tool, actor=editor)
    assert AuditLog.objects.count() == before


def test_deprecate_sets_the_status(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    services.deprecate_tool(tool, actor=editor, reason="use df2")
    assert Tool.objects.get(pk=tool.pk).status == "deprecated"
    assert entries(tool)[-1].changes == {"status": ["active", "deprecated"]}


def test_unknown_status_is_refused(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    with pytest.raises(ValidationError, match="must be one of"):
        services.set_tool_status(tool, status="retired", actor=editor)


def test_archive_hides_and_restore_brings_back(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    services.archive_tool(tool, actor=editor)
    assert not Tool.objects.for_tenant(tenant).live().exists()
    services.restore_tool(tool, actor=editor)
    assert Tool.objects.for_tenant(tenant).live().get() == tool
    assert [e.changes for e in entries(tool)[-2:]] == [
        {"archived": [False, True]},
        {"archived": [True, False]},
    ]


def test_purge_is_for_admins_only(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    services.archive_tool(tool, actor=editor)
    with pytest.raises(PermissionDenied):
        services.purge_tool(tool, actor=editor)
    assert Tool.objects.filter(pk=tool.pk).exists()


def test_purge_needs_an_archived_tool(tenant: Tenant, editor: Any, admin: Any) -> None:
    tool = create(tenant, editor)
    with pytest.raises(ValidationError, match="archive the tool before purging"):
        services.purge_tool(tool, actor=admin)


def test_purge_deletes_for_good_and_is_still_audited(
    tenant: Tenant, editor: Any, admin: Any
) -> None:
    tool = create(tenant, editor)
    services.archive_tool(tool, actor=editor)
    services.purge_tool(tool, actor=admin, reason="GDPR")
    assert not Tool.objects.exists()
    assert not ToolVersion.objects.exists()
    entry = AuditLog.objects.get(action="purge")
    assert (entry.object_repr, entry.reason, entry.actor) == ("disk_usage", "GDPR", admin)
    assert entry.changes == {"versions": [["1.0.0"], None]}


# -- roles and tenants ------------------------------------------------------------------


def test_viewer_cannot_create(tenant: Tenant, viewer: Any) -> None:
    with pytest.raises(PermissionDenied):
        create(tenant, viewer)


def test_operator_can_disable_but_not_edit(tenant: Tenant, editor: Any, operator: Any) -> None:
    tool = create(tenant, editor)
    services.disable_tool(tool, actor=operator)
    with pytest.raises(PermissionDenied):
        services.edit_tool(
            tool, definition=edited(tool, description="x"), base_version=tool.current_version,
            actor=operator,
        )  # fmt: skip


def test_user_of_another_tenant_cannot_change_a_tool(
    tenant: Tenant, editor: Any, outsider: Any
) -> None:
    tool = create(tenant, editor)
    for change in (services.disable_tool, services.archive_tool, services.deprecate_tool):
        with pytest.raises(PermissionDenied):
            change(tool, actor=outsider)
    assert entries(tool)[-1].action == "publish"


# -- ownership: editors change only the tools they own ----------------------------------


@pytest.fixture
def second_editor(tenant: Tenant) -> Any:
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username="editor2-acme")
    MembershipFactory(user=user, tenant=tenant, role="editor")
    return user


def owned_changes(tool: Tool) -> dict[str, Any]:
    """Each change the ownership rule covers, as a call on the tool by an actor."""
    tool.refresh_from_db()
    return {
        "edit": lambda actor: services.edit_tool(
            tool, definition=edited(tool, description="Changed by someone."),
            base_version=head(tool), actor=actor,
        ),
        "publish": lambda actor: services.publish_version(head(tool), actor=actor),
        "rollback": lambda actor: services.rollback_tool(
            tool, to_version=tool.versions.get(version="1.0.0"), actor=actor
        ),
        "discard": lambda actor: services.discard_draft(head(tool), actor=actor),
        "deprecate": lambda actor: services.deprecate_tool(tool, actor=actor),
        "status": lambda actor: services.set_tool_status(tool, status="testing", actor=actor),
        "archive": lambda actor: services.archive_tool(tool, actor=actor),
    }  # fmt: skip


def with_history(tenant: Tenant, owner: Any, name: str = "disk_usage") -> Tool:
    """Published 1.0.0 and 1.1.0 (current) and a draft after them, owned by ``owner``."""
    tool = create(tenant, owner, name=name)
    v2 = services.edit_tool(
        tool, definition=edited(tool, description="Second version of it."),
        base_version=head(tool), actor=owner,
    )  # fmt: skip
    services.publish_version(v2, actor=owner)
    services.edit_tool(
        tool, definition=edited(tool, description="A draft after the second."),
        base_version=head(tool), actor=owner,
    )  # fmt: skip
    tool.refresh_from_db()
    return tool


CHANGES = ["edit", "publish", "rollback", "discard", "deprecate", "status", "archive"]


@pytest.mark.parametrize("change", CHANGES)
def test_editor_cannot_change_a_tool_another_editor_owns(
    tenant: Tenant, editor: Any, second_editor: Any, change: str
) -> None:
    tool = with_history(tenant, editor)
    before = (AuditLog.objects.count(), ToolVersion.objects.count())
    with pytest.raises(PermissionDenied, match="owners"):
        owned_changes(tool)[change](second_editor)
    assert (AuditLog.objects.count(), ToolVersion.objects.count()) == before


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("who", ["owner", "admin", "system", "editor of an unowned tool"])
def test_owner_admin_and_system_may_change_the_tool(
    tenant: Tenant, editor: Any, second_editor: Any, admin: Any, who: str, change: str
) -> None:
    owner = None if who == "editor of an unowned tool" else editor
    tool = with_history(tenant, owner)
    actor = {"owner": editor, "admin": admin, "system": None}.get(who, second_editor)
    before = AuditLog.objects.count()
    owned_changes(tool)[change](actor)
    assert AuditLog.objects.count() == before + 1


def test_operator_may_enable_and_disable_any_tool_but_change_nothing_else(
    tenant: Tenant, editor: Any, operator: Any
) -> None:
    tool = with_history(tenant, editor)
    services.disable_tool(tool, actor=operator)
    services.enable_tool(tool, actor=operator)
    for name, change in owned_changes(tool).items():
        with pytest.raises(PermissionDenied):
            change(operator)
        assert name


def test_editor_may_enable_and_disable_a_tool_they_do_not_own(
    tenant: Tenant, editor: Any, second_editor: Any
) -> None:
    tool = create(tenant, editor)
    services.disable_tool(tool, actor=second_editor)
    assert not Tool.objects.get(pk=tool.pk).enabled


def test_restore_needs_ownership_too(
    tenant: Tenant, editor: Any, second_editor: Any, admin: Any
) -> None:
    tool = services.archive_tool(create(tenant, editor), actor=editor)
    with pytest.raises(PermissionDenied):
        services.restore_tool(tool, actor=second_editor)
    services.restore_tool(tool, actor=admin)
    assert not Tool.objects.get(pk=tool.pk).is_archived


def test_creator_may_publish_a_new_tool_owned_by_someone_else(
    tenant: Tenant, editor: Any, second_editor: Any
) -> None:
    tool = create(tenant, editor, owners=[second_editor.username])
    assert tool.current_version is not None
    assert [u.username for u in tool.owners.all()] == ["editor2-acme"]
    with pytest.raises(PermissionDenied):
        services.deprecate_tool(tool, actor=editor)


def test_import_refuses_to_change_a_tool_the_editor_does_not_own(
    tenant: Tenant, editor: Any, second_editor: Any
) -> None:
    from catalog.formats.files import Source

    create(tenant, editor)
    changed = make_definition(description="Imported over someone else's tool.")
    changed.pop("version")
    report = services.import_definitions(
        tenant, [Source("t.yaml", None, changed)], actor=second_editor, dry_run=True
    )
    assert [p.path for p in report.problems] == ["name"]
    assert "editor-acme" in report.problems[0].message
    with pytest.raises(services.ImportFailed):
        services.import_definitions(tenant, [Source("t.yaml", None, changed)], actor=second_editor)
    assert Tool.objects.get().versions.count() == 1


def test_import_leaves_unowned_unchanged_tools_and_new_ones_to_any_editor(
    tenant: Tenant, editor: Any, second_editor: Any
) -> None:
    from catalog.formats.files import Source

    tool = create(tenant, editor)
    same = definition_of(with_content(ToolVersion.objects.filter(pk=tool.current_version_id)).get())
    report = services.import_definitions(
        tenant,
        [Source("a.yaml", None, same), Source("b.yaml", None, make_definition(name="fresh"))],
        actor=second_editor,
    )
    assert (report.count("unchanged"), report.count("new"), report.problems) == (1, 1, [])


# -- the audit log and the database -------------------------------------------------------


def test_audit_entries_cannot_be_changed_or_deleted(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    entry = entries(tool)[0]
    entry.reason = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()


def test_database_refuses_out_of_range_preferences(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    pattern = tool.current_version.capabilities.get().patterns.get()
    pattern.pref_speed = 1.5
    with pytest.raises(IntegrityError), transaction.atomic():
        pattern.save()


def test_database_refuses_json_of_the_wrong_shape(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    with pytest.raises(IntegrityError), transaction.atomic():
        ToolVersion.objects.filter(pk=tool.current_version_id).update(input_schema=[1, 2])
    with pytest.raises(IntegrityError), transaction.atomic():
        ToolVersion.objects.filter(pk=tool.current_version_id).update(tags={"a": 1})


def test_database_refuses_a_duplicate_version(tenant: Tenant, editor: Any) -> None:
    tool = create(tenant, editor)
    version = tool.current_version
    version.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        version.save()


def test_a_tool_keeps_its_name_as_written(tenant: Tenant, editor: Any) -> None:
    assert create(tenant, editor, name="getCurrentTime").name == "getCurrentTime"


def test_names_must_differ_in_more_than_case(tenant: Tenant, editor: Any) -> None:
    create(tenant, editor, name="calculate_BMI")
    with pytest.raises(DefinitionInvalid) as caught:
        create(tenant, editor, name="calculate_bmi")
    assert caught.value.errors[0].message == (
        "'calculate_bmi' differs only in case from the tool 'calculate_BMI': "
        "names must differ in more than case"
    )


def test_database_refuses_names_differing_only_in_case(tenant: Tenant, editor: Any) -> None:
    create(tenant, editor, name="ChatOCR")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tool.objects.create(tenant=tenant, name="chatocr")


def test_the_same_name_in_another_case_is_free_in_another_tenant(
    tenant: Tenant, other_tenant: Tenant, editor: Any, outsider: Any
) -> None:
    create(tenant, editor, name="ChatOCR")
    assert create(other_tenant, outsider, name="chatocr").name == "chatocr"


def test_current_version_by_name_is_scoped_to_the_tenant(
    tenant: Tenant, other_tenant: Tenant, editor: Any
) -> None:
    create(tenant, editor)
    assert current_version_by_name(tenant, "disk_usage").version == "1.0.0"
    with pytest.raises(ToolVersion.DoesNotExist):
        current_version_by_name(other_tenant, "disk_usage")


def test_every_write_bumps_the_catalog_revision(
    tenant: Tenant, editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = revision.current(tenant.pk)
    with django_capture_on_commit_callbacks(execute=True):
        tool = create(tenant, editor)
    middle = revision.current(tenant.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.disable_tool(tool, actor=editor)
    assert before < middle < revision.current(tenant.pk)
