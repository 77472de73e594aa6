"""The questions of ``manage.py new_tool``: one field of a definition at a time, each
answer checked as it is given, with a starting template per platform.

Checks reuse the definition schema and the shared validators, so an answer the wizard
accepts is one ``validate_definition`` accepts, with the same messages.
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

from catalog import expressions
from catalog.definitions import PREFERENCES, SEMVER
from catalog.models import Platform, RuntimeKind
from catalog.validation import (
    check_script,
    compiled_validator,
    definition_validator,
    schema_errors,
)

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
        values = [value for value, _label in options]

        def parse(text: str) -> str:
            if text.isdigit() and 1 <= int(text) <= len(values):
                return values[int(text) - 1]
            if text in values:
                return text
            raise Invalid(f"choose 1-{len(values)} or one of: {', '.join(values)}")

        return self.ask(question, parse, default=default)

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


def _schema_at(*path: str) -> dict[str, Any]:
    node: dict[str, Any] = definition_validator().schema
    for key in path:
        node = node[key]
    return node


def schema_help(*path: str) -> str:
    """The ``description`` the definition schema gives a field."""
    return str(_schema_at(*path).get("description", ""))


def check_field(value: Any, *path: str) -> Any:
    """``value`` if it fits the definition schema's rule for the field at ``path``."""
    errors = schema_errors(value, compiled_validator(_schema_at(*path)))
    if errors:
        raise Invalid("; ".join(error.message for error in errors))
    return value


def field_parser(*path: str, optional: bool = False) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if optional and text in ("", CLEAR):
            return None
        if not text:
            raise Invalid("an answer is required")
        return check_field(text, *path)

    return parse


def parse_version(text: str) -> str:
    if not SEMVER.match(text):
        raise Invalid(f"'{text}' is not a semantic version like 1.2.3")
    return text


def parse_tags(text: str) -> list[str]:
    tags = split_list(text, ",")
    for tag in tags:
        if not re.match(_schema_at("properties", "tags", "items")["pattern"], tag):
            raise Invalid(
                f"'{tag}' is not a valid tag: use lower-case letters, digits, '.', '_' and '-', "
                "at most 40 characters"
            )
    repeated = sorted({tag for tag in tags if tags.count(tag) > 1})
    if repeated:
        raise Invalid(f"'{repeated[0]}' is listed twice")
    return tags


def parse_unit(text: str) -> float:
    return float(check_field(parse_number(text), "$defs", "unit"))


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


# -- the interview -----------------------------------------------------------------------

INTRO = (
    "A new tool, one field at a time. Press Enter to keep the value in [brackets], "
    f"type {CLEAR} to leave an optional field empty, and type quit (or press Ctrl-D) "
    "to stop without saving."
)


