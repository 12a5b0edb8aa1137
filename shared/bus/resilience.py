"""How a worker lives through outages of what it depends on: retry with bounded backoff, and say so.

A broker or database that is down is not the message's fault, so nothing is dead-lettered for it: the
operation (a handler on a batch, a timer tick, a publish) is retried with a backoff that doubles up to a
cap, forever, and the worker resumes where it stopped once the outage ends. While an operation fails it is
recorded in :class:`Faults` under a name, and readiness reports not-ready until it succeeds again. Each
failure streak is logged once when it starts (with the error) and once when it ends, not on every retry.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("citymatch.resilience")


@dataclass(frozen=True)
class Backoff:
    """Delays between retries: ``first_s``, doubling, never more than ``max_s`` (so recovery is quick)."""

    first_s: float = 0.2
    max_s: float = 5.0

    def delays(self) -> Iterator[float]:
        delay = self.first_s
        while True:
            yield delay
            delay = min(self.max_s, delay * 2)


class Faults:
    """Operations failing right now, by name (thread-safe: handlers run in a worker thread, /ready on the loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, str] = {}
        self.total = 0  # failed attempts since start, for metrics and tests

    def failing(self, name: str, exc: BaseException) -> bool:
        """Record a failed attempt; True when this starts a new failure streak for ``name``."""
        with self._lock:
            self.total += 1
            new = name not in self._active
            self._active[name] = f"{type(exc).__name__}: {exc}"[:300]
            return new

    def recovered(self, name: str) -> bool:
        """Clear ``name``; True when it was failing."""
        with self._lock:
            return self._active.pop(name, None) is not None

    def active(self) -> dict[str, str]:
        with self._lock:
            return dict(self._active)


def _failed(faults: Faults, what: str, exc: Exception, delay: float, on_failure: Callable[[], None] | None) -> None:
    if faults.failing(what, exc):
        log.error("%s failed; retrying with backoff until it succeeds", what, exc_info=exc,
                  extra={"fields": {"operation": what, "retry_in_s": delay}})
    if on_failure is not None:
        on_failure()


def _succeeded(faults: Faults, what: str, started: float) -> None:
    if faults.recovered(what):
        log.warning("%s works again after %.1f s", what, time.monotonic() - started,
                    extra={"fields": {"operation": what}})


def retry_blocking(what: str, op: Callable[[], T], faults: Faults, backoff: Backoff = Backoff(),
                   on_failure: Callable[[], None] | None = None) -> T:
    """Run ``op`` until it returns, sleeping between failed attempts (for code in a worker thread)."""
    started = time.monotonic()
    for delay in backoff.delays():
        try:
            result = op()
        except Exception as exc:
            _failed(faults, what, exc, delay, on_failure)
            time.sleep(delay)
            continue
        _succeeded(faults, what, started)
        return result
    raise AssertionError("unreachable")


async def retry_async(what: str, op: Callable[[], Awaitable[T]], faults: Faults, backoff: Backoff = Backoff(),
                      on_failure: Callable[[], None] | None = None) -> T:
    """Await ``op()`` until it returns, sleeping between failed attempts (for code on the event loop)."""
    started = time.monotonic()
    for delay in backoff.delays():
        try:
            result = await op()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            _failed(faults, what, exc, delay, on_failure)
            await asyncio.sleep(delay)
            continue
        _succeeded(faults, what, started)
        return result
    raise AssertionError("unreachable")
