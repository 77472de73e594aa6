"""manage.py setup_quiver: the default tenant, an admin login, and the sample catalog.

Run by ``bin/run`` on every start; running it again keeps all data. The samples are
loaded once, into a fresh tenant: what people changed since is never undone.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from catalog import services
from catalog.models import Role, Tenant
from catalog.services.samples import load_sample_catalog


class Command(BaseCommand):
    help = (
        "Create the default tenant and an admin user, and load the sample catalog into a "
        "fresh tenant."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--no-sample", action="store_true", help="Skip the sample catalog.")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            tenant = Tenant.objects.filter(slug=settings.QUIVER_DEFAULT_TENANT).first()
            if tenant is None:
                tenant = services.create_tenant(slug=settings.QUIVER_DEFAULT_TENANT)
            password = self._ensure_admin(tenant, options["username"])
        if not options["no_sample"]:
            report = load_sample_catalog(tenant)
            if report is None:
                self.stdout.write("Sample catalog: not loaded (only a fresh tenant gets it, once).")
            else:
                self.stdout.write(f"Sample catalog: {report.summary()}.")
        self.stdout.write(self.style.SUCCESS(f"Sign in as '{options['username']}'"))
        if password:
            self.stdout.write(self.style.SUCCESS(f"  password: {password}"))
        else:
            self.stdout.write(
                f"  {options['username']}'s password was changed; use it (forgotten? set a "
                f"new one with 'manage.py changepassword {options['username']}')"
            )

    def _ensure_admin(self, tenant: Tenant, username: str) -> str | None:
        """The admin's generated password while it is still the one in use: printed on
        every start until the admin changes it."""
        user_model = get_user_model()
        password_file = settings.VAR_DIR / "admin-password"
        user = user_model.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(username=username, password=password)
            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(password)
        if not tenant.memberships.filter(user=user).exists():
            services.set_membership(tenant, user=user, role=Role.ADMIN, actor=None)
        if password_file.exists():
            saved = password_file.read_text().strip()
            if user.check_password(saved):
                return saved
            # Changed (on the Account page or by changepassword): the generated one is
            # printed no more, and not kept on disk either.
            password_file.unlink()
        return None
