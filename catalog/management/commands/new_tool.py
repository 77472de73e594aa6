"""``manage.py new_tool``: define a tool by answering questions, one field at a time,
then save it as a draft in a tenant or write it to a YAML file (``catalog.new_tool``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug

from catalog.definitions.problems import DefinitionInvalid, FieldError
from catalog.definitions.validation import validate_definition
from catalog.formats.files import dump_yaml
from catalog.models import Platform
from catalog.new_tool.prompter import Aborted, Prompter
from catalog.new_tool.wizard import (
    Interview,
    NotWritten,
    names_taken,
    save_definition,
    write_definition,
)


class Command(BaseCommand):
    help = (
        "Define a new tool by answering questions, then save it as a draft in a tenant "
        "or write it to a YAML file."
    )
    # call_command(..., stdin=io.StringIO(...)) feeds the answers in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tenant",
            metavar="SLUG",
            help="the tenant to save in (default: settings.QUIVER_DEFAULT_TENANT, "
            "created if missing)",
        )
        parser.add_argument(
            "--output",
            metavar="FILE",
            type=Path,
            help="write the definition to this YAML file instead of saving it",
        )
        parser.add_argument(
            "--publish", action="store_true", help="publish the first version at once"
        )
        parser.add_argument(
            "--platform", choices=Platform.values, help="the platform, instead of asking"
        )

    def execute(self, *args: Any, **options: Any) -> str | None:
        self.stdin: IO[str] = options.get("stdin") or sys.stdin
        return super().execute(*args, **options)

    def handle(
        self,
        *args: Any,
        tenant: str | None,
        output: Path | None,
        publish: bool,
        platform: str | None,
        **options: Any,
    ) -> None:
        if output and publish:
            raise CommandError("--publish saves in a tenant; it cannot be used with --output.")
        slug = tenant or settings.QUIVER_DEFAULT_TENANT
        try:
            validate_slug(slug)
        except ValidationError:
            raise CommandError(
                f"'{slug}' is not a tenant slug: use letters, digits, '_' and '-'."
            ) from None
        # With --output and no --tenant the file may go anywhere: no name is taken.
        name_taken = names_taken(slug if tenant or not output else None)
        prompter = Prompter(self.stdin, self.stdout)
        try:
            definition = Interview(prompter, name_taken=name_taken, platform=platform).run()
            self.stdout.write("\nThe definition:\n")
            self.stdout.write(dump_yaml([definition]))
            errors = validate_definition(definition)
            if errors:
                self._fail(errors)
            if output:
                self._write(prompter, definition, output)
            else:
                self._save(prompter, definition, slug, publish=publish)
        except (Aborted, KeyboardInterrupt):
            raise CommandError("Stopped: nothing was saved.") from None

    def _write(self, prompter: Prompter, definition: dict[str, Any], output: Path) -> None:
        try:
            write_definition(prompter, definition, output)
        except NotWritten as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Wrote {definition['name']} to {output}."))

    def _save(
        self, prompter: Prompter, definition: dict[str, Any], slug: str, *, publish: bool
    ) -> None:
        try:
            saved = save_definition(prompter, definition, slug, publish=publish)
        except DefinitionInvalid as exc:
            self._fail(exc.errors)
        if saved.tenant_created:
            self.stdout.write(f"Created tenant {slug}.")
        tool = saved.tool
        state = "published" if publish else "saved as a draft"
        version = tool.head_version.version if tool.head_version else ""
        self.stdout.write(self.style.SUCCESS(f"{tool.name} {version} {state} in tenant {slug}."))

    def _fail(self, errors: list[FieldError]) -> NoReturn:
        for error in errors:
            self.stdout.write(self.style.ERROR(f"  {error}"))
        raise CommandError(f"The definition has {len(errors)} problem(s): nothing was saved.")
