"""The embedded broker: messages another process publishes while this one polls the folder
all arrive, whole (kombu's own filesystem transport loses or garbles some here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kombu import Connection
from kombu.transport.virtual import BrokerState

from config import broker

ROOT = Path(__file__).resolve().parents[1]
COUNT = 500
PAYLOAD = "x" * 20_000  # big enough that writing one is not one instant

# The web process's side: a separate process publishing as fast as it can.
PUBLISHER = f"""
import json, sys
from kombu import Connection, Exchange, Queue
options = json.loads(sys.argv[2])
with Connection("filesystem://", transport=sys.argv[1], transport_options=options) as c:
    producer = c.Producer()
    queue = Queue("runs", Exchange("runs"), "runs")
    for n in range({COUNT}):
        producer.publish({{"n": n, "payload": "x" * {len(PAYLOAD)}}}, exchange=queue.exchange,
                         routing_key="runs", declare=[queue])
"""


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """kombu keeps the filesystem transport's bindings per process, not per folder: each
    test's folder gets its own."""
    monkeypatch.setattr(broker.Transport, "global_state", BrokerState())


def test_messages_another_process_publishes_while_polled_all_arrive_whole(
    tmp_path: Path,
) -> None:
    options = {**broker.transport_options(tmp_path), "polling_interval": 0.001}
    received: list[int] = []
    with Connection("filesystem://", transport=broker.TRANSPORT, transport_options=options) as c:
        queue = c.SimpleQueue("runs")
        publisher = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, broker.TRANSPORT, json.dumps(options)], cwd=ROOT
        )
        try:
            while len(received) < COUNT:
                message = queue.get(timeout=10)  # a half-written message fails to decode
                assert message.payload["payload"] == PAYLOAD
                received.append(message.payload["n"])
                message.ack()
        finally:
            assert publisher.wait(timeout=30) == 0
    assert sorted(received) == list(range(COUNT))  # order is by millisecond, then at random
    assert not list((tmp_path / "broker").rglob(".*.partial"))  # nothing half-written left


def test_a_broker_folder_that_stops_working_is_a_connection_error_until_it_works_again(
    tmp_path: Path,
) -> None:
    options = broker.transport_options(tmp_path)
    folder = Path(options["data_folder_in"])
    with Connection("filesystem://", transport=broker.TRANSPORT, transport_options=options) as c:
        queue = c.SimpleQueue("runs")
        folder.rename(tmp_path / "aside")
        folder.write_text("")  # a file where the folder was: every read and write fails

        with pytest.raises(c.connection_errors):
            queue.put({"n": 1})
        with pytest.raises(c.connection_errors):
            queue.get(timeout=0.1)

        folder.unlink()
        (tmp_path / "aside").rename(folder)
        queue.put({"n": 2})
        assert queue.get(timeout=5).payload == {"n": 2}


def test_a_broker_folder_that_cannot_be_read_is_a_connection_error_for_a_binding(
    tmp_path: Path,
) -> None:
    options = broker.transport_options(tmp_path)
    control = Path(options["control_folder"])
    with Connection("filesystem://", transport=broker.TRANSPORT, transport_options=options) as c:
        queue = c.SimpleQueue("runs")
        queue.put({"n": 1})
        (control / "runs.exchange").unlink()
        (control / "runs.exchange").mkdir()  # reading it as a table fails

        with pytest.raises(c.connection_errors):
            queue.put({"n": 2})
