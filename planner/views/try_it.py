"""The "Try it" page of a tool: a form made from its input schema, and the live result."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.boundfield import BoundWidget
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from catalog import sandbox_limits
from catalog.accounts.guards import role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.display.in_words import (
    milliseconds_in_words,
    policy_in_words,
    runtime_in_words,
    seconds_in_words,
)
from catalog.estimates import cost_in_words, sample_estimate
from catalog.models import Pattern, Role, RuntimeKind, Tenant, Tool, ToolVersion
from catalog.tool_state import DISABLED, state_of
from planner.forms import ArgumentsForm, ContextForm, RunOptionsForm, pattern_key
from planner.sandbox import BUBBLEWRAP, isolation_level
from planner.services import RunRefused, invoke, patterns_of
from telemetry.models import Execution, ExecutionSource

ARGUMENT_PATH = re.compile(r"arguments\.([^.\[]+)[.]?(.*)")


@dataclass
class PatternChoice:
    """A pattern as the form offers it: its estimates and policy in words, its context
    variables, and (when there is a choice) its radio button."""

    pattern: Pattern
    key: str
    time: str
    cost: str
    policy: list[str]
    context_form: ContextForm
    radio: BoundWidget | None = None


@dataclass
class TryForms:
    arguments: ArgumentsForm
    options: RunOptionsForm
    choices: list[PatternChoice]
    problems: list[str]  # refusals and errors no field owns, shown above the form

    def chosen(self) -> PatternChoice | None:
        key = self.options.cleaned_data.get("pattern") if self.options.is_bound else None
        return next(
            (c for c in self.choices if c.key == key), self.choices[0] if self.choices else None
        )

    def is_valid(self) -> bool:
        chosen = self.chosen() if self.options.is_valid() else None
        context_ok = chosen is None or chosen.context_form.is_valid()
        return self.arguments.is_valid() and self.options.is_valid() and context_ok

    def disable(self) -> None:
        for form in [self.arguments, self.options, *(c.context_form for c in self.choices)]:
            for field in form.fields.values():
                field.disabled = True


@role_required(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def try_it(request: TenantRequest, name: str) -> HttpResponse:
    tools = Tool.objects.for_tenant(request.tenant).select_related("current_version")
    tool = get_object_or_404(tools, name=name)
    version, blocked = tool.current_version, why_not_runnable(tool)
    can_run = Role.rank(request.role) >= Role.rank(Role.OPERATOR)
    if request.method == "POST" and not can_run:
        raise PermissionDenied("Running a tool needs the operator role.")
    data = request.POST if request.method == "POST" else None
    built = build_forms(version, data) if version is not None and not blocked else None
    run = None
    if built is not None and data is not None:
        run = start_run(request, tool, built)
    elif built is not None and not can_run:
        built.disable()
    context: dict[str, Any] = {
        "tool": tool,
        "version": version,
        "blocked": blocked,
        "can_run": can_run,
    }
    context |= {"forms": built, "run": run, "isolation": isolation_of(version, request.tenant)}
    if request.htmx and data is not None:
        return render(request, "planner/try_it.html#try-panel", context)
    return render(request, "planner/try_it.html", context)


@role_required(Role.VIEWER)
@require_GET
def try_it_button(request: TenantRequest, name: str) -> HttpResponse:
    """The Try it button on a tool's page (a slot, see catalog.display.slots): shown to
    operators and up when the tool can run; an empty answer removes the placeholder."""
    tools = Tool.objects.for_tenant(request.tenant).select_related("current_version")
    tool = get_object_or_404(tools, name=name)
    shown = Role.rank(request.role) >= Role.rank(Role.OPERATOR) and not why_not_runnable(tool)
    return render(request, "planner/try_it.html#try-it-button", {"tool": tool, "shown": shown})


def why_not_runnable(tool: Tool) -> str:
    """Why the tool cannot be tried here, in plain words; "" when it can."""
    if tool.is_archived:
        return f"{tool.name} is archived, so it cannot be run. An editor can restore it."
    if state_of(tool) is DISABLED:
        who = "An operator can enable it." if not tool.enabled else "An editor can mark it active."
        return f"{tool.name} is disabled, so it cannot be run. {who}"
    version = tool.current_version
    if version is None:
        return f"{tool.name} has no published version yet. Publish one to try it."
    if version.runtime_kind == RuntimeKind.NONE:
        return (
            f"{tool.name} is only described in Quiver: it runs elsewhere, where agents call "
            "it, so there is nothing to run here."
        )
    return ""


def isolation_of(version: ToolVersion | None, tenant: Tenant) -> dict[str, Any]:
    """How a run of ``version`` is kept apart from the server, for the page to explain."""
    if version is None or version.runtime_kind == RuntimeKind.NONE:
        return {}
    # What a run gets: the tenant's limits may hold a script back (catalog.sandbox_limits).
    allowed = sandbox_limits.effective(tenant)
    memory_mb = version.memory_mb
    if version.runtime_kind == RuntimeKind.SCRIPT:
        memory_mb = min(memory_mb, allowed.memory_mb)
    return {
        "kind": version.runtime_kind,
        "sandboxed": isolation_level() == BUBBLEWRAP,
        "limits": f"{seconds_in_words(version.timeout_s)} and {memory_mb} MB of memory",
        "network": version.network_allowed,
        "runtime": runtime_in_words(version, allowed),
    }


def build_forms(version: ToolVersion, data: Any = None) -> TryForms:
    patterns = patterns_of(version)
    options = RunOptionsForm(data, patterns=patterns)
    choices = [
        PatternChoice(
            pattern=p,
            key=pattern_key(p),
            time=_time_in_words(p),
            cost=_cost_in_words(p),
            policy=policy_in_words(p, restrictions_only=True),
            context_form=ContextForm(p, data, prefix=f"ctx{i}"),
        )
        for i, p in enumerate(patterns)
    ]
    if "pattern" in options.fields:
        for choice, radio in zip(choices, options["pattern"], strict=True):
            choice.radio = radio
    return TryForms(ArgumentsForm(version.input_schema, data), options, choices, [])


def start_run(request: TenantRequest, tool: Tool, built: TryForms) -> Execution | None:
    """Start the run the forms describe; None when they (or a rule) refuse it, with the
    reasons put next to the fields or above the form."""
    if not built.is_valid():
        return None
    chosen = built.chosen()
    try:
        run, _ = invoke(
            request.tenant,
            caller=request.user,
            tool=tool.name,
            pattern=chosen.key if chosen else None,
            arguments=built.arguments.arguments(),
            context=chosen.context_form.context() if chosen else {},
            environment=built.options.cleaned_data["environment"],
            source=ExecutionSource.UI,
        )
    except RunRefused as refused:
        built.problems += ["This run was not started: " + m for m in refused.messages]
    except ValidationError as invalid:
        place_errors(built, invalid)
    else:
        return run
    return None


def place_errors(built: TryForms, error: ValidationError) -> None:
    """Put the run's errors next to the fields they name (``arguments.<property>``,
    ``pattern``, ``environment``); the rest go above the form."""
    for key, messages in (error.message_dict if hasattr(error, "error_dict") else {}).items():
        found = ARGUMENT_PATH.fullmatch(key)
        if found and found[1] in built.arguments.fields:
            where = f"{found[2]}: " if found[2] else ""
            for message in messages:
                built.arguments.add_error(found[1], where + message)
        elif key in built.options.fields:
            built.options.add_error(key, messages)
        else:
            built.problems += messages
    if not hasattr(error, "error_dict"):
        built.problems += error.messages


def _time_in_words(pattern: Pattern) -> str:
    estimate = sample_estimate(pattern)
    ms = estimate.time_ms if estimate else None
    return "" if ms is None else f"about {milliseconds_in_words(ms)}"


def _cost_in_words(pattern: Pattern) -> str:
    estimate = sample_estimate(pattern)
    cost = estimate.cost if estimate else None
    return "" if cost is None else f"about {cost_in_words(cost)}"
