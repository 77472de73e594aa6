"""The bounds a run has: defaults a tool's runtime may change, and maxima it may not."""

from __future__ import annotations

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MEMORY_MB = 512
DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024
DEFAULT_MAX_LOG_BYTES = 64 * 1024
MAX_PROCESSES = 64
MAX_OPEN_FILES = 64
MAX_FILE_BYTES = 10 * 1024 * 1024
