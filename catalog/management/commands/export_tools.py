"""manage.py export_tools DEST [--tenant SLUG] [--format yaml|json]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.formats.files import write_tree
from catalog.models import Tenant
from catalog.selectors import export_definitions


class Command(BaseCommand):
    help = "Export every tool's current version as a tree DEST/<platform>/<name>.yaml."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", type=Path, help="Folder to write (created if missing).")
        parser.add_argument("--tenant", default=settings.QUIVER_DEFAULT_TENANT)
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant called '{options['tenant']}'.")
        dest: Path = options["dest"]
        if dest.exists() and not dest.is_dir():
            raise CommandError(f"{dest} exists and is not a folder.")
        count = write_tree(export_definitions(tenant), dest, fmt=options["format"])
        self.stdout.write(self.style.SUCCESS(f"Exported {count} tools to {dest}."))
