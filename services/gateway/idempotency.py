"""Idempotent order placement: a retry with the same Idempotency-Key returns the first answer, never a
second order.

Two layers. The order id and the event id are functions of (participant, key, order), so a retry that
reaches the broker again carries the same order, which the market admits once (same id, same content),
even when the first attempt's answer was lost or another gateway instance took the retry. On top, each
gateway remembers recent keys: a retry gets the stored answer at once, a concurrent retry waits for the
first, and a key reused for a different order is a 409.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from shared.errors import DomainError

T = TypeVar("T")
_NAMESPACE = uuid.UUID("5b0f7c1e-2f4c-4d59-9a77-0c1f8e2d6a31")


class IdempotencyConflict(DomainError):
    """The Idempotency-Key was already used for a different request (HTTP 409)."""


def fingerprint(body: dict[str, Any]) -> str:
    """A stable digest of a request body (keys sorted, values as JSON)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def order_id_for(participant: str, key: str) -> str:
    """The order id a keyed request gets when the client chose none: the same key, the same order."""
    return "k-" + hashlib.sha256(f"{participant}\x00{key}".encode()).hexdigest()[:30]


def app_request_id(prefix: str, user: str, given: str | None) -> str:
    """The id of an app request (a ride, a co-owned booking): the app's own id made unique across users, so a
    retry with it is the same request; a fresh one when the app chose none."""
    if given:
        return prefix + hashlib.sha256(f"{user}\x00{given}".encode()).hexdigest()[:30]
    return prefix + uuid.uuid4().hex


def event_id_for(participant: str, order_id: str, body_fingerprint: str) -> str:
    """The event id of an order: the same participant, id and content always give the same event."""
    return str(uuid.uuid5(_NAMESPACE, f"{participant}\x00{order_id}\x00{body_fingerprint}"))


@dataclass
class _Entry:
    fingerprint: str
    answer: asyncio.Future[Any]
    stored_at: float


class IdempotencyStore:
    """Recent answers per (participant, key), bounded in count and age."""

    def __init__(self, max_entries: int = 100_000, ttl_s: float = 24 * 3600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl_s
        self._clock = clock

    async def run(self, participant: str, key: str, body_fingerprint: str, work: Callable[[], Awaitable[T]]) -> T:
        """The first answer for this key (running ``work`` once); a failed attempt is forgotten, so a retry
        runs again."""
        self._expire()
        slot = (participant, key)
        entry = self._entries.get(slot)
        if entry is not None:
            if entry.fingerprint != body_fingerprint:
                raise IdempotencyConflict(f"Idempotency-Key {key!r} was already used for a different request; "
                                          "use a new key for a new order")
            return await asyncio.shield(entry.answer)
        answer: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._entries[slot] = _Entry(body_fingerprint, answer, self._clock())
        try:
            result = await work()
        except BaseException as exc:
            del self._entries[slot]
            answer.set_exception(exc)
            answer.exception()  # retrieved: a failure nobody else awaited is not an error to log
            raise
        answer.set_result(result)
        return result

    def _expire(self) -> None:
        now = self._clock()
        while self._entries:
            slot, oldest = next(iter(self._entries.items()))
            if len(self._entries) <= self._max and now - oldest.stored_at < self._ttl:
                break
            if not oldest.answer.done():
                break
            del self._entries[slot]
