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
# Above this many pieces a side is compared line by line: word-level matching of two
# very long scripts would cost more than a page can afford.
MAX_WORD_PIECES = 4000

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
    if max(len(a), len(b)) > MAX_WORD_PIECES:
        a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    pieces: list[Piece] = []
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    last = len(opcodes) - 1
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            pieces += _unchanged(a[i1:i2], context, first=index == 0, last=index == last)
            continue
        if i2 > i1:
            pieces.append(Piece("removed", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("added", "".join(b[j1:j2])))
    return pieces


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
