"""A seccomp filter for the calls a script never needs: each answers EPERM instead.

The kernel interfaces most often behind container escapes (keyrings, BPF, io_uring,
userfaultfd, perf events, ptrace, module loading, mounting, namespaces, file handles)
are of no use to a tool's ``main()``. bubblewrap installs the filter (``--seccomp FD``)
after it has set the sandbox up and before it starts the interpreter. The filter is
compiled once per process with libseccomp (Debian's libseccomp2, loaded with ctypes; it
also refuses calls made through another architecture's entry, such as 32-bit ``int
0x80``). Where libseccomp is missing, runs have no filter and their bounds say so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os
import tempfile

DENIED = (
    # namespaces and mounts (bubblewrap has made all a script may have)
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount",
    "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr",
    # kernel interfaces with a record of privilege escalations
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # other processes' memory, file handles that bypass paths
    "ptrace", "process_vm_readv", "process_vm_writev", "open_by_handle_at",
    "name_to_handle_at",
    # the machine's own state
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "iopl", "ioperm",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "vhangup",
    "lookup_dcookie", "fanotify_init",
    # locks on whole files: /usr and /etc are the host's own files, so a lock there would
    # hold up the host (record locks through fcntl stay: an exclusive one needs a file
    # opened for writing, which the read-only mounts refuse, and SQLite needs them)
    "flock",
)  # fmt: skip

_ALLOW = 0x7FFF0000  # SCMP_ACT_ALLOW
_ERRNO = 0x00050000  # SCMP_ACT_ERRNO(n) is this | n


def problem() -> str | None:
    """Why no filter can be made here, or None."""
    return None if program() else "libseccomp is not installed (apt-get install libseccomp2)"


@functools.cache
def program() -> bytes:
    """The compiled BPF program (empty where libseccomp is missing)."""
    name = ctypes.util.find_library("seccomp")
    if name is None:
        return b""
    lib = ctypes.CDLL(name)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    context = lib.seccomp_init(_ALLOW)
    if not context:
        return b""
    try:
        for call in DENIED:
            number = lib.seccomp_syscall_resolve_name(call.encode())
            if number >= 0:  # a call this architecture does not have needs no rule
                lib.seccomp_rule_add(context, _ERRNO | errno.EPERM, number, 0)
        with tempfile.TemporaryFile() as file:
            if lib.seccomp_export_bpf(context, file.fileno()) != 0:
                return b""
            file.seek(0)
            return file.read()
    finally:
        lib.seccomp_release(context)


def pipe_with_program() -> int:
    """The read end of a pipe holding the program, for bubblewrap's ``--seccomp``."""
    read, write = os.pipe()
    try:
        os.write(write, program())  # a few hundred bytes: within the pipe's buffer
    finally:
        os.close(write)
    return read
