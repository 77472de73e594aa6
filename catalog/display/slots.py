"""Room on a tool's page for the apps above the catalog, which the catalog may not import.

An app lists, on its AppConfig, what it shows on a tool's page (``tool_page_slots``): each a
fragment served from the app's own URL, which takes the tool's name. The page leaves a
placeholder for each that htmx fills once the page has loaded; a fragment with nothing to
show for this person or this tool answers with an empty body and the placeholder goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.apps import apps
from django.urls import reverse

Place = Literal["actions", "sections"]


@dataclass(frozen=True)
class ToolPageSlot:
    """A fragment another app shows on a tool's page.

    ``place`` is where: ``actions`` beside the Edit button, ``sections`` below the
    definition. ``label`` says what is loading there, for screen readers.
    """

    url_name: str
    place: Place
    label: str


@dataclass(frozen=True)
class FilledSlot:
    url: str
    label: str


def slots_for(tool_name: str) -> dict[Place, list[FilledSlot]]:
    """Every registered slot with its fragment's URL for this tool, by place, in the order
    of INSTALLED_APPS."""
    found: dict[Place, list[FilledSlot]] = {"actions": [], "sections": []}
    for config in apps.get_app_configs():
        for slot in getattr(config, "tool_page_slots", ()):
            url = reverse(slot.url_name, args=[tool_name])
            found[slot.place].append(FilledSlot(url, slot.label))
    return found
