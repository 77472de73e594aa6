"""Pages as a person sees them: with the fragments htmx loads into them filled in."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

# A placeholder the page asks htmx to replace with a fragment once it has loaded.
LOADED_SLOT = re.compile(r'<(\w+) class="tool-slot" hx-get="([^"]+)" hx-trigger="load"[^>]*></\1>')


def with_slots(client: Client, response: Any) -> str:
    """The page's HTML with every slot replaced by its fragment (htmx's outerHTML swap)."""
    assert response.status_code == 200, response.status_code

    def fill(match: re.Match[str]) -> str:
        fragment = client.get(match.group(2), HTTP_HX_REQUEST="true")
        assert fragment.status_code == 200, (match.group(2), fragment.status_code)
        return fragment.content.decode()

    return LOADED_SLOT.sub(fill, response.content.decode())
