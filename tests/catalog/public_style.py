"""A public-style list of OpenAI function-calling tools, written the way public data sets
write them: camelCase and PascalCase names, dotted and spaced names, names that collide
ignoring case or once rewritten, and the schema habits of real data (Java type names, an
empty type, ``optional: "yes"``, allowed strings on an array, ``"dontcare"`` among a
boolean's or an integer's values).

``public_style_tools(n)`` is deterministic: the same list every time, so a test can say
exactly what each tool becomes. ``python -m tests.catalog.public_style FILE [N]`` writes it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

VERBS = ["get", "search", "calculate", "convert", "list", "create", "find", "check"]
NOUNS = ["Weather", "StockPrice", "Flight", "Recipe", "Movie", "Invoice", "Route", "Song"]


def _function(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def _parameters(number: int) -> dict[str, Any]:
    """One of the habits of real data, chosen by ``number``."""
    habit = number % 6
    properties: dict[str, Any] = {"query": {"type": "string", "description": "What to look for"}}
    if habit == 0:
        properties["ids"] = {"type": "ArrayList", "description": "Identifiers"}
    elif habit == 1:
        properties["anything"] = {"type": "", "description": "Any value"}
    elif habit == 2:
        properties["limit"] = {"type": "integer", "optional": "yes", "description": "How many"}
    elif habit == 3:
        properties["genres"] = {"type": "array", "enum": ["rock", "jazz", "pop"]}
    elif habit == 4:
        properties["refundable"] = {"type": "boolean", "enum": [True, False, "dontcare"]}
        properties["stops"] = {"type": "integer", "enum": [0, 1, 2, "dontcare"]}
    else:
        properties["amount"] = {"type": "Double"}
        properties["tags"] = {"type": "List<String>"}
    return {"type": "object", "properties": properties, "required": ["query"]}


def public_style_tools(count: int = 400) -> list[dict[str, Any]]:
    """``count`` tools (at least 64): mostly distinct camelCase names, then the collisions."""
    tools = []
    for number in range(count - 8):
        verb, noun = VERBS[number % len(VERBS)], NOUNS[(number // len(VERBS)) % len(NOUNS)]
        style = number % 4
        base = f"{verb}{noun}{number}"
        name = {
            0: base,  # getWeather0: camelCase
            1: base[0].upper() + base[1:],  # PascalCase
            2: f"{verb}_{noun}_{number}",  # snake_case keeping its capitals
            3: f"{noun.lower()}.{verb}{number}",  # dotted: rewritten
        }[style]
        tools.append(
            _function(name, f"{verb.title()} the {noun} number {number}.", _parameters(number))
        )
    # The collisions of real data sets: the same name in another case, or once rewritten.
    for name in ("calculate_BMI", "calculate_bmi", "math.gcd", "math_gcd", "ChatOCR", "chatOCR"):
        tools.append(_function(name, f"{name}, as one data set wrote it.", _parameters(2)))
    tools.append(_function("get weather now", "A name with spaces.", _parameters(3)))
    tools.append(_function("getWeatherByCity", "A plain camelCase name.", _parameters(5)))
    return tools


# What a few of them cannot be read as: no description, a type with no reading.
UNREADABLE = [
    _function("noDescription", "", {"type": "object", "properties": {}}),
    _function(
        "makeWidget", "Makes a widget.", {"type": "object", "properties": {"x": {"type": "widget"}}}
    ),
]


if __name__ == "__main__":
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(public_style_tools(size), out, indent=1)
