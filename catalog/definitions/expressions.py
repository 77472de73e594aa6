"""Estimate expressions such as ``2000 + 0.5 * N``: checked, then evaluated with simpleeval.

An expression may use numbers, the pattern's declared context variables, arithmetic,
comparisons, ``a if cond else b`` and a few maths functions. Everything else (names,
attributes, strings, other calls, large exponents) is refused before evaluation, so a
hostile expression costs one parse.
"""

from __future__ import annotations

import ast
import math
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import NamedTuple

from simpleeval import InvalidExpression, NumberTooHigh, SimpleEval

MAX_LENGTH = 500
MAX_NODES = 200
MAX_CONSTANT = 1e15
MAX_EXPONENT = 10

FUNCTIONS = {
    "min": min,
    "max": max,
    "abs": abs,
    "round": lambda x, digits=0: round(x, int(digits)),
    "ceil": math.ceil,
    "floor": math.floor,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "sqrt": math.sqrt,
}

_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.And,
    ast.Or,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
)

_WORDS = {
    ast.Attribute: "attributes (a.b)",
    ast.Subscript: "indexing (a[b])",
    ast.Tuple: "tuples",
    ast.List: "lists",
    ast.Dict: "dictionaries",
    ast.Set: "sets",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.NamedExpr: "assignments",
    ast.JoinedStr: "strings",
    ast.Starred: "star arguments",
}

HELP = (
    "use numbers, the pattern's context variables, + - * / // % **, comparisons, "
    "'a if condition else b' and the functions " + ", ".join(sorted(FUNCTIONS))
)


class ExpressionError(ValueError):
    """An expression that may not be used; the message says why in plain words."""


class _Parsed(NamedTuple):
    tree: ast.Expression
    names: frozenset[str]  # the variables it reads


@lru_cache(maxsize=4096)
def _parse(expression: str) -> _Parsed:
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"is not a valid expression ({exc.msg})") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExpressionError(f"is too long: at most {MAX_NODES} parts")
    called = set()
    for node in nodes:
        _check_node(node)
        if isinstance(node, ast.Constant):
            # Floats overflow loudly where ints would grow without bound.
            node.value = float(node.value)  # type: ignore[arg-type]  # checked above
        elif isinstance(node, ast.Call):
            called.add(id(node.func))
    names = frozenset(n.id for n in nodes if isinstance(n, ast.Name) and id(n) not in called)
    return _Parsed(tree, names)


def _check_node(node: ast.AST) -> None:
    if not isinstance(node, _ALLOWED):
        what = _WORDS.get(type(node), f"'{type(node).__name__}'")
        raise ExpressionError(f"uses {what}, which is not allowed: {HELP}")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ExpressionError(f"uses the value {node.value!r}; only numbers are allowed")
        if abs(node.value) > MAX_CONSTANT:
            raise ExpressionError(f"uses the number {node.value}, larger than {MAX_CONSTANT:g}")
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            called = name or ast.unparse(node.func)
            raise ExpressionError(f"calls '{called}', which is not allowed: {HELP}")
        if node.keywords or not node.args or len(node.args) > 8:
            raise ExpressionError(f"calls '{name}' with unsupported arguments")
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = node.right
        if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub | ast.UAdd):
            exponent = exponent.operand
        if not (
            isinstance(exponent, ast.Constant)
            and isinstance(exponent.value, int | float)
            and abs(exponent.value) <= MAX_EXPONENT
        ):
            raise ExpressionError(f"raises to a power other than a number up to {MAX_EXPONENT}")


def variable_names(expression: str) -> frozenset[str]:
    """The variables an expression reads (function names excluded)."""
    return _parse(expression).names


def check(expression: str | float | int, variables: Iterable[str]) -> None:
    """Raise ExpressionError unless the expression is safe and reads only ``variables``."""
    if isinstance(expression, bool):
        raise ExpressionError("must be a number or an expression, not true/false")
    if isinstance(expression, int | float):
        if not math.isfinite(expression) or abs(expression) > MAX_CONSTANT:
            raise ExpressionError("must be a finite number")
        return
    if not expression.strip():
        raise ExpressionError("is empty")
    unknown = variable_names(expression) - set(variables) - set(FUNCTIONS)
    if unknown:
        names = ", ".join(sorted(unknown))
        declared = ", ".join(sorted(variables)) or "none declared"
        raise ExpressionError(
            f"uses {names}, not a declared context variable (declared: {declared})"
        )


_local = threading.local()


def _evaluator() -> SimpleEval:
    """One evaluator per thread: building one costs more than most evaluations."""
    if not hasattr(_local, "evaluator"):
        _local.evaluator = SimpleEval(functions=FUNCTIONS)
    return _local.evaluator


def evaluate(expression: str | float | int, values: Mapping[str, float]) -> float:
    """The value of an expression for the given variable values, as a finite float."""
    check(expression, values.keys())
    if isinstance(expression, int | float):
        return float(expression)
    evaluator = _evaluator()
    evaluator.names = {k: float(v) for k, v in values.items()}
    try:
        result = evaluator.eval(expression.strip(), previously_parsed=_parse(expression).tree.body)
    except ZeroDivisionError:
        raise ExpressionError("divides by zero for these values") from None
    except (OverflowError, MemoryError, NumberTooHigh):
        raise ExpressionError("is too large for these values") from None
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ExpressionError(f"cannot be computed for these values ({exc})") from None
    except InvalidExpression as exc:
        raise ExpressionError(f"was refused: {exc}") from None
    if isinstance(result, bool):
        result = float(result)
    if not isinstance(result, int | float) or not math.isfinite(result):
        raise ExpressionError("does not give a finite number")
    return float(result)
