"""The run command's set-up: a tenant, an admin login, the sample catalog; again keeps data."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import Membership, Tool

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
    assert "0 new, 0 changed" in second
    assert first.split("password: ")[1].split()[0] == second.split("password: ")[1].split()[0]


def test_setup_does_not_print_a_password_that_was_changed(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    setup(no_sample=True)
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("a-new-secret-of-their-own")
    admin.save()
    assert "password:" not in setup(no_sample=True)
