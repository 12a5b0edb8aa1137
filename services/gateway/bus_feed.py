"""The in-process twin of the topic follower: a read model over the in-process bus (demo, browser tests) that
catches up with the bus's log each time it is read, instead of following a broker on a thread. Reads may come
from the server's worker threads at once (``citymatch demo --serve``): one catches up at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from shared.bus.inprocess import InProcessBus
from shared.contracts.base import AnyTopic, Envelope, Payload
from shared.contracts.codec import decode
from shared.errors import EventDecodeError


class BusCatchUp:
    def __init__(self, bus: InProcessBus, topics: Sequence[AnyTopic], apply: Callable[[Payload], None] | None = None,
                 *, apply_event: Callable[[Envelope, Payload], None] | None = None) -> None:
        """``apply`` folds each payload; ``apply_event`` (instead) each envelope with its payload."""
        self.bus = bus
        self._topics = tuple(topics)
        if apply_event is None:
            assert apply is not None, "BusCatchUp needs apply or apply_event"
            only = apply

            def apply_event(_envelope: Envelope, payload: Payload) -> None:
                only(payload)
        self._apply = apply_event
        self._seen = {t.name: 0 for t in self._topics}
        self._lock = threading.Lock()

    def __call__(self) -> None:
        """Apply what was published since the last call (undecodable records were dead-lettered: skipped)."""
        with self._lock:
            self._catch_up()

    def _catch_up(self) -> None:
        for topic in self._topics:
            # a copy of what is new: the bus may append meanwhile, and what it appends is read next time
            # positions count what the bus forgot (a long demo trims its logs), so a trim loses nothing new
            dropped = self.bus.forgotten.get(topic.name, 0)
            new = self.bus.log.get(topic.name, [])[max(0, self._seen[topic.name] - dropped):]
            self._seen[topic.name] = max(self._seen[topic.name], dropped)
            for raw in new:
                try:
                    self._apply(*decode(raw, topic))
                except EventDecodeError:
                    continue
            self._seen[topic.name] += len(new)
