"""The run command's set-up: a tenant, an admin login, the sample catalog; again keeps data."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from catalog import services
from catalog.models import AuditLog, Membership, Tenant, Tool
from catalog.selectors import definition_of
from tests.factories import make_definition

pytestmark = pytest.mark.django_db


def setup(**options: Any) -> str:
    out = StringIO()
    call_command("setup_quiver", stdout=out, **options)
    return out.getvalue()


def test_setup_prints_a_working_admin_login_and_loads_the_sample(
    settings: Any, tmp_path: Any
) -> None:
    settings.VAR_DIR = tmp_path
    output = setup()
    password = output.split("password: ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(password)
    assert Membership.objects.get(user=admin).role == "admin"
    assert Tool.objects.filter(tenant__slug="default").count() >= 60
    assert "Sample catalog:" in output


def test_running_setup_again_keeps_the_data_and_the_login(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    first = setup()
    tools = Tool.objects.count()
    second = setup()
    assert Tool.objects.count() == tools
    assert "Sample catalog: not loaded" in second
    assert first.split("password: ")[1].split()[0] == second.split("password: ")[1].split()[0]


def test_setup_does_not_print_a_password_that_was_changed(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    setup(no_sample=True)
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("a-new-secret-of-their-own")
    admin.save()
    assert "password:" not in setup(no_sample=True)


def test_once_changed_on_the_account_page_the_password_is_printed_no_more(
    settings: Any, tmp_path: Any
) -> None:
    settings.VAR_DIR = tmp_path
    first = setup(no_sample=True)
    generated = first.split("password: ")[1].split()[0]
    assert generated in setup(no_sample=True)  # printed until it is changed
    browser = Client()
    assert browser.login(username="admin", password=generated)
    changed = browser.post(
        "/account/",
        {
            "old_password": generated,
            "new_password1": "our own long secret",
            "new_password2": "our own long secret",
        },
    )
    assert changed.status_code == 302

    output = setup(no_sample=True)

    assert generated not in output and "password:" not in output
    assert "admin's password was changed; use it" in output
    assert not (tmp_path / "admin-password").exists()
    assert Client().login(username="admin", password="our own long secret")


def test_a_start_never_undoes_an_admins_edit_or_disable_of_a_sample_tool(
    settings: Any, tmp_path: Any
) -> None:
    settings.VAR_DIR = tmp_path
    setup()
    admin = get_user_model().objects.get(username="admin")
    tool = Tool.objects.get(tenant__slug="default", name="disk_usage")
    assert tool.current_version is not None and tool.enabled
    edited = {**definition_of(tool.current_version), "description": "Ours now."}
    del edited["version"]  # the next one
    draft = services.edit_tool(
        tool, definition=edited, base_version=tool.current_version, actor=admin
    )
    services.publish_version(draft, actor=admin)
    services.disable_tool(tool, actor=admin, reason="unsafe here")
    audit_rows = AuditLog.objects.count()

    output = setup()

    tool.refresh_from_db()
    assert not tool.enabled
    assert tool.current_version == draft
    assert tool.current_version.description == "Ours now."
    assert AuditLog.objects.count() == audit_rows
    assert "Sample catalog: not loaded" in output


def test_the_samples_are_not_loaded_into_a_tenant_that_has_tools_of_its_own(
    settings: Any, tmp_path: Any
) -> None:
    settings.VAR_DIR = tmp_path
    setup(no_sample=True)
    tenant = Tenant.objects.get(slug="default")
    services.create_tool(tenant, definition=make_definition(name="ours"), actor=None, publish=True)

    setup()

    assert list(Tool.objects.values_list("name", flat=True)) == ["ours"]


def test_an_empty_tenant_that_never_had_the_samples_gets_them(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    setup(no_sample=True)
    assert not Tool.objects.exists()

    output = setup()

    assert Tool.objects.filter(tenant__slug="default").count() >= 60
    assert "new" in output.split("Sample catalog:")[1].splitlines()[0]
