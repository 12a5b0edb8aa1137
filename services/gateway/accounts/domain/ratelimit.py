"""Sliding-window limits: at most ``limit`` events per ``window_s`` per key (a username, an address).

Used for failed sign-ins and for sign-ups. Pure: the caller passes the time, so tests need no sleeps.
Memory stays bounded: a key's events older than the window are dropped, and empty keys are forgotten.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class SlidingWindow:
    limit: int
    window_s: float
    _events: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window_s:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def retry_after(self, key: str, now: float) -> int:
        """0 if ``key`` may go on; else whole seconds until its oldest event leaves the window."""
        events = self._recent(key, now)
        if len(events) < self.limit:
            return 0
        return max(1, math.ceil(events[0] + self.window_s - now))

    def add(self, key: str, now: float) -> None:
        self._recent(key, now)
        self._events.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        self._events.pop(key, None)
