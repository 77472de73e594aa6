"""Fixtures the planner's tests share."""

from __future__ import annotations

import pytest

from planner import services as planner_services


@pytest.fixture
def queued_tasks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of runs queued for a worker (instead of sending them to a broker)."""
    sent: list[int] = []
    monkeypatch.setattr(
        planner_services, "enqueue_execution", lambda execution: sent.append(execution.pk)
    )
    return sent
