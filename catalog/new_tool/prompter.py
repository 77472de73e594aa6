"""Asking for a definition on a terminal: the prompter, and the readers that check each
answer as it is given (used by the ``new_tool`` wizard, ``catalog.new_tool.wizard``).

Checks reuse the definition schema and the shared validators, so an answer accepted
here is one ``validate_definition`` accepts, with the same messages.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

from django.core.management.base import OutputWrapper

from catalog.definitions import expressions
from catalog.definitions.format import SEMVER
from catalog.definitions.json_schemas import compiled_validator, definition_validator, schema_errors
from catalog.definitions.validation import check_script
from catalog.estimates import Kind, worked_out

T = TypeVar("T")

CLEAR = "-"
INPUT_TYPES = ("string", "integer", "number", "boolean", "array", "object")
INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
VARIABLE = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_]{0,31})\s*(?:=\s*(?P<sample>[-+0-9.eE]+))?\s*(?P<meaning>.*)$"
)


class Aborted(Exception):
    """The person stopped the wizard (typed quit, or closed the input with Ctrl-D)."""


class Invalid(ValueError):
    """An answer that cannot be used; the message says why in plain words."""


# -- asking ------------------------------------------------------------------------------


class Prompter:
    """Asks questions on a text stream and re-asks until an answer parses."""

    def __init__(self, stdin: IO[str], stdout: OutputWrapper) -> None:
        self.stdin, self.stdout = stdin, stdout

    def say(self, text: str = "") -> None:
        self.stdout.write(text)

    def ask(
        self,
        question: str,
        parse: Callable[[str], T],
        *,
        hint: str = "",
        default: str | None = None,
    ) -> T:
        """Show the hint once, then ask until ``parse`` accepts the answer; Enter gives
        the default, which is parsed like a typed answer."""
        if hint:
            self.say(f"  {hint}")
        suffix = f" [{default}]" if default else ""
        while True:
            answer = self._read(f"{question}{suffix}: ")
            try:
                return parse(answer or default or "")
            except Invalid as exc:
                self.say(f"  Error: {exc}")

    def confirm(self, question: str, *, default: bool, hint: str = "") -> bool:
        marks = "Y/n" if default else "y/N"
        return self.ask(
            f"{question} [{marks}]",
            lambda text: parse_yes_no(text) if text else default,
            hint=hint,
        )

    def choose(
        self,
        question: str,
        options: Sequence[tuple[str, str]],
        *,
        default: str | None = None,
        hint: str = "",
    ) -> str:
        """One of ``options`` (value, label), by number or by value."""
        if hint:
            self.say(f"  {hint}")
        for number, (value, label) in enumerate(options, start=1):
            self.say(f"    {number}. {value}" + (f" - {label}" if label else ""))
        return self.ask(question, one_of([value for value, _label in options]), default=default)

    def _read(self, prompt: str) -> str:
        self.stdout.write(prompt, ending="")
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            self.say()
            raise Aborted
        answer = line.strip()
        if answer.lower() == "quit":
            raise Aborted
        return answer


# -- reading answers ----------------------------------------------------------------------


def parse_yes_no(text: str) -> bool:
    word = text.strip().lower()
    if word in ("y", "yes", "true"):
        return True
    if word in ("n", "no", "false"):
        return False
    raise Invalid("answer y or n")


def parse_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise Invalid(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise Invalid(f"'{text}' is not a finite number")
    return value


def show_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def split_list(text: str, separator: str) -> list[str]:
    if text == CLEAR:
        return []
    return [item.strip() for item in text.split(separator) if item.strip()]


def schema_of(path: str) -> dict[str, Any]:
    """The definition schema's rule for a field: ``runtime.timeout_s``, ``tags.items``,
    or a shared part by name (``pattern.policy.max_cost``, ``unit``)."""
    root: dict[str, Any] = definition_validator().schema
    first, *rest = path.split(".")
    node = root["$defs"][first] if first in root["$defs"] else root["properties"][first]
    for key in rest:
        node = node["items"] if key == "items" else node["properties"][key]
    return node


def schema_help(path: str) -> str:
    """The ``description`` the definition schema gives a field, as help text."""
    return str(schema_of(path).get("description", ""))


def check_field(value: Any, path: str) -> Any:
    """``value`` if it fits the definition schema's rule for the field at ``path``."""
    errors = schema_errors(value, compiled_validator(schema_of(path)))
    if errors:
        raise Invalid("; ".join(error.message for error in errors))
    return value


