"""``var/``: where Quiver keeps its state (the SQLite database and its WAL and SHM files,
the secret key, the embedded broker's and the cache's folders), private to the user
Quiver runs as: folders 0700, files 0600.

``bin/run`` also starts everything under ``umask 077``; these functions make the folder
and files private however Quiver is started, and tighten what an older version (or a
loose umask) left readable.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """``path`` as a folder only its owner may enter: created 0700, or tightened."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    _tighten(path)
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file only its owner may read: created empty with 0600 when missing
    (SQLite then keeps that mode for the database's WAL and SHM files), or tightened."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        _tighten(path)
    return path


def private_var_dir(path: Path) -> Path:
    """The var folder made private, with everything directly in it tightened (folders
    0700, files 0600); what is deeper is then out of other users' reach too."""
    private_folder(path)
    for entry in path.iterdir():
        if not entry.is_symlink():
            _tighten(entry)
    return path


def _tighten(path: Path) -> None:
    """Take group's and others' permissions away, if they have any."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)
    except OSError as exc:
        # E.g. a folder another user owns: say so, and let Quiver start.
        print(f"warning: cannot make {path} private to its user: {exc}", file=sys.stderr)
