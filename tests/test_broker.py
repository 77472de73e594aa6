"""The embedded broker: messages another process publishes while this one polls the folder
all arrive, whole (kombu's own filesystem transport loses or garbles some here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kombu import Connection

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
