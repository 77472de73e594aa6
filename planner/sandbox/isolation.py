"""How strongly a run is isolated on this machine, and bubblewrap's part in it.

bubblewrap gives each run only the parts of ``/usr`` the interpreter needs, read-only; its
own ``/proc``, a read-only ``/dev`` and sized tmpfs ``/tmp`` and ``/dev/shm``; every
namespace unshared and no further user namespace; a cleared environment. Where it does not
work, runs are refused (``refusal``) unless the operator allowed the weak mode.
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
from pathlib import Path
from typing import Final, Literal

from planner.sandbox import network as netpolicy
from planner.sandbox import slots
from planner.sandbox.limits import DEFAULT_MEMORY_MB

logger = logging.getLogger("quiver.sandbox")

PYTHON = "/usr/bin/python3"
BWRAP = "/usr/bin/bwrap"

Isolation = Literal["bubblewrap", "rlimits-only"]
BUBBLEWRAP: Final = "bubblewrap"
RLIMITS_ONLY: Final = "rlimits-only"

SANDBOX_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}  # noqa: S108

# The operator's explicit choice to run scripts with weaker isolation where bubblewrap,
# a uid of their own, or a network namespace of their own cannot be had (development
# machines without root). Never the default.
ALLOW_WEAK = os.environ.get("QUIVER_SANDBOX_ALLOW_WEAK", "").lower() in {"1", "true", "yes"}


def refusal(*, network: bool) -> str:
    """Why a script may not run on this machine (empty when it may): the operator has not
    allowed scripts to run without bubblewrap's isolation, or a network-enabled script
    cannot have a network of its own here."""
    if ALLOW_WEAK:
        return ""
    if isolation_level() != BUBBLEWRAP:
        return (
            "Scripts cannot run isolated on this server (bubblewrap is missing or does not "
            "work), and the operator has not allowed them to run with resource limits only "
            "(QUIVER_SANDBOX_ALLOW_WEAK)."
        )
    if network and (problem := netpolicy.problem()):
        return (
            f"This tool needs the network, and scripts cannot have a network of their own on "
            f"this server: {problem}. The operator has not allowed them to share the server's "
            "network (QUIVER_SANDBOX_ALLOW_WEAK)."
        )
    return ""


@functools.cache
def isolation_level() -> Isolation:
    """How strongly runs are isolated on this machine; probed once, warned about if weak."""
    reason = _bubblewrap_problem()
    if reason is None:
        return BUBBLEWRAP
    logger.warning(
        "SANDBOX IS WEAK: %s. Script tools run with resource limits and a scrubbed "
        "environment only; they can read any file the sandbox uid can read and reach "
        "the network. Install bubblewrap (apt-get install bubblewrap) to isolate them.",
        reason,
    )
    return RLIMITS_ONLY


def _bubblewrap_problem() -> str | None:
    if not os.access(BWRAP, os.X_OK):
        return f"{BWRAP} is not installed"
    if not os.access(PYTHON, os.X_OK):
        return f"{PYTHON} is not installed"
    argv = [BWRAP, *bwrap_args(network=False), PYTHON, "-I", "-S", "-c", "pass"]
    try:
        with slots.slot_and_uid() as (_, uid):
            argv, user_args = slots.as_user(argv, uid)
            completed = subprocess.run(
                argv, capture_output=True, timeout=10, env=SANDBOX_ENV, **user_args
            )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not start: {exc}"
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip()
        return f"bubblewrap does not work here ({detail or completed.returncode})"
    return None


@functools.cache
def bwrap_args(*, network: bool, tmp_mb: int = DEFAULT_MEMORY_MB) -> tuple[str, ...]:
    """bubblewrap's options for a run (the command follows them): what its sandbox sees."""
    tmp_bytes = str(tmp_mb * 1024 * 1024)
    args = [
        "--unshare-all",
        # A user namespace of its own, in which no further one can be made: the kernel's
        # namespace code stays out of a script's reach.
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        *_usr_binds(),
    ]
    # Debian's merged /usr makes /bin, /lib... symlinks into it; older layouts bind them.
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    # Its own /proc; a read-only /dev of the usual devices; a private, empty /tmp and
    # /dev/shm, each sized (tmpfs pages are nobody's address space: without a size they
    # could grow to half the host's memory).
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", tmp_bytes, "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]  # noqa: S108
    args += ["--size", tmp_bytes, "--tmpfs", "/tmp", "--chdir", "/tmp"]  # noqa: S108
    if network:
        args.append("--share-net")  # the slot's own namespace: see network.py
        # Name resolution and TLS need these, and nothing else from /etc.
        for path in ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl"):
            args += ["--ro-bind-try", path, path]
        args += ["--ro-bind-try", "/usr/share/ca-certificates", "/usr/share/ca-certificates"]
    for name, value in SANDBOX_ENV.items():
        args += ["--setenv", name, value]
    # Last: the root bubblewrap built (a tmpfs holding the mount points) is read-only too.
    args += ["--remount-ro", "/"]
    return tuple(args)


@functools.cache
def _usr_binds() -> tuple[str, ...]:
    """Only the parts of /usr the interpreter needs, not the host's whole /usr (its
    /usr/local, its other programs): the interpreter, its standard library, the shared
    libraries, time zones. Where the layout is not the one expected, all of /usr."""
    python = Path(PYTHON).resolve()
    stdlib = Path("/usr/lib") / python.name
    libraries = sorted(Path("/usr/lib").glob("*-linux-gnu*"))
    if not (python.is_relative_to("/usr/bin") and stdlib.is_dir() and libraries):
        return ("--ro-bind", "/usr", "/usr")
    binds = ["--ro-bind", str(python), str(python)]
    if Path(PYTHON) != python:
        binds += ["--symlink", python.name, PYTHON]
    for path in [stdlib, *libraries, Path("/usr/lib64"), Path("/usr/share/zoneinfo")]:
        if path.exists():
            binds += ["--ro-bind", str(path), str(path)]
    return tuple(binds)
