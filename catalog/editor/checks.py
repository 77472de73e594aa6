"""The live checks the editor page calls as a person types: what an estimate comes to for
the sample values, whether a script reads and which main() it defines, and the problems of
a schema typed into the advanced tab."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from catalog.definitions import expressions, inference, safe_data
from catalog.definitions.json_schemas import check_json_schema
from catalog.definitions.validation import check_script
from catalog.editor.errors import ErrorItem, friendly_path, plain_schema_message


@dataclass
class ExpressionResult:
    ok: bool
    text: str


def format_number(value: float) -> str:
    """2150 -> '2,150'; 2.5 -> '2.5'; 0.0042 -> '0.0042'."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 0.01:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def evaluate_estimate(
    expression: str, samples: Mapping[str, float], kind: str
) -> ExpressionResult | None:
    """What an estimate comes to for the sample values, in words; None when empty."""
    if not expression.strip():
        return None
    try:
        value = expressions.evaluate(expression, samples)
        used = expressions.variable_names(expression) if isinstance(expression, str) else set()
    except expressions.ExpressionError as exc:
        return ExpressionResult(False, f"This formula {exc}")
    if value < 0:
        return ExpressionResult(
            False,
            f"This formula gives {format_number(value)} for the sample values; "
            "an estimate cannot be negative.",
        )
    text = f"= {format_number(value)}" + (" ms" if kind == "time" else "")
    if kind == "time" and value >= 60_000:
        text += f" (about {format_number(round(value / 60_000, 1))} minutes)"
    shown = [f"{name}={format_number(samples[name])}" for name in samples if name in used]
    if shown:
        text += " for " + ", ".join(shown)
    return ExpressionResult(True, text)


@dataclass
class ScriptCheck:
    ok: bool
    message: str
    line: int | None = None


def check_script_text(source: str) -> ScriptCheck | None:
    """ "Looks good: main(host, port=443) found", or what is wrong and on which line."""
    if not source.strip():
        return None
    errors = check_script(source)
    if errors:
        message = errors[0].message
        line = re.search(r"line (\d+)", message)
        return ScriptCheck(False, f"The script {message}.", int(line[1]) if line else None)
    return ScriptCheck(
        True, f"Looks good: {inference.signature_of(inference.find_main(source))} found"
    )


def schema_check_items(text: str) -> list[ErrorItem]:
    """The problems of a schema typed into the advanced tab, each with its path inside."""
    try:
        schema = safe_data.loads(text or "{}")
    except safe_data.UnsafeData as exc:
        return [ErrorItem(friendly_path(exc.path), f"This cannot be saved: it {exc.message}.")]
    except ValueError as exc:
        return [ErrorItem("", f"This is not valid JSON: {exc}")]
    return [
        ErrorItem(friendly_path(e.path), plain_schema_message(e.path, e.message), path=e.path)
        for e in check_json_schema(schema, "")
    ]
