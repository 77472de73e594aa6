"""A problem with a definition, by field path: ``FieldError(path, message)``, the path
naming the field (``input_schema.properties.limit.default``, ``capabilities[0].patterns[1]
.time_estimate_ms``) and the message saying what is wrong in plain words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DefinitionInvalid(ValidationError):
    """A definition with one or more field errors; ``errors`` keeps them in order."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        grouped: dict[str, list[str]] = {}
        for error in errors:
            grouped.setdefault(error.path or "__all__", []).append(error.message)
        super().__init__(grouped)


def join_path(base: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{base}[{part}]"
    return f"{base}.{part}" if base else part


def json_path(parts: Iterable[str | int], base: str = "") -> str:
    path = base
    for part in parts:
        path = join_path(path, part)
    return path
