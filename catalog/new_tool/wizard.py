"""The ``new_tool`` wizard: the questions, in order, that make a definition one field at a
time (each answer checked as it is given, ``catalog.new_tool.prompter``), pre-filled from
the platform's starter (``catalog.new_tool.starters``); then, once the person agrees, the
definition saved in a tenant or written to a YAML file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from catalog import services
from catalog.definitions.format import PREFERENCES
from catalog.definitions.json_schemas import compiled_validator
from catalog.estimates import Kind, worked_out
from catalog.formats.files import dump_yaml
from catalog.models import Platform, RuntimeKind, Tenant, Tool
from catalog.new_tool.prompter import (
    CLEAR,
    INPUT_NAME,
    INPUT_TYPES,
    Aborted,
    Invalid,
    Prompter,
    check_field,
    estimate_parser,
    field_parser,
    one_of,
    parse_number,
    parse_tags,
    parse_unit,
    parse_value,
    parse_variables,
    parse_version,
    schema_help,
    script_parser,
    show_number,
    show_value,
    show_variables,
    split_list,
)
from catalog.new_tool.starters import BLANK, EMPTY_SCRIPT, starters

INTRO = (
    "A new tool, one field at a time. Press Enter to keep the value in [brackets], "
    f"type {CLEAR} to leave an optional field empty, and type quit (or press Ctrl-D) "
    "to stop without saving."
)

# An input as the interview collects it: name, property schema, required.
Input = tuple[str, dict[str, Any], bool]


class Interview:
    """The questions, in order: each field's help, then its prompt, until it is valid."""

    def __init__(
        self,
        prompter: Prompter,
        *,
        name_taken: Callable[[str], bool],
        platform: str | None = None,
    ) -> None:
        self.prompter = prompter
        self.name_taken = name_taken
        self.platform = platform
        self.starter = BLANK

    def run(self) -> dict[str, Any]:
        ask = self.prompter.ask
        self.prompter.say(INTRO)
        definition: dict[str, Any] = {"name": self._name()}
        definition["description"] = ask(
            "Description",
            field_parser("description"),
            hint="What the tool does, in a sentence or two: agents choose tools by it.",
        )
        definition["platform"] = self._platform()
        self._offer_starter(definition["platform"])
        definition["category"] = ask(
            "Category",
            field_parser("category"),
            hint=schema_help("category"),
            default=self.starter.category,
        )
        tags = ask(
            "Tags",
            parse_tags,
            hint="Words to find the tool by, separated by commas (e.g. storage, capacity).",
            default=", ".join(self.starter.tags),
        )
        if tags:
            definition["tags"] = tags
        definition["version"] = ask(
            "Version", parse_version, hint=schema_help("version"), default="1.0.0"
        )
        definition["input_schema"] = self._inputs()
        definition.update(self._runtime())
        capabilities = self._capabilities()
        if capabilities:
            definition["capabilities"] = capabilities
        return definition

    # -- what the tool is

    def _name(self) -> str:
        check = field_parser("name")

        def parse(text: str) -> str:
            name = check(text)
            if self.name_taken(name):
                raise Invalid(f"a tool called '{name}' already exists; choose another name")
            return name

        return self.prompter.ask("Name", parse, hint=schema_help("name"))

    def _platform(self) -> str:
        if self.platform:
            self.prompter.say(f"Platform: {self.platform}")
            return self.platform
        return self.prompter.choose(
            "Platform",
            [(value, f"template: {starters()[value].summary}") for value in Platform.values],
            hint="Where the tool does its work. Each platform offers a template to start from.",
        )

    def _offer_starter(self, platform: str) -> None:
        starter = starters()[platform]
        if self.prompter.confirm(
            f"Start from the {platform} template",
            default=True,
            hint=f"The {platform} template is {starter.summary}. It fills in the answers "
            "from here on: keep each with Enter or type your own.",
        ):
            self.starter = starter

    # -- inputs

    def _inputs(self) -> dict[str, Any]:
        self.prompter.say("\nInputs: the arguments the tool takes, one at a time.")
        schema = self.starter.input_schema
        required = set(schema.get("required") or [])
        inputs: list[Input] = []
        for name, prop in (schema.get("properties") or {}).items():
            entry = self._input(inputs, (name, prop, name in required))
            if entry:
                inputs.append(entry)
        while self.prompter.confirm(
            "Add another input" if inputs else "Add an input", default=False
        ):
            entry = self._input(inputs, None)
            if entry:
                inputs.append(entry)
        result: dict[str, Any] = {
            "type": "object",
            "properties": {name: prop for name, prop, _required in inputs},
        }
        if any(is_required for _name, _prop, is_required in inputs):
            result["required"] = [name for name, _prop, is_required in inputs if is_required]
        result["additionalProperties"] = False
        return result

    def _input(self, others: list[Input], current: Input | None) -> Input | None:
        """One input, pre-filled from ``current``; None when the person drops it."""
        ask = self.prompter.ask
        taken = {name for name, _prop, _required in others}
        old_name, old, old_required = current or ("", {}, False)

        def parse_name(text: str) -> str | None:
            if text == CLEAR and current:
                return None
            if not text:
                raise Invalid("an answer is required")
            if not INPUT_NAME.match(text):
                raise Invalid(
                    f"'{text}' is not a valid input name: use letters, digits and '_', "
                    "starting with a letter"
                )
            if text in taken:
                raise Invalid(f"there is already an input called '{text}'")
            return text

        name = ask(
            f"Input {len(others) + 1} name",
            parse_name,
            hint="A name like threshold_pct, as the script's main() receives it"
            + (f"; type {CLEAR} to drop this input." if current else "."),
            default=old_name,
        )
        if name is None:
            return None
        kind = ask(
            "Type",
            one_of(INPUT_TYPES),
            hint="One of: " + ", ".join(INPUT_TYPES) + ".",
            default=old.get("type", "string"),
        )
        description = ask(
            "Description",
            lambda text: "" if text == CLEAR else text,
            hint="What it means, for the people and agents who call the tool.",
            default=old.get("description", ""),
        )
        required = self.prompter.confirm("Required", default=old_required)
        # Bounds such as minimum belong to the old type; a new type starts bare.
        rules: dict[str, Any] = {"type": kind}
        if kind == old.get("type"):
            rules |= {k: v for k, v in old.items() if k not in ("type", "description", "default")}

        def parse_default(text: str) -> Any:
            if text in ("", CLEAR):
                return None
            value = parse_value(text, kind)
            for error in compiled_validator(rules).iter_errors(value):
                raise Invalid(f"'{text}' does not fit: {error.message}")
            return value

        default = ask(
            "Default",
            parse_default,
            hint=f"The value used when a call leaves it out, of type {kind} (Enter for none).",
            default=show_value(old["default"]) if "default" in old else None,
        )
        prop = {"type": kind, **({"description": description} if description else {}), **rules}
        if default is not None:
            prop["default"] = default
        return name, prop, required

    # -- how it runs

    def _runtime(self) -> dict[str, Any]:
        start = self.starter.runtime
        self.prompter.say()
        kind = self.prompter.choose(
            "Runtime", RuntimeKind.choices, hint="How the tool runs.", default=start["kind"]
        )
        timeout = self.prompter.ask(
            "Timeout in seconds",
            lambda text: check_field(parse_number(text), "runtime.timeout_s"),
            hint="A run taking longer is stopped.",
            default=show_number(start["timeout_s"]),
        )
        runtime: dict[str, Any] = {"kind": kind, "timeout_s": timeout}
        fields: dict[str, Any] = {"runtime": runtime}
        if kind == RuntimeKind.SCRIPT:
            if self.prompter.confirm(
                "Does the script need the network", default=start.get("network", False)
            ):
                runtime["network"] = True
            fields["script"] = self.prompter.ask(
                "Script",
                script_parser(self.starter.script or EMPTY_SCRIPT),
                hint=schema_help("script") + " Give a file's path, or Enter for the template's.",
                default="template",
            )
        elif kind == RuntimeKind.CALLABLE:
            runtime["callable"] = self.prompter.ask(
                "Callable name",
                field_parser("runtime.callable"),
                hint=schema_help("runtime.callable"),
            )
        return fields

    # -- what it can do

    def _capabilities(self) -> list[dict[str, Any]]:
        self.prompter.say(
            "\nCapabilities: what the tool can do, each with one or more patterns "
            "(ways of doing it) that carry estimates, policy and preferences."
        )
        capabilities: list[dict[str, Any]] = []
        if self.starter.capability:
            capability = self._capability(capabilities, self.starter.capability)
            if capability:
                capabilities.append(capability)
        while self.prompter.confirm(
            "Add another capability" if capabilities else "Add a capability", default=False
        ):
            capability = self._capability(capabilities, {})
            if capability:
                capabilities.append(capability)
        return capabilities

    def _capability(
        self, others: list[dict[str, Any]], current: dict[str, Any]
    ) -> dict[str, Any] | None:
        """One capability and its patterns, pre-filled from ``current``; None if dropped."""
        name = self.prompter.ask(
            f"Capability {len(others) + 1} name",
            _unique_name("capability.name", {c["name"] for c in others}, droppable=bool(current)),
            hint="What it can do, as a name like disk_capacity_check"
            + (f"; type {CLEAR} to drop it." if current else "."),
            default=current.get("name"),
        )
        if name is None:
            return None
        description = self.prompter.ask(
            "Description",
            field_parser("capability.description"),
            default=current.get("description"),
        )
        patterns: list[dict[str, Any]] = []
        for default in current.get("patterns") or [{}]:
            patterns.append(self._pattern(patterns, default))
        while self.prompter.confirm(f"Add another pattern to {name}", default=False):
            patterns.append(self._pattern(patterns, {}))
        return {"name": name, "description": description, "patterns": patterns}

    def _pattern(self, others: list[dict[str, Any]], current: dict[str, Any]) -> dict[str, Any]:
        ask = self.prompter.ask
        self.prompter.say()
        pattern: dict[str, Any] = {
            "name": ask(
                f"Pattern {len(others) + 1} name",
                _unique_name("pattern.name", {p["name"] for p in others}, droppable=False),
                hint="One way of using the capability, as a name like all_mounts.",
                default=current.get("name"),
            ),
            "description": ask(
                "Description",
                field_parser("pattern.description"),
                default=current.get("description"),
            ),
        }
        use_cases = ask(
            "Use cases",
            lambda text: split_list(text, ";"),
            hint="Questions or requests this pattern answers, separated by ';'.",
            default="; ".join(current.get("typical_use_cases") or []),
        )
        if use_cases:
            pattern["typical_use_cases"] = use_cases
        variables = ask(
            "Context variables",
            parse_variables,
            hint=schema_help("pattern.context_variables")
            + " Write each as NAME=SAMPLE meaning, separated by ';' (e.g. N=10 mounts).",
            default=show_variables(current.get("context_variables") or {}),
        )
        if variables:
            pattern["context_variables"] = variables
        pattern.update(self._estimates(current, variables))
        pattern["complexity_score"] = ask(
            "Complexity score",
            parse_unit,
            hint="How hard the pattern is to use, from 0 (simple) to 1 (very involved).",
            default=show_number(current.get("complexity_score", 0.5)),
        )
        pattern["policy"] = self._policy(current.get("policy") or {})
        preferences = current.get("preference_match") or {}
        self.prompter.say("  How well the pattern suits a caller who values each, from 0 to 1.")
        pattern["preference_match"] = {
            key: ask(
                f"Preference: {key}", parse_unit, default=show_number(preferences.get(key, 0.5))
            )
            for key in PREFERENCES
        }
        return pattern

    def _estimates(
        self, current: dict[str, Any], variables: dict[str, dict[str, Any]]
    ) -> dict[str, str]:
        """Time and cost expressions, each shown with its value for the samples."""
        samples = {name: float(spec["sample"]) for name, spec in variables.items()}
        self.prompter.say(f"  Estimates: {schema_help('expression')}")
        estimates = {}
        kinds: tuple[tuple[str, str, Kind], ...] = (
            ("time_estimate_ms", "Time estimate in ms", "time"),
            ("cost_estimate", "Cost estimate", "cost"),
        )
        for key, question, kind in kinds:
            expression = self.prompter.ask(
                question, estimate_parser(samples, kind), default=str(current.get(key, ""))
            )
            worked = worked_out(expression, samples, kind) if expression else None
            if worked is not None:
                estimates[key] = expression
                self.prompter.say(f"  {worked.text}")
        return estimates

    def _policy(self, current: dict[str, Any]) -> dict[str, Any]:
        def parse_max_cost(text: str) -> float | None:
            if text in ("", CLEAR):
                return None
            return check_field(parse_number(text), "pattern.policy.max_cost")

        max_cost = current.get("max_cost")
        return {
            "max_cost": self.prompter.ask(
                "Maximum cost",
                parse_max_cost,
                hint="Runs estimated to cost more are refused (Enter for no limit).",
                default=None if max_cost is None else show_number(max_cost),
            ),
            "requires_approval": self.prompter.confirm(
                "Does a run need an admin's approval",
                default=current.get("requires_approval", False),
            ),
            "production_safe": self.prompter.confirm(
                "Is it safe to run in production", default=current.get("production_safe", True)
            ),
        }


