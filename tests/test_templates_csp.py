"""Every template keeps to the Content-Security-Policy: no inline script, style or handler."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(
    path
    for folder in [ROOT / "templates", *ROOT.glob("*/templates")]
    for path in folder.rglob("*.html")
)

FORBIDDEN = {
    "an inline <script> (put it in static/js/)": re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE
    ),
    "a <style> block (put it in static/css/)": re.compile(r"<style\b", re.IGNORECASE),
    "a style attribute (use a class)": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an inline event handler (bind it in static/js/)": re.compile(
        r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE
    ),
    "javascript: in a link": re.compile(r"javascript:", re.IGNORECASE),
}


def test_there_are_templates_to_check() -> None:
    assert len(TEMPLATES) > 5


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_nothing_the_policy_blocks(path: Path) -> None:
    text = path.read_text()
    found = [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert not found, f"{path.relative_to(ROOT)} has {', '.join(found)}"
