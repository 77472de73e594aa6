"""Bootstrap the sandboxed interpreter runs: set limits, then call the tool's main(**kwargs).

The runner passes this file's text to ``/usr/bin/python3 -I -S -c`` with the limits as
arguments, the script and its arguments marshalled on stdin (the runner is trusted; the
script's output never goes through marshal), and a pipe, its fd number the last argument,
for the one result message, which is JSON. Standard library only: nothing of Quiver's is
importable in the sandbox. ``json`` is not imported either: it pulls in ``re`` and costs
about 7 ms a start, so the small encoder below uses ``_json``'s string escaping instead.
"""

import marshal
import posix  # os without the modules it imports (posixpath, stat...): ~1 ms a start
import resource
import sys
from _json import encode_basestring_ascii as _quote

_INFINITY = float("inf")

TOOL_FILENAME = "tool.py"


def _set_limits(address_space: int, cpu_seconds: int, processes: int, files: int, fsize: int):
    limits = [
        (resource.RLIMIT_AS, address_space, address_space),
        (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1),
        (resource.RLIMIT_NPROC, processes, processes),
        (resource.RLIMIT_NOFILE, files, files),
        (resource.RLIMIT_FSIZE, fsize, fsize),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    for which, soft, hard in limits:
        resource.setrlimit(which, (soft, hard))


def _dumps(value):
    """JSON text of value, as ``json.dumps(value, allow_nan=False)`` would write it."""
    if isinstance(value, str):
        return _quote(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value in (_INFINITY, -_INFINITY):
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        return float.__repr__(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join([_dumps(item) for item in value]) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join([f"{_key(k)}: {_dumps(v)}" for k, v in value.items()]) + "}"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key):
    if isinstance(key, str):
        return _quote(key)
    if key is None or isinstance(key, int | float):
        return _quote(_dumps(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _send(result_fd, message):
    # The newline ends the message: the runner stops waiting there, not at the pipe's EOF,
    # which comes only once bubblewrap has torn the namespaces down.
    data = (_dumps(message) + "\n").encode("ascii")
    view = memoryview(data)
    while view:
        view = view[posix.write(result_fd, view) :]
    posix.close(result_fd)


def _failure(status, exc, source, tb_skip=0):
    # Imported only on failure: traceback and linecache pull in re, milliseconds a start.
    import linecache
    import traceback

    # Tracebacks show the tool's own lines, as if it were a file.
    lines = source.splitlines(keepends=True)
    linecache.cache[TOOL_FILENAME] = (len(source), None, lines, TOOL_FILENAME)

    tb = exc.__traceback__
    for _ in range(tb_skip):
        if tb is not None:
            tb = tb.tb_next
    return {
        "status": status,
        "error_type": type(exc).__name__,
        "error": str(exc) or type(exc).__name__,
        "traceback": "".join(traceback.format_exception(type(exc), exc, tb)),
    }


def _run(request, max_output_bytes):
    source = request["source"]
    try:
        code = compile(source, TOOL_FILENAME, "exec")
    except (SyntaxError, ValueError) as exc:
        message = _failure("raised", exc, source, tb_skip=99)
        if isinstance(exc, SyntaxError):
            message["error"] = f"syntax error in the script, line {exc.lineno}: {exc.msg}"
        return message

    namespace = {"__name__": "tool", "__file__": TOOL_FILENAME, "__builtins__": __builtins__}
    try:
        exec(code, namespace)  # noqa: S102 - running the tool is the point; the sandbox contains it
        main = namespace.get("main")
        if not callable(main):
            return {
                "status": "raised",
                "error_type": "NameError",
                "error": "the script defines no main() function",
                "traceback": "",
            }
        value = main(**request["kwargs"])
    except MemoryError as exc:
        return {
            "status": "memory",
            "error_type": "MemoryError",
            "error": str(exc) or "out of memory",
        }
    except BaseException as exc:
        return _failure("raised", exc, source, tb_skip=1)

    try:
        encoded = _dumps(value)
    except (TypeError, ValueError, RecursionError) as exc:
        return {
            "status": "non_json",
            "error_type": type(exc).__name__,
            "error": f"main() returned a value that is not JSON ({type(value).__name__}): {exc}",
        }
    size = len(encoded)
    if size > max_output_bytes:
        return {
            "status": "output_too_large",
            "error_type": "OutputTooLarge",
            "error": f"main() returned {size} bytes of JSON; the limit is {max_output_bytes}",
        }
    return {"status": "succeeded", "value_json": encoded}


def _die_with_parent(parent):
    """Without bubblewrap (whose --die-with-parent does this), ask the kernel to kill this
    process when the runner dies, so a killed worker leaves no script behind."""
    import ctypes

    pr_set_pdeathsig, sigkill = 1, 9
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, sigkill)
    if posix.getppid() != parent:  # the runner died before the request took hold
        posix._exit(1)


def _main():
    address_space, cpu, processes, files, fsize, max_output_bytes, parent, result_fd = map(
        int, sys.argv[1:9]
    )
    if parent:
        _die_with_parent(parent)
    _set_limits(address_space, cpu, processes, files, fsize)
    posix.set_inheritable(result_fd, False)
    request = marshal.loads(sys.stdin.buffer.read())  # noqa: S302 - written by the runner
    devnull = posix.open("/dev/null", posix.O_RDONLY)
    posix.dup2(devnull, 0)
    posix.close(devnull)
    try:
        message = _run(request, max_output_bytes)
    except MemoryError:
        message = {"status": "memory", "error_type": "MemoryError", "error": "out of memory"}
    sys.stdout.flush()
    sys.stderr.flush()
    _send(result_fd, message)


_main()
