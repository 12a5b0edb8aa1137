"""How a service is described, independent of the transport that runs it.

A service is a name plus plain handler functions keyed by the topic they consume, and optional timers.
A handler takes the decoded envelope and its typed payload and returns the events to publish; it does
no I/O on the bus itself. Two adapters run the same :class:`Service`: ``shared.bus.inprocess`` (demo,
simulator) and ``shared.bus.faust_app`` (Kafka). That is what makes one set of rules serve both.

Concurrency, in one place: a service's handlers, batch handlers, timers and ``on_start`` never run at the
same time. The Kafka adapter runs them all on one thread per service; the in-process bus on its caller's
thread. So a service keeps plain in-memory state (an order book) without locks of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from shared.events import Envelope, Payload


@dataclass(frozen=True)
class Outgoing:
    """An event a handler wants published on ``topic``."""

    topic: str
    payload: Payload


Handler = Callable[[Envelope, Payload], Iterable[Outgoing]]
# Optional: many messages of one topic at once (e.g. one database transaction for a batch of trades);
# returns the outputs of each input, in order, so output event ids still derive from their own input.
BatchHandler = Callable[[list[tuple[Envelope, Payload]]], list[list[Outgoing]]]
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
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)
    # When a handler fails for a reason that is not the message's (a database outage), block and retry
    # instead of dead-lettering: right for the ledger, where a skipped trade would never settle.
    retry_forever: bool = False
    # State kept in memory is rebuilt at start-up by re-reading these topics over this window (see
    # shared.bus.replay); the in-process bus, which never restarts, ignores it.
    replay: dict[str, timedelta] = field(default_factory=dict)
    # Checks that raise (or hang) while the service cannot do its work, e.g. its database is unreachable;
    # the transport's readiness runs them off the handlers' thread with a short timeout.
    readiness: dict[str, Callable[[], object]] = field(default_factory=dict)
    # Called once the transport is up (e.g. to create tables); and when it stops.
    on_start: Callable[[], None] | None = None
    on_stop: Callable[[], None] | None = None
