"""The embedded broker: messages published while a consumer polls arrive whole."""

from __future__ import annotations

import threading
from pathlib import Path

from kombu import Connection

COUNT = 500


def test_messages_published_while_the_folder_is_polled_all_arrive_whole(tmp_path: Path) -> None:
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
        "polling_interval": 0.001,
    }
    payload = "x" * 20_000  # big enough that a write is not one instant
    publish = Connection(
        "filesystem://", transport="config.broker:Transport", transport_options=options
    )
    consume = Connection(
        "filesystem://", transport="config.broker:Transport", transport_options=options
    )
    received: list[int] = []

    def publisher() -> None:
        queue = publish.SimpleQueue("runs")
        for n in range(COUNT):
            queue.put({"n": n, "payload": payload})

    thread = threading.Thread(target=publisher)
    thread.start()
    queue = consume.SimpleQueue("runs")
    while len(received) < COUNT:
        message = queue.get(timeout=10)  # a half-written message would fail to decode here
        assert message.payload["payload"] == payload
        received.append(message.payload["n"])
        message.ack()
    thread.join()
    assert sorted(received) == list(range(COUNT))  # order is by millisecond, then at random
    assert not list(tmp_path.glob(".*.partial"))  # no half-written message left behind
