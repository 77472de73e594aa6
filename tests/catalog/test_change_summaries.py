"""Change summaries show where long texts differ, word by word, not each side's beginning."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.display.word_diff import Piece, word_diff
from catalog.models import AuditAction, AuditLog, Tenant, Tool
from catalog.selectors import definition_of, with_content
from tests.factories import make_definition

pytestmark = pytest.mark.django_db

# About 600 characters, so that both sides agree far beyond their first 200.
LONG = " ".join(f"Sentence {n} says the disk report lists mounts in order." for n in range(11))
ADDED = "It now also reports inode usage."
INSERTED = (
    '<ins><span class="visually-hidden">[added: </span>'
    f" {ADDED}"
    '<span class="visually-hidden">]</span></ins>'
)


@pytest.fixture
def edited(tenant: Tenant, editor: Any) -> Tool:
    """A tool whose 600-character description got a sentence at its end in version 1.0.1."""
    tool = services.create_tool(
        tenant, definition=make_definition(description=LONG), actor=editor, publish=True
    )
    base = with_content(tool.versions.filter(pk=tool.head_version_id)).get()
    definition = definition_of(base)
    definition.pop("version")
    definition["description"] = f"{LONG} {ADDED}"
    services.edit_tool(tool, definition=definition, base_version=base, actor=editor)
    tool.refresh_from_db()
    return tool


def test_word_diff_keeps_context_around_a_change_and_leaves_out_the_rest() -> None:
    pieces = word_diff(LONG, f"{LONG} {ADDED}")
    assert pieces[0] == Piece("gap", "…")
    assert pieces[-1] == Piece("added", f" {ADDED}")
    assert "order." in pieces[1].text
    assert len(pieces[1].text) < 100


def test_word_diff_marks_a_replaced_word_in_the_middle() -> None:
    pieces = word_diff("check the disk now", "check the volume now")
    assert [p.kind for p in pieces] == ["same", "removed", "added", "same"]
    assert (pieces[1].text, pieces[2].text) == ("disk", "volume")


def test_version_diff_shows_the_sentence_added_at_the_end(
    client: Client, viewer: Any, edited: Tool
) -> None:
    client.force_login(viewer)
    url = reverse("catalog:tool_diff", args=[edited.name])
    html = client.get(url, {"a": "1.0.0", "b": "1.0.1"}).content.decode()
    assert INSERTED in html


def test_audit_list_shows_the_sentence_added_at_the_end(
    client: Client, viewer: Any, edited: Tool
) -> None:
    client.force_login(viewer)
    html = client.get(reverse("catalog:audit_list")).content.decode()
    assert INSERTED in html


def test_audit_entry_shows_the_sentence_added_at_the_end(
    client: Client, viewer: Any, edited: Tool
) -> None:
    entry = AuditLog.objects.get(tool=edited, action=AuditAction.UPDATE)
    client.force_login(viewer)
    html = client.get(reverse("catalog:audit_detail", args=[entry.pk])).content.decode()
    assert INSERTED in html
    assert "Sentence 0 says" not in html.split("change-list", 1)[1]


def test_short_values_still_read_old_to_new(client: Client, viewer: Any, edited: Tool) -> None:
    client.force_login(viewer)
    html = client.get(reverse("catalog:audit_list")).content.decode()
    assert '<span class="old">1.0.0</span> → <span class="new">1.0.1</span>' in html


def test_word_diff_of_two_long_repetitive_texts_stays_fast() -> None:
    import time

    words = ["disk", "mount", "the", "usage", "of"] * 800
    old, new = " ".join(words), " ".join([*words[:1500], "NEW", *words[1500:]])
    started = time.perf_counter()
    pieces = word_diff(old, new)
    assert time.perf_counter() - started < 0.5
    assert Piece("added", "NEW ") in pieces or any("NEW" in p.text for p in pieces)
