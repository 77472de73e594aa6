"""The embedded broker: kombu's filesystem transport, made safe to poll quickly.

kombu writes a message straight into its final file name, so a worker listing the folder
at the wrong moment can take a file that is still empty and fail to decode it (see
kombu#1551); at the default one-second polling that is rare, at the few milliseconds the
embedded setup polls at it is not. Here a message is written under a name the worker
ignores and then renamed into place, which is atomic, so a worker sees whole messages only.

A folder that cannot be read or written for a while (removed, replaced, out of space, its
permissions changed) is a lost connection to kombu and Celery, as a Redis that went away
would be: a worker reconnects until the folder works again instead of stopping with
"Unrecoverable error", and a publisher retries, then fails with kombu's OperationalError.

Settings use ``TRANSPORT`` and ``transport_options(var_dir)`` when no broker URL is given.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps

from config.var import private_folder


class FolderUnusable(OSError):
    """The broker's folder cannot be read or written; one of the transport's connection
    errors (kombu's own filesystem transport calls it a ChannelError, or lets the OSError
    through, and a worker dies of either)."""


class Channel(filesystem.Channel):
    # kombu calls it with keyword arguments its own base signature omits.
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        try:
            _write_whole(final, dumps(payload))
        except OSError as exc:
            raise FolderUnusable(f"Cannot add file {final!r} to the broker's folder") from exc

    def _get(self, queue: Any, timeout: Any = None) -> Any:
        with _file_errors_unusable():
            return super()._get(queue)

    def get_table(self, exchange: Any) -> Any:
        with _file_errors_unusable():
            return super().get_table(exchange)

    def _queue_bind(self, exchange: Any, routing_key: Any, pattern: Any, queue: Any) -> None:
        # kombu creates the exchange's table file and only then locks it, so a process
        # binding at the same moment can read it empty. One lock for all bindings, and
        # whole-file writes, so a reader (get_table) never sees a half-written table.
        self.control_folder.mkdir(parents=True, exist_ok=True)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with open(self.control_folder / ".bindings.lock", "a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            table = self.get_table(exchange)
            if entry not in table:
                try:
                    _write_whole(str(self._exchange_file(exchange)), dumps([entry, *table]))
                except OSError as exc:
                    raise FolderUnusable(f"Cannot bind {queue!r} to {exchange!r}") from exc


@contextlib.contextmanager
def _file_errors_unusable() -> Iterator[None]:
    """kombu's ChannelErrors that an OSError caused, as FolderUnusable."""
    try:
        yield
    except ChannelError as exc:
        if isinstance(exc.__cause__, OSError):
            raise FolderUnusable(str(exc)) from exc.__cause__
        raise


def _write_whole(path: str, text: str) -> None:
    """Write ``path`` under a name starting with a dot (which no reader takes: not
    ``<stamp>_<uuid>.<queue>.msg`` nor ``<exchange>.exchange``), then rename it into
    place, which is atomic."""
    folder, name = os.path.split(path)
    partial = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise


class Transport(filesystem.Transport):
    Channel = Channel
    # Any OSError of the folder (FolderUnusable, or listing a folder that is gone) means
    # "the broker is unreachable for now": Celery reconnects instead of stopping.
    connection_errors = (*filesystem.Transport.connection_errors, OSError)  # type: ignore[assignment]

    @property
    def default_connection_params(self) -> dict[str, Any]:
        # A folder has no host: without this kombu warns "No hostname was supplied" on
        # every connection the web process opens.
        return {"port": self.default_port}


TRANSPORT = "config.broker:Transport"
# kombu polls the folder once a second by default; an embedded run should answer in tens
# of milliseconds, and a look at an empty folder costs a few microseconds.
POLLING_INTERVAL_S = 0.005


def transport_options(var_dir: Path) -> dict[str, Any]:
    """The broker's folders under ``var_dir/broker`` (created private), and its polling."""
    folder = private_folder(var_dir / "broker")
    for sub in ("queue", "processed", "control"):
        private_folder(folder / sub)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": POLLING_INTERVAL_S,
    }
