"""manage.py import_tools PATH [--tenant SLUG] [--dry-run] [--partial]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from catalog import services
from catalog.database import analyze_catalog, collector_paused
from catalog.formats.files import read_path
from catalog.models import Tenant
from catalog.services import ImportFailed, ImportReport


class Command(BaseCommand):
    help = (
        "Import tool definitions from a YAML/JSON file or a folder tree, all or nothing. "
        "Unchanged tools are left alone; changed ones get a new published version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="A .yaml/.yml/.json file or a folder.")
        parser.add_argument(
            "--tenant",
            default=settings.QUIVER_DEFAULT_TENANT,
            help="Tenant slug; created if new (default: %(default)s).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; change nothing."
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="Import the tools without problems and report the ones left out "
            "(without it, any problem refuses the whole import).",
        )
        parser.add_argument("--reason", default="", help="Why; kept in the audit log.")

    def handle(self, *args: Any, **options: Any) -> None:
        with collector_paused():
            report = self._import(options)
        if not report.dry_run and report.count("new") + report.count("changed") >= 1000:
            analyze_catalog()
        self._print(report, verbosity=options["verbosity"])
        if not report.ok:
            raise CommandError(f"Dry run found problems: {report.summary()}")

    def _import(self, options: dict[str, Any]) -> ImportReport:
        read = read_path(options["path"])
        try:
            with transaction.atomic():
                tenant = Tenant.objects.filter(slug=options["tenant"]).first()
                if tenant is None:
                    tenant = services.create_tenant(slug=options["tenant"])
                    if options["dry_run"]:
                        self.stdout.write(
                            f"Tenant '{tenant.slug}' does not exist; it would be created "
                            "(a dry run creates nothing)."
                        )
                    else:
                        self.stdout.write(f"Tenant '{tenant.slug}' created.")
                report = services.import_definitions(
                    tenant,
                    read.sources,
                    actor=None,
                    reason=options["reason"],
                    dry_run=options["dry_run"],
                    problems=read.problems,
                    partial=options["partial"],
                )
                # A dry run leaves no trace, not even a new tenant.
                transaction.set_rollback(options["dry_run"])
        except ImportFailed as exc:
            self._print_problems(exc.report)
            raise CommandError(str(exc)) from None
        return report

    def _print(self, report: ImportReport, *, verbosity: int) -> None:
        for item in report.items:
            if item.action == "unchanged" and verbosity < 2:
                continue
            detail = item.version
            if item.action == "changed":
                detail = f"{item.previous_version} -> {item.version}: " + ", ".join(
                    sorted(item.changes)[:8]
                )
            if item.note:
                detail += f"; {item.note}"
            self.stdout.write(f"  {item.action:9} {item.name} ({detail})")
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"  warning: {warning}"))
        for refusal in report.refused:
            self.stderr.write(f"  left out: {refusal}")
        self._print_problems(report)
        prefix = "Dry run: would import" if report.dry_run else "Imported"
        self.stdout.write(self.style.SUCCESS(f"{prefix}: {report.summary()}."))

    def _print_problems(self, report: ImportReport) -> None:
        for problem in report.problems:
            self.stderr.write(f"  error: {problem}")
