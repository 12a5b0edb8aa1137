"""How a service is described, independent of the transport that runs it.

A service is a name, a dispatch table per consumed topic (payload type -> handler), and optional timers.
A handler takes the decoded envelope and its typed payload and returns the events to publish; it does
no I/O on the bus itself. Two adapters run the same :class:`Service`: ``shared.bus.inprocess`` (demo,
simulator) and ``shared.bus.faust_app`` (Kafka). That is what makes one set of rules serve both.

The tables are checked when the service is built: every consumed topic is in the catalogue, every handled
payload type is one its topic carries, and every payload type a topic carries has a handler (or is
explicitly :func:`ignore`-d), so a new payload on a topic cannot be dropped unnoticed.

Concurrency, in one place: a service's handlers, batch handlers, timers and ``on_start`` never run at the
same time. The Kafka adapter runs them all on one thread per service; the in-process bus on its caller's
thread. So a service keeps plain in-memory state (an order book) without locks of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from shared.contracts.base import AnyTopic, Envelope, Payload, Topic
from shared.contracts.catalogue import CATALOGUE


@dataclass(frozen=True)
class Outgoing:
    """An event a handler wants published on ``topic``; the topic must carry the payload's type."""

    topic: AnyTopic
    payload: Payload

    def __post_init__(self) -> None:
        if not isinstance(self.topic, Topic):
            raise TypeError(f"Outgoing needs a catalogue Topic (shared.contracts), not {self.topic!r}")
        if not self.topic.carries(type(self.payload)):
            raise TypeError(f"{self.topic.name} does not carry {type(self.payload).__name__}")


Handler = Callable[[Envelope, Any], Iterable[Outgoing]]
DispatchTable = Mapping[type[Payload], Handler]
# Optional: many messages of one topic at once (e.g. one database transaction for a batch of trades);
# returns the outputs of each input, in order, so output event ids still derive from their own input.
BatchHandler = Callable[[list[tuple[Envelope, Any]]], list[list[Outgoing]]]
Tick = Callable[[], Iterable[Outgoing]]


def ignore(_envelope: Envelope, _payload: Payload) -> list[Outgoing]:
    """The handler for a payload type a service reads past on purpose (say so in the table)."""
    return []


class DispatchError(TypeError):
    """A service's dispatch tables do not fit the catalogue (raised when the service is built)."""


@dataclass(frozen=True)
class Timer:
    interval_s: float
    tick: Tick


@dataclass
class Service:
    name: str
    handlers: Mapping[AnyTopic, DispatchTable]
    timers: list[Timer] = field(default_factory=list)
    batch_handlers: Mapping[AnyTopic, BatchHandler] = field(default_factory=dict)
    # When a handler fails for a reason that is not the message's (a database outage), block and retry
    # instead of dead-lettering: right for the ledger, where a skipped trade would never settle.
    retry_forever: bool = False
    # State kept in memory is rebuilt at start-up by re-reading these topics over this window (see
    # shared.bus.replay); the in-process bus, which never restarts, ignores it.
    replay: Mapping[AnyTopic, timedelta] = field(default_factory=dict)
    # Checks that raise (or hang) while the service cannot do its work, e.g. its database is unreachable;
    # the transport's readiness runs them off the handlers' thread with a short timeout.
    readiness: dict[str, Callable[[], object]] = field(default_factory=dict)
    # Called once the transport is up (e.g. to create tables); and when it stops.
    on_start: Callable[[], None] | None = None
    on_stop: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Refuse tables that do not fit the catalogue (see the module's docstring)."""
        for t, table in self.handlers.items():
            if not isinstance(t, Topic) or CATALOGUE.get(t.name) != t:
                raise DispatchError(f"{self.name} consumes {t!r}, which is not a catalogue topic")
            for payload_type in table:
                if not t.carries(payload_type):
                    raise DispatchError(f"{self.name} handles {payload_type.__name__} on {t.name}, "
                                        f"which that topic does not carry")
            missing = [cls.__name__ for cls in t.payloads if cls not in table]
            if missing:
                raise DispatchError(f"{self.name} has no handler for {', '.join(missing)} on {t.name} "
                                    f"(handle it, or map it to shared.runtime.ignore)")
        for t in self.batch_handlers:
            if t not in self.handlers:
                raise DispatchError(f"{self.name} has a batch handler for {t.name} but no dispatch table for it")
        for t in self.replay:
            if t not in self.handlers:
                raise DispatchError(f"{self.name} replays {t.name}, which it does not consume")

    def topic_names(self) -> list[str]:
        """The names of the topics the service consumes."""
        return [t.name for t in self.handlers]

    def consumes(self, topic_name: str) -> AnyTopic | None:
        return next((t for t in self.handlers if t.name == topic_name), None)

    def handle(self, topic: AnyTopic, envelope: Envelope, payload: Payload) -> list[Outgoing]:
        """Run the handler the table names for ``payload``'s type on ``topic``."""
        return list(self.handlers[topic][type(payload)](envelope, payload))
