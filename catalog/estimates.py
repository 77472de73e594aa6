"""A pattern's time and cost estimates: its expressions evaluated for a run's context, or for
the samples its context variables declare, and what they come to in words.

The run service, Try it, the tool page, the editor and the ``new_tool`` wizard all read
estimates here, so that a pattern's estimate is worked out, checked and worded one way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from django.core.exceptions import ValidationError

from catalog.definitions import expressions
from catalog.models import Pattern

Kind = Literal["time", "cost"]

# Definitions give costs as plain numbers in the tenant's own unit (see the editor's
# help); every page names that unit the same way.
COST_UNIT = "cost units"


class Estimate(NamedTuple):
    """A pattern's estimates for a context; ``None`` where it has none or it cannot be
    computed for these values."""

    time_ms: float | None
    cost: float | None


def samples_of(context_variables: Any) -> dict[str, float]:
    """The sample value each declared context variable gives (1 where it gives none)."""
    if not isinstance(context_variables, dict):
        return {}
    samples: dict[str, float] = {}
    for name, spec in context_variables.items():
        sample = spec.get("sample", 1) if isinstance(spec, dict) else 1
        if isinstance(sample, int | float) and not isinstance(sample, bool):
            samples[str(name)] = float(sample)
    return samples


def values_for(pattern: Pattern, context: Mapping[str, Any]) -> dict[str, float]:
    """The pattern's declared variables for a run: from ``context``, else their samples.

    A declared variable given something other than a finite number is refused
    (ValidationError keyed ``context``); undeclared keys are ignored.
    """
    declared = pattern.context_variables if isinstance(pattern.context_variables, dict) else {}
    values: dict[str, float] = {}
    for name, spec in declared.items():
        value = context.get(name, (spec or {}).get("sample", 1))
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError({"context": [f"'{name}' must be a number, not {value!r}"]})
        if not math.isfinite(value):
            raise ValidationError({"context": [f"'{name}' must be a finite number"]})
        values[name] = float(value)
    return values


def estimate_for(pattern: Pattern | None, context: Mapping[str, Any]) -> Estimate:
    """The pattern's time and cost for a run's context variables (see ``values_for``)."""
    if pattern is None:
        return Estimate(None, None)
    values = values_for(pattern, context)
    return Estimate(
        _evaluated(pattern.time_estimate_ms, values), _evaluated(pattern.cost_estimate, values)
    )


def sample_estimate(pattern: Pattern) -> Estimate | None:
    """The pattern's estimates for its variables' samples; None when a sample is not a
    number (there is nothing to show then)."""
    try:
        return estimate_for(pattern, {})
    except ValidationError:
        return None


def _evaluated(expression: str, values: Mapping[str, float]) -> float | None:
    if not expression.strip():
        return None
    try:
        return expressions.evaluate(expression, values)
    except expressions.ExpressionError:
        # E.g. "1000 / N" for N = 0: no estimate rather than a failed run; policy
        # decides what a missing estimate means.
        return None


# -- in words ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Worked:
    """An estimate expression worked out for sample values, in words: ``amount`` such as
    "2,150 ms" and the ``samples`` it used such as "N=300", or the ``problem`` with it."""

    expression: str
    amount: str = ""
    samples: str = ""
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def text(self) -> str:
        """ "= 2,150 ms for N=300", or the problem."""
        if self.problem:
            return self.problem
        return f"= {self.amount}" + (f" for {self.samples}" if self.samples else "")


def worked_out(expression: str, samples: Mapping[str, float], kind: Kind) -> Worked | None:
    """What an estimate expression comes to for ``samples``; None when it is empty."""
    expression = expression.strip()
    if not expression:
        return None
    try:
        value = expressions.evaluate(expression, samples)
        used = expressions.variable_names(expression)
    except expressions.ExpressionError as exc:
        return Worked(expression, problem=f"This formula {exc}")
    if value < 0:
        return Worked(
            expression,
            problem=f"This formula gives {format_number(value)} for the sample values; "
            "an estimate cannot be negative.",
        )
    shown = ", ".join(f"{name}={format_number(samples[name])}" for name in samples if name in used)
    return Worked(expression, amount=amount_in_words(value, kind), samples=shown)


def amount_in_words(value: float, kind: Kind) -> str:
    """ "2,150 ms", "90,000 ms (about 1.5 minutes)", "2.5 cost units"."""
    if kind == "cost":
        return f"{format_number(value)} {COST_UNIT}"
    text = f"{format_number(value)} ms"
    if value >= 60_000:
        text += f" (about {format_number(round(value / 60_000, 1))} minutes)"
    return text


def cost_in_words(cost: float) -> str:
    """A cost with its unit: "2.5 cost units"."""
    return amount_in_words(round(cost, 2), "cost")


def format_number(value: float) -> str:
    """2150 -> '2,150'; 2.5 -> '2.5'; 0.0042 -> '0.0042'."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 0.01:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"
