"""Where two texts differ, word by word, with a little unchanged text around each change.

Change summaries (the version comparison, the audit list, an audit entry) show long
values this way instead of each side's beginning, so a sentence added at the end of
a long description is visible as added.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

CONTEXT_WORDS = 8  # unchanged words kept on each side of a change
# Between their common beginning and end, two texts are matched word by word only up to
# this many pieces a side (matching is quadratic at worst: 3,800 pieces of repetitive
# text took 2 s); beyond it the middle is matched line by line.
MAX_WORD_PIECES = 1500

Kind = Literal["same", "removed", "added", "gap"]
_PIECES = re.compile(r"\s+|\S+")


@dataclass(frozen=True)
class Piece:
    """A run of text unchanged, removed or added; a gap stands for unchanged text left out."""

    kind: Kind
    text: str


def word_diff(old: str, new: str, *, context: int = CONTEXT_WORDS) -> list[Piece]:
    """The changes from ``old`` to ``new``, each with ``context`` unchanged words around it."""
    a, b = _PIECES.findall(old), _PIECES.findall(new)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    if max(len(middle_a), len(middle_b)) > MAX_WORD_PIECES:
        middle_a = "".join(middle_a).splitlines(keepends=True)
        middle_b = "".join(middle_b).splitlines(keepends=True)
    head, tail = a[:start], a[len(a) - end :]
    opcodes = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False).get_opcodes()
    steps: list[tuple[str, list[str], list[str]]] = [("equal", head, head)] if head else []
    steps += [(tag, middle_a[i1:i2], middle_b[j1:j2]) for tag, i1, i2, j1, j2 in opcodes]
    steps += [("equal", tail, tail)] if tail else []
    steps = _merged(steps)
    pieces: list[Piece] = []
    for index, (tag, removed, added) in enumerate(steps):
        if tag == "equal":
            first, last = index == 0, index == len(steps) - 1
            pieces += _unchanged(removed, context, first=first, last=last)
            continue
        if removed:
            pieces.append(Piece("removed", "".join(removed)))
        if added:
            pieces.append(Piece("added", "".join(added)))
    return pieces


def _merged(
    steps: list[tuple[str, list[str], list[str]]],
) -> list[tuple[str, list[str], list[str]]]:
    """Neighbouring unchanged runs joined (the common beginning and the first match)."""
    merged: list[tuple[str, list[str], list[str]]] = []
    for tag, removed, added in steps:
        if merged and tag == "equal" and merged[-1][0] == "equal":
            joined = merged[-1][1] + removed
            merged[-1] = ("equal", joined, joined)
        else:
            merged.append((tag, removed, added))
    return merged


def _unchanged(words: list[str], context: int, *, first: bool, last: bool) -> list[Piece]:
    """Unchanged text between changes, cut to ``context`` words after the change before it
    and before the change after it (whitespace pieces do not count as words)."""
    # Count in pieces: a word and the space after it are two.
    keep = context * 2
    head = [] if first else words[:keep]
    tail = [] if last else words[-keep:]
    if len(words) <= len(head) + len(tail) + 1:
        return [Piece("same", "".join(words))]
    pieces = []
    if head:
        pieces.append(Piece("same", "".join(head)))
    pieces.append(Piece("gap", "…"))
    if tail:
        pieces.append(Piece("same", "".join(tail)))
    return pieces