class Interview:
    """Builds one definition from a person's answers."""

    def __init__(
        self,
        prompter: Prompter,
        *,
        name_taken: Callable[[str], bool],
        platform: str | None = None,
    ) -> None:
        self.p = prompter
        self.name_taken = name_taken
        self.platform = platform
        self.template = BLANK

    def run(self) -> dict[str, Any]:
        self.p.say(INTRO)
        definition: dict[str, Any] = {
            "name": self._name(),
            "description": self.p.ask(
                "Description",
                field_parser("properties", "description"),
                hint="What the tool does, in a sentence or two; agents choose tools by it.",
            ),
            "platform": self._platform(),
        }
        self._offer_template(definition["platform"])
        definition["category"] = self.p.ask(
            "Category",
            field_parser("properties", "category"),
            hint=schema_help("properties", "category"),
            default=self.template.category,
        )
        tags = self.p.ask(
            "Tags",
            parse_tags,
            hint="Words to find the tool by, separated by commas (e.g. storage, capacity).",
            default=", ".join(self.template.tags),
        )
        definition["version"] = self.p.ask(
            "Version",
            parse_version,
            hint=schema_help("properties", "version"),
            default="1.0.0",
        )
        if tags:
            definition["tags"] = tags
        definition["input_schema"] = self._inputs()
        definition.update(self._runtime())
        capabilities = self._capabilities()
        if capabilities:
            definition["capabilities"] = capabilities
        return definition

    # -- who the tool is

    def _name(self) -> str:
        def parse(text: str) -> str:
            name = field_parser("properties", "name")(text)
            if self.name_taken(name):
                raise Invalid(f"a tool called '{name}' already exists; choose another name")
            return str(name)

        return self.p.ask("Name", parse, hint=schema_help("properties", "name"))

    def _platform(self) -> str:
        if self.platform:
            self.p.say(f"Platform: {self.platform}")
            return self.platform
        return self.p.choose(
            "Platform",
            [(value, f"template: {TEMPLATES[value].summary}") for value in Platform.values],
            hint="Where the tool does its work. Each platform offers a template to start from.",
        )

    def _offer_template(self, platform: str) -> None:
        template = TEMPLATES[platform]
        if self.p.confirm(
            f"Start from the {platform} template",
            default=True,
            hint=f"The template is {template.summary}; it fills in the answers from here on, "
            "and you keep each one with Enter or type your own.",
        ):
            self.template = template

    # -- inputs

    def _inputs(self) -> dict[str, Any]:
        self.p.say("Inputs: the arguments the tool takes, one at a time.")
        schema = self.template.input_schema
        required = set(schema.get("required") or [])
        inputs: list[tuple[str, dict[str, Any], bool]] = []
        for name, prop in (schema.get("properties") or {}).items():
            entry = self._input(len(inputs) + 1, inputs, (name, prop, name in required))
            if entry:
                inputs.append(entry)
        question = "Add an input"
        while self.p.confirm(question, default=False):
            entry = self._input(len(inputs) + 1, inputs, None)
            if entry:
                inputs.append(entry)
            question = "Add another input"
        result: dict[str, Any] = {
            "type": "object",
            "properties": {name: prop for name, prop, _required in inputs},
        }
        if any(is_required for _name, _prop, is_required in inputs):
            result["required"] = [name for name, _prop, is_required in inputs if is_required]
        result["additionalProperties"] = False
        return result

    def _input(
        self,
        number: int,
        others: list[tuple[str, dict[str, Any], bool]],
        current: tuple[str, dict[str, Any], bool] | None,
    ) -> tuple[str, dict[str, Any], bool] | None:
        """One input as (name, property schema, required), or None when dropped."""
        taken = {name for name, _prop, _required in others}
        old_name, old, old_required = current or ("", {}, False)

        def parse_name(text: str) -> str | None:
            if text == CLEAR and current:
                return None
            if not INPUT_NAME.match(text):
                raise Invalid(
                    f"'{text}' is not a valid input name: use letters, digits and '_', "
                    "starting with a letter"
                )
            if text in taken:
                raise Invalid(f"there is already an input called '{text}'")
            return text

        name = self.p.ask(
            f"Input {number} name",
            parse_name,
            hint=f"A name like threshold_pct; type {CLEAR} to drop this input."
            if current
            else "A name like threshold_pct, as the script's main() receives it.",
            default=old_name,
        )
        if name is None:
            return None
        kind = self.p.ask(
            "Type",
            lambda text: text if text in INPUT_TYPES else _bad_type(text),
            hint="One of: " + ", ".join(INPUT_TYPES) + ".",
            default=old.get("type", "string"),
        )
        description = self.p.ask(
            "What it means",
            lambda text: "" if text == CLEAR else text,
            default=old.get("description", ""),
        )
        required = self.p.confirm("Required", default=old_required)
        # Bounds such as minimum belong to the old type; a new type starts bare.
        rules = {"type": kind}
        if kind == old.get("type"):
            rules |= {k: v for k, v in old.items() if k not in ("type", "description", "default")}

        def parse_default(text: str) -> Any:
            if text in ("", CLEAR):
                return None
            value = parse_value(text, kind)
            for error in compiled_validator(rules).iter_errors(value):
                raise Invalid(f"{text} does not fit the input: {error.message}")
            return value

        default = self.p.ask(
            "Default",
            parse_default,
            hint="The value used when a call leaves it out (Enter for none).",
            default=show_value(old["default"]) if "default" in old else None,
        )
        prop = {"type": kind, **({"description": description} if description else {})}
        prop |= rules
        if default is not None:
            prop["default"] = default
        return name, prop, required

    # -- how it runs

    def _runtime(self) -> dict[str, Any]:
        template = self.template.runtime
        kind = self.p.choose(
            "Runtime",
            RuntimeKind.choices,
            hint="How the tool runs.",
            default=template["kind"],
        )
        runtime: dict[str, Any] = {
            "kind": kind,
            "timeout_s": self.p.ask(
                "Timeout in seconds",
                lambda text: check_field(
                    parse_number(text), "properties", "runtime", "properties", "timeout_s"
                ),
                hint="A run taking longer is stopped.",
                default=show_number(template["timeout_s"]),
            ),
        }
        fields: dict[str, Any] = {"runtime": runtime}
        if kind == RuntimeKind.SCRIPT:
            if self.p.confirm(
                "Does the script need the network", default=template.get("network", False)
            ):
                runtime["network"] = True
            fields["script"] = self.p.ask(
                "Script",
                script_parser(self.template.script or EMPTY_SCRIPT),
                hint=schema_help("properties", "script")
                + " Give a file's path, or Enter for the template's script.",
                default="template",
            )
        elif kind == RuntimeKind.CALLABLE:
            runtime["callable"] = self.p.ask(
                "Callable name",
                field_parser("properties", "runtime", "properties", "callable"),
                hint=schema_help("properties", "runtime", "properties", "callable"),
            )
        return fields

    # -- what it can do

    def _capabilities(self) -> list[dict[str, Any]]:
        self.p.say(
            "Capabilities: what the tool can do, each with one or more patterns "
            "(ways of doing it) that carry estimates, policy and preferences."
        )
        capabilities: list[dict[str, Any]] = []
        if self.template.capability:
            capability = self._capability(capabilities, self.template.capability)
            if capability:
                capabilities.append(capability)
        question = "Add a capability"
        while self.p.confirm(question, default=False):
            capability = self._capability(capabilities, {})
            if capability:
                capabilities.append(capability)
            question = "Add another capability"
        return capabilities

    def _capability(
        self, others: list[dict[str, Any]], current: dict[str, Any]
    ) -> dict[str, Any] | None:
        path = ("$defs", "capability", "properties")
        name = self.p.ask(
            f"Capability {len(others) + 1} name",
            _unique_name(path, {c["name"] for c in others}, droppable=bool(current)),
            hint="What it can do, as a name like disk_capacity_check"
            + (f"; type {CLEAR} to drop it." if current else "."),
            default=current.get("name"),
        )
        if name is None:
            return None
        capability = {
            "name": name,
            "description": self.p.ask(
                "Description",
                field_parser(*path, "description"),
                default=current.get("description"),
            ),
            "patterns": [],
        }
        defaults = list(current.get("patterns") or [{}])
        while True:
            default = defaults.pop(0) if defaults else {}
            capability["patterns"].append(self._pattern(capability["patterns"], default))
            if not defaults and not self.p.confirm(f"Add another pattern to {name}", default=False):
                return capability

    def _pattern(self, others: list[dict[str, Any]], current: dict[str, Any]) -> dict[str, Any]:
        path = ("$defs", "pattern", "properties")
        pattern: dict[str, Any] = {
            "name": self.p.ask(
                f"Pattern {len(others) + 1} name",
                _unique_name(path, {p["name"] for p in others}, droppable=False),
                hint="One way of using the capability, as a name like all_mounts.",
                default=current.get("name"),
            ),
            "description": self.p.ask(
                "Description",
                field_parser(*path, "description"),
                default=current.get("description"),
            ),
        }
        use_cases = self.p.ask(
            "Use cases",
            lambda text: split_list(text, ";"),
            hint="Questions or requests this pattern answers, separated by ';'.",
            default="; ".join(current.get("typical_use_cases") or []),
        )
        variables = self.p.ask(
            "Context variables",
            parse_variables,
            hint=schema_help(*path, "context_variables")
            + " Write each as NAME=SAMPLE meaning, separated by ';' (e.g. N=10 mounts).",
            default=show_variables(current.get("context_variables") or {}),
        )
        if use_cases:
            pattern["typical_use_cases"] = use_cases
        if variables:
            pattern["context_variables"] = variables
        samples = {name: float(spec["sample"]) for name, spec in variables.items()}
        self.p.say(f"  Estimates: {schema_help('$defs', 'expression')}")
        for key, question, unit in (
            ("time_estimate_ms", "Time estimate in ms", " ms"),
            ("cost_estimate", "Cost estimate", ""),
        ):
            expression = self.p.ask(
                question, estimate_parser(samples), default=str(current.get(key, "") or "")
            )
            if expression:
                pattern[key] = expression
                value = expressions.evaluate(expression, samples)
                where = ", ".join(f"{n}={show_number(v)}" for n, v in samples.items())
                self.p.say(f"  = {show_number(value)}{unit}" + (f" for {where}" if where else ""))
        pattern["complexity_score"] = self.p.ask(
            "Complexity score",
            parse_unit,
            hint="How hard the pattern is to use, from 0 (trivial) to 1 (very).",
            default=show_number(current.get("complexity_score", 0.5)),
        )
        pattern["policy"] = self._policy(current.get("policy") or {})
        preferences = current.get("preference_match") or {}
        self.p.say("  How well the pattern suits a caller who values each of these, from 0 to 1.")
        pattern["preference_match"] = {
            key: self.p.ask(
                f"Preference: {key}", parse_unit, default=show_number(preferences.get(key, 0.5))
            )
            for key in PREFERENCES
        }
        return pattern

    def _policy(self, current: dict[str, Any]) -> dict[str, Any]:
        def parse_max_cost(text: str) -> float | None:
            if text in ("", CLEAR):
                return None
            return check_field(
                parse_number(text),
                "$defs",
                "pattern",
                "properties",
                "policy",
                "properties",
                "max_cost",
            )

        max_cost = current.get("max_cost")
        return {
            "max_cost": self.p.ask(
                "Maximum cost",
                parse_max_cost,
                hint="Refuse a run whose cost estimate is higher (Enter for no limit).",
                default=None if max_cost is None else show_number(max_cost),
            ),
            "requires_approval": self.p.confirm(
                "Does a run need a person's approval",
                default=current.get("requires_approval", False),
            ),
            "production_safe": self.p.confirm(
                "Is it safe to run in production", default=current.get("production_safe", True)
            ),
        }


def _bad_type(text: str) -> str:
    raise Invalid(f"'{text}' is not a type; choose one of: {', '.join(INPUT_TYPES)}")


def _unique_name(
    path: tuple[str, ...], taken: set[str], *, droppable: bool
) -> Callable[[str], str | None]:
    def parse(text: str) -> str | None:
        if droppable and text == CLEAR:
            return None
        name = field_parser(*path, "name")(text)
        if name in taken:
            raise Invalid(f"'{name}' is used twice")
        return str(name)

    return parse
