"""Rate limits per user, with separate budgets for reads and writes. A user's API keys
and signed-in session share the user's budget: minting keys does not multiply it.

Counts live in the shared cache (Redis in production), so every web process enforces
the same budget. Each budget is a fixed window counted with ``incr`` (``add`` starts
it), atomic on Redis, instead of DRF's list of timestamps rewritten on every call.
Rates come from the settings API_THROTTLE_READ and API_THROTTLE_WRITE ("600/min");
an empty rate or "off" turns that limit off.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from catalog.models import ApiKey

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
clock = time.time  # tests replace it to stay inside one window


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """A rate like "120/min" as (120, 60); None when "" or "off"."""
    if not rate or rate.strip().lower() in {"off", "none"}:
        return None
    count, _, period = rate.partition("/")
    try:
        seconds = PERIODS[period.strip().lower()[:1]]
        return int(count), seconds
    except (KeyError, ValueError):
        raise ValueError(f"Bad rate {rate!r}: write it as <count>/<s|min|hour|day>.") from None


def caller_of(request: Request) -> str:
    """Whose budget a request spends: its user's (whichever key or session it came with),
    else its key's (one whose creator is gone), else its address's."""
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


class ApiRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = "read" if request.method in SAFE_METHODS else "write"
        rate = parse_rate(
            settings.API_THROTTLE_READ if scope == "read" else settings.API_THROTTLE_WRITE
        )
        if rate is None:
            return True
        limit, period = rate
        now = clock()
        window = int(now // period)
        cache = caches[settings.API_THROTTLE_CACHE]
        key = f"quiver:throttle:{scope}:{caller_of(request)}:{period}:{window}"
        try:
            count = cache.incr(key)
        except ValueError:  # the window's first request (or another process's race)
            count = 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)
        if count > limit:
            self.wait_seconds = (window + 1) * period - now
            return False
        return True

    def wait(self) -> float | None:
        return self.wait_seconds