def _unique_name(path: str, taken: set[str], *, droppable: bool) -> Callable[[str], str | None]:
    check = field_parser(path)

    def parse(text: str) -> str | None:
        if droppable and text == CLEAR:
            return None
        name = check(text)
        if name in taken:
            raise Invalid(f"'{name}' is used twice")
        return name

    return parse


# -- where the definition goes


def names_taken(slug: str | None) -> Callable[[str], bool]:
    """Whether a tool name is taken in the tenant ``slug`` (never, without a slug or when
    that tenant does not exist yet)."""
    tenant = Tenant.objects.filter(slug=slug).first() if slug else None

    def taken(name: str) -> bool:
        return tenant is not None and Tool.objects.for_tenant(tenant).filter(name=name).exists()

    return taken


class NotWritten(Exception):
    """The file was left as it was; the message says why."""


def write_definition(prompter: Prompter, definition: dict[str, Any], output: Path) -> None:
    """The definition written to ``output`` as YAML, once the person agrees (and agrees to
    overwrite the file there)."""
    if not prompter.confirm(f"Write it to {output}", default=True):
        raise Aborted
    overwrite = output.exists()
    if overwrite and not prompter.confirm(f"{output} already exists. Overwrite it", default=False):
        raise NotWritten(f"Left {output} as it was: nothing was written.")
    try:
        with output.open("w" if overwrite else "x", encoding="utf-8") as file:
            file.write(dump_yaml([definition]))
    except OSError as exc:
        raise NotWritten(f"Cannot write {output}: {exc.strerror}.") from None


@dataclass(frozen=True)
class Saved:
    tool: Tool
    tenant_created: bool


def save_definition(
    prompter: Prompter, definition: dict[str, Any], slug: str, *, publish: bool
) -> Saved:
    """The tool saved as a draft (or published) in the tenant ``slug``, created if missing,
    once the person agrees. Raises ``DefinitionInvalid`` with every problem."""
    how = "publish it" if publish else "save it as a draft"
    if not prompter.confirm(f"{how.capitalize()} in tenant {slug}", default=True):
        raise Aborted
    with transaction.atomic():
        tenant = Tenant.objects.filter(slug=slug).first()
        created = tenant is None
        if tenant is None:
            tenant = services.create_tenant(slug=slug)
        tool = services.create_tool(
            tenant,
            definition=definition,
            actor=None,
            reason="created with manage.py new_tool",
            publish=publish,
        )
    return Saved(tool, tenant_created=created)
