"""The embedded broker: kombu's filesystem transport, made safe to poll quickly.

kombu writes a message straight into its final file name, so a worker listing the folder
at the wrong moment can take a file that is still empty and fail to decode it (see
kombu#1551); at the default one-second polling that is rare, at the few milliseconds the
embedded setup polls at it is not. Here a message is written under a name the worker
ignores and then renamed into place, which is atomic, so a worker sees whole messages only.

Settings use ``TRANSPORT`` and ``transport_options(var_dir)`` when no broker URL is given.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    # kombu calls it with keyword arguments its own base signature omits.
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # Starts with a dot: not "<stamp>_<uuid>.<queue>.msg", so no worker takes it.
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb") as file:
                file.write(dumps(payload).encode())
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT = "config.broker:Transport"
# kombu polls the folder once a second by default; an embedded run should answer in tens
# of milliseconds, and a look at an empty folder costs a few microseconds.
POLLING_INTERVAL_S = 0.005


def transport_options(var_dir: Path) -> dict[str, Any]:
    """The broker's folders under ``var_dir/broker`` (created), and its polling."""
    folder = var_dir / "broker"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": POLLING_INTERVAL_S,
    }
