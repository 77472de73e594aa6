"""The floor plan holds: apps import only in the direction catalog <- telemetry <- abtests <-
planner, none reaches into another app's api/ package, no module outgrows about 600 lines,
and the catalog keeps its loose modules few (the rest sit in packages named for what they
hold)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["catalog", "telemetry", "abtests", "planner"]
APPS = [app for app in ORDER if (ROOT / app).is_dir()]
MAX_LINES = 620  # "about 600": a module past this is a package split by topic
CATALOG_MAX_TOP_LEVEL = 12


def modules(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def imported(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("app", APPS)
def test_an_app_imports_only_the_apps_to_its_left(app: str) -> None:
    above = set(ORDER[ORDER.index(app) + 1 :])
    wrong = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules(app)
        for name in imported(path)
        if name.split(".")[0] in above
    ]
    assert wrong == []


@pytest.mark.parametrize("app", APPS)
def test_no_app_imports_another_apps_api_package(app: str) -> None:
    others = set(APPS) - {app}
    wrong = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules(app)
        for name in imported(path)
        if name.split(".")[0] in others and name.split(".")[1:2] == ["api"]
    ]
    assert wrong == []


def test_no_module_is_past_about_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for app in [*APPS, "config"]
        for path in modules(app)
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_catalog_keeps_its_loose_modules_few() -> None:
    loose = sorted(p.name for p in (ROOT / "catalog").glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= CATALOG_MAX_TOP_LEVEL, loose
