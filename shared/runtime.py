"""How a service is described, independent of the transport that runs it.

A service is a name plus plain handler functions keyed by the topic they consume, and optional timers.
A handler takes the decoded envelope and its typed payload and returns the events to publish; it does
no I/O on the bus itself. Two adapters run the same :class:`Service`: ``shared.bus.inprocess`` (demo,
simulator) and ``shared.bus.faust_app`` (Kafka). That is what makes one set of rules serve both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from shared.events import Envelope, Payload


@dataclass(frozen=True)
class Outgoing:
    """An event a handler wants published on ``topic``."""

    topic: str
    payload: Payload


Handler = Callable[[Envelope, Payload], Iterable[Outgoing]]
Tick = Callable[[], Iterable[Outgoing]]


@dataclass(frozen=True)
class Timer:
    interval_s: float
    tick: Tick


@dataclass
class Service:
    name: str
    handlers: dict[str, Handler]
    timers: list[Timer] = field(default_factory=list)
    # Called once the transport is up (e.g. to create tables); and when it stops.
    on_start: Callable[[], None] | None = None
    on_stop: Callable[[], None] | None = None