def field_parser(path: str) -> Callable[[str], str]:
    """A reader for a required text field checked by the schema."""

    def parse(text: str) -> str:
        if not text:
            raise Invalid("an answer is required")
        return str(check_field(text, path))

    return parse


def one_of(values: Sequence[str]) -> Callable[[str], str]:
    """A reader for one of ``values``, by name or by its number in the list."""

    def parse(text: str) -> str:
        if text.isdigit() and 1 <= int(text) <= len(values):
            return values[int(text) - 1]
        if text in values:
            # The plain string from the list, not an equal enum member given as default.
            return values[values.index(text)]
        raise Invalid(f"choose 1-{len(values)} or one of: {', '.join(values)}")

    return parse


def parse_version(text: str) -> str:
    if not SEMVER.match(text):
        raise Invalid(f"'{text}' is not a semantic version like 1.2.3")
    return text


def parse_tags(text: str) -> list[str]:
    tags = split_list(text, ",")
    for tag in tags:
        if not re.match(schema_of("tags.items")["pattern"], tag):
            raise Invalid(
                f"'{tag}' is not a valid tag: use lower-case letters, digits, '.', '_' and '-', "
                "at most 40 characters"
            )
    repeated = sorted({tag for tag in tags if tags.count(tag) > 1})
    if repeated:
        raise Invalid(f"'{repeated[0]}' is listed twice")
    return tags


def parse_unit(text: str) -> float:
    return float(check_field(parse_number(text), "unit"))


def parse_value(text: str, kind: str) -> Any:
    """A typed answer read as a value of JSON Schema type ``kind``."""
    if kind == "string":
        return text
    if kind == "boolean":
        try:
            return parse_yes_no(text)
        except Invalid:
            raise Invalid(f"'{text}' is not true or false, as type boolean needs") from None
    if kind == "integer":
        if not re.fullmatch(r"[-+]?\d+", text):
            raise Invalid(f"'{text}' is not a whole number, as type integer needs")
        return int(text)
    if kind == "number":
        try:
            return parse_number(text)
        except Invalid:
            raise Invalid(f"'{text}' is not a number, as type number needs") from None
    example = "[1, 2]" if kind == "array" else '{"key": 1}'
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, list if kind == "array" else dict):
        raise Invalid(f"'{text}' is not written like {example}, as type {kind} needs")
    return value


def show_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def parse_variables(text: str) -> dict[str, dict[str, Any]]:
    """``N=10 number of mounts; M=2 hosts`` as context variables."""
    variables: dict[str, dict[str, Any]] = {}
    for item in split_list(text, ";"):
        match = VARIABLE.match(item)
        if not match:
            raise Invalid(
                f"'{item}' is not NAME=SAMPLE meaning: a name such as N, a number, "
                "then what it counts"
            )
        if match["name"] in variables:
            raise Invalid(f"'{match['name']}' is declared twice")
        sample = parse_number(match["sample"]) if match["sample"] else 1
        variables[match["name"]] = {"description": match["meaning"], "sample": sample}
    return variables


def show_variables(variables: dict[str, dict[str, Any]]) -> str:
    return "; ".join(
        f"{name}={show_number(spec.get('sample', 1))} {spec.get('description', '')}".strip()
        for name, spec in variables.items()
    )


def estimate_parser(samples: dict[str, float], kind: Kind) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text in ("", CLEAR):
            return ""
        try:
            expressions.check(text, samples.keys())
        except expressions.ExpressionError as exc:
            raise Invalid(f"'{text}' {exc}") from None
        worked = worked_out(text, samples, kind)
        if worked is not None and not worked.ok:
            raise Invalid(worked.problem)
        return text

    return parse


def script_parser(template_script: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text == "template":
            source = template_script
        else:
            path = Path(text).expanduser()
            if not path.is_file():
                raise Invalid(f"'{text}' is not a file")
            try:
                source = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise Invalid(f"'{text}' cannot be read: {exc}") from None
        errors = check_script(source)
        if errors:
            raise Invalid("; ".join(str(error) for error in errors))
        return source

    return parse
