"""Asking for a definition on a terminal: the prompter, the readers that check each
answer as it is given, and a starting template per platform (used by ``new_tool``).

Checks reuse the definition schema and the shared validators, so an answer accepted
here is one ``validate_definition`` accepts, with the same messages.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from django.core.management.base import OutputWrapper

from catalog.definitions import expressions
from catalog.definitions.format import SEMVER
from catalog.definitions.json_schemas import compiled_validator, definition_validator, schema_errors
from catalog.definitions.validation import check_script
from catalog.models import Platform, RuntimeKind

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


def estimate_parser(samples: dict[str, float]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text in ("", CLEAR):
            return ""
        try:
            expressions.check(text, samples.keys())
            value = expressions.evaluate(text, samples)
        except expressions.ExpressionError as exc:
            raise Invalid(f"'{text}' {exc}") from None
        if value < 0:
            raise Invalid(f"'{text}' is negative ({value:g}) for the samples")
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


# -- templates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A platform's starting point: every answer it pre-fills."""

    summary: str
    category: str
    tags: tuple[str, ...]
    input_schema: dict[str, Any]
    runtime: dict[str, Any]
    capability: dict[str, Any]
    script: str = ""


EMPTY_SCRIPT = "def main(**kwargs) -> dict:\n    return {}\n"

LINUX_SCRIPT = '''\
import shutil


def main(threshold_pct: int = 80) -> dict:
    """File systems at least threshold_pct full, fullest first."""
    mounts = []
    with open("/proc/mounts") as table:
        for line in table:
            device, mount_point, *_rest = line.split()
            usage = shutil.disk_usage(mount_point) if device.startswith("/dev/") else None
            if usage and usage.total:
                used_pct = round(100 * usage.used / usage.total, 1)
                if used_pct >= threshold_pct:
                    mounts.append({"mount": mount_point, "used_pct": used_pct})
    return {"mounts": sorted(mounts, key=lambda mount: -mount["used_pct"])}
'''

NETWORK_SCRIPT = '''\
import socket
import time


def main(host: str, port: int = 443) -> dict:
    """Whether a TCP connection to host:port opens, and how long it took."""
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
    except OSError as exc:
        return {"reachable": False, "error": str(exc)}
    return {"reachable": True, "connect_ms": round(1000 * (time.monotonic() - started), 1)}
'''


def _pattern(name: str, description: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "description": description, **fields}


TEMPLATES: dict[str, Template] = {
    Platform.LINUX: Template(
        summary="a script that reports file systems fuller than a threshold",
        category="monitoring",
        tags=("storage", "capacity"),
        input_schema={
            "type": "object",
            "properties": {
                "threshold_pct": {
                    "type": "integer",
                    "description": "Only report file systems at least this full (percent).",
                    "minimum": 0,
                    "maximum": 100,
                    "default": 80,
                }
            },
        },
        runtime={"kind": RuntimeKind.SCRIPT, "timeout_s": 30},
        script=LINUX_SCRIPT,
        capability={
            "name": "disk_capacity_check",
            "description": "Find file systems running out of space.",
            "patterns": [
                _pattern(
                    "all_mounts",
                    "Check every mounted file system once.",
                    typical_use_cases=["is the disk full", "which volume is almost full"],
                    context_variables={"N": {"description": "mounted file systems", "sample": 10}},
                    time_estimate_ms="200 + 2 * N",
                    cost_estimate="1",
                    complexity_score=0.2,
                    policy={"max_cost": 5},
                    preference_match={"speed": 0.9, "accuracy": 1.0, "cost": 0.9},
                )
            ],
        },
    ),
    Platform.WINDOWS: Template(
        summary="a described-only tool that inventories one Windows computer",
        category="system",
        tags=("windows", "inventory"),
        input_schema={
            "type": "object",
            "properties": {
                "computer_name": {
                    "type": "string",
                    "description": "The computer's host name, e.g. FILESRV01.",
                }
            },
            "required": ["computer_name"],
        },
        runtime={"kind": RuntimeKind.NONE, "timeout_s": 60},
        capability={
            "name": "computer_inventory",
            "description": "Describe a Windows computer: version, uptime and installed updates.",
            "patterns": [
                _pattern(
                    "remote_query",
                    "Ask the computer once over WinRM.",
                    typical_use_cases=["which updates does this server have", "when did it boot"],
                    context_variables={"U": {"description": "installed updates", "sample": 50}},
                    time_estimate_ms="1500 + 10 * U",
                    cost_estimate="1",
                    complexity_score=0.4,
                )
            ],
        },
    ),
    Platform.NETWORK: Template(
        summary="a script that checks whether a TCP port answers",
        category="network",
        tags=("connectivity", "tcp"),
        input_schema={
            "type": "object",
            "properties": {
                "host": {"type": "string", "description": "Host name or IP address."},
                "port": {
                    "type": "integer",
                    "description": "TCP port to connect to.",
                    "minimum": 1,
                    "maximum": 65535,
                    "default": 443,
                },
            },
            "required": ["host"],
        },
        runtime={"kind": RuntimeKind.SCRIPT, "timeout_s": 10, "network": True},
        script=NETWORK_SCRIPT,
        capability={
            "name": "port_check",
            "description": "Tell whether a service is reachable on a host and port.",
            "patterns": [
                _pattern(
                    "single_connect",
                    "Open one TCP connection and close it.",
                    typical_use_cases=["is the database port open", "can this host reach the API"],
                    context_variables={"R": {"description": "round trip in ms", "sample": 40}},
                    time_estimate_ms="R + 10",
                    cost_estimate="0.1",
                    complexity_score=0.1,
                )
            ],
        },
    ),
    Platform.SCHEDULER: Template(
        summary="a described-only tool that reports on one scheduled job",
        category="automation",
        tags=("cron", "jobs"),
        input_schema={
            "type": "object",
            "properties": {
                "job_name": {"type": "string", "description": "The job's name in the scheduler."}
            },
            "required": ["job_name"],
        },
        runtime={"kind": RuntimeKind.NONE, "timeout_s": 30},
        capability={
            "name": "cron",
            "description": "Tell when a scheduled job runs next and how its last run went.",
            "patterns": [
                _pattern(
                    "by_job_name",
                    "Look the job up by name in the schedule.",
                    typical_use_cases=["when does the backup run", "did last night's job fail"],
                    context_variables={"J": {"description": "scheduled jobs", "sample": 20}},
                    time_estimate_ms="50 + J",
                    cost_estimate="0.1",
                    complexity_score=0.2,
                )
            ],
        },
    ),
    Platform.CUSTOM: Template(
        summary="an empty script with a main() to fill in",
        category="general",
        tags=(),
        input_schema={"type": "object", "properties": {}},
        runtime={"kind": RuntimeKind.SCRIPT, "timeout_s": 30},
        script=EMPTY_SCRIPT,
        capability={
            "name": "run",
            "description": "Run the script once.",
            "patterns": [_pattern("once", "One call of main().", time_estimate_ms="100")],
        },
    ),
}

BLANK = Template(
    summary="",
    category="",
    tags=(),
    input_schema={"type": "object", "properties": {}},
    runtime={"kind": RuntimeKind.NONE, "timeout_s": 30},
    capability={},
)
