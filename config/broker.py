"""The embedded broker: kombu's filesystem transport, made safe to poll quickly.

kombu writes a message straight into its final file name, so a worker listing the folder
at the wrong moment can take a file that is still empty and fail to decode it (see
kombu#1551); at the default one-second polling that is rare, at the few milliseconds the
embedded setup polls at it is not. Here a message is written under a name the worker
ignores and then renamed into place, which is atomic, so a worker sees whole messages only.
"""

from __future__ import annotations

import os
import time
import uuid
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
