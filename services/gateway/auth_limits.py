"""How often a client may try to sign in or sign up, per gateway process.

Failed sign-ins count per username (5 a minute: guessing one person's password) and per client address
(20 a minute: trying many names from one place); a success clears the username's count. Sign-ups count
per address (10 in 10 minutes). Over a limit the answer is 429 with ``Retry-After``, even for the right
password, until the window has room again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from services.gateway.accounts.domain.ratelimit import SlidingWindow


@dataclass
class AuthLimits:
    per_username: SlidingWindow = field(default_factory=lambda: SlidingWindow(5, 60.0))
    per_address: SlidingWindow = field(default_factory=lambda: SlidingWindow(20, 60.0))
    signups: SlidingWindow = field(default_factory=lambda: SlidingWindow(10, 600.0))
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sign_in_wait(self, username: str, address: str) -> int:
        with self._lock:
            now = self.clock()
            return max(self.per_username.retry_after(username, now), self.per_address.retry_after(address, now))

    def sign_in_failed(self, username: str, address: str) -> None:
        with self._lock:
            now = self.clock()
            self.per_username.add(username, now)
            self.per_address.add(address, now)

    def sign_in_succeeded(self, username: str) -> None:
        with self._lock:
            self.per_username.clear(username)

    def sign_up_wait(self, address: str) -> int:
        """0 and the attempt counted, or the seconds to wait (nothing counted)."""
        with self._lock:
            now = self.clock()
            wait = self.signups.retry_after(address, now)
            if not wait:
                self.signups.add(address, now)
            return wait
