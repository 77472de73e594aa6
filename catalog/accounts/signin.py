"""Slowing down and then locking out repeated failed sign-ins.

Failures are counted in the shared cache per (username, address) and per address.
After ``SIGNIN_SLOW_AFTER`` failures each further attempt must wait twice as long as
the last (1 s, 2 s, 4 s, ...); after ``SIGNIN_LOCK_AFTER`` the pair is locked for
``SIGNIN_LOCK_SECONDS``. Waiting is enforced by refusing early attempts, never by
sleeping, so an attacker cannot tie up the web workers.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    seconds: int
    locked: bool

    @property
    def message(self) -> str:
        wait = _plain_duration(self.seconds)
        if self.locked:
            return (
                f"Too many failed sign-ins: signing in is locked for {wait}. "
                "Ask an admin if you have forgotten your password."
            )
        return f"Too many failed sign-ins. Please wait {wait} before trying again."


def _plain_duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def _keys(username: str, ip: str) -> list[str]:
    who = hashlib.sha256(f"{username.strip().lower()}|{ip}".encode()).hexdigest()[:32]
    return [f"signin:user:{who}", f"signin:ip:{ip}"]


def _limits(key: str) -> tuple[int, int]:
    slow = settings.SIGNIN_SLOW_AFTER
    lock = settings.SIGNIN_LOCK_AFTER
    # An address trying many usernames gets more room than one username, but not unlimited.
    return (slow * 3, lock * 3) if key.startswith("signin:ip:") else (slow, lock)


def refusal(username: str, ip: str) -> Refusal | None:
    """Why an attempt must be refused now, or None if it may go ahead."""
    now = time.time()
    worst: Refusal | None = None
    for key in _keys(username, ip):
        failures, last = cache.get(key) or (0, 0.0)
        slow, lock = _limits(key)
        if failures >= lock:
            wait = last + settings.SIGNIN_LOCK_SECONDS - now
            locked = True
        elif failures >= slow:
            wait = last + 2 ** (failures - slow) - now
            locked = False
        else:
            continue
        if wait > 0 and (worst is None or wait > worst.seconds):
            worst = Refusal(seconds=math.ceil(wait), locked=locked)
    return worst


def record_failure(username: str, ip: str) -> None:
    now = time.time()
    for key in _keys(username, ip):
        failures, _ = cache.get(key) or (0, 0.0)
        cache.set(key, (failures + 1, now), timeout=settings.SIGNIN_LOCK_SECONDS)
        if failures + 1 == _limits(key)[1]:
            log.warning("sign-in locked for %s after %d failures", key, failures + 1)


def record_success(username: str, ip: str) -> None:
    cache.delete(_keys(username, ip)[0])
