"""Where the ``new_tool`` wizard starts from: each platform's starter (the wizard offers it
as "the <platform> template"), read from ``starters/<platform>.yaml``, and the blank one
for a person who declines it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from catalog.models import Platform, RuntimeKind

STARTERS_DIR = Path(__file__).parent / "starters"

# The script a script tool starts with when its starter has none.
EMPTY_SCRIPT = "def main(**kwargs) -> dict:\n    return {}\n"


@dataclass(frozen=True)
class Starter:
    """A platform's starting point: every answer it pre-fills."""

    summary: str
    category: str
    tags: tuple[str, ...]
    input_schema: dict[str, Any]
    runtime: dict[str, Any]
    capability: dict[str, Any]
    script: str = ""


BLANK = Starter(
    summary="",
    category="",
    tags=(),
    input_schema={"type": "object", "properties": {}},
    runtime={"kind": RuntimeKind.NONE, "timeout_s": 30},
    capability={},
)


@cache
def starters() -> dict[str, Starter]:
    """Every platform's starter, by platform."""
    return {
        platform: read_starter(STARTERS_DIR / f"{platform}.yaml") for platform in Platform.values
    }


def read_starter(path: Path) -> Starter:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Starter(**{**data, "tags": tuple(data.get("tags") or ())})
