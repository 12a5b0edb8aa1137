"""The gateway's read models share one consumer (services/gateway/topic_feed.FeedHub): each record reaches every
model that follows its topic, one model's failure does not stall the others, and closing one closes the hub."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from services.gateway.topic_feed import FeedHub, KafkaTopicFeed
from shared.contracts.base import Envelope
from shared.contracts.codec import encode
from shared.contracts.crowd import ANOMALIES, COUNTS, CrowdCountObserved


class Folding(KafkaTopicFeed):
    def __init__(self, topics: tuple[Any, ...], name: str, fail: bool = False) -> None:
        super().__init__("127.0.0.1:1", topics, name)
        self.seen: list[Any] = []
        self.fail = fail

    def fold(self, payload: Any) -> None:
        if self.fail:
            raise RuntimeError("a read model's bug")
        self.seen.append(payload)


def record(zone: str, offset: int) -> SimpleNamespace:
    count = CrowdCountObserved(zone=zone, minute_start=datetime(2026, 12, 4, 9, tzinfo=UTC), persons=5,
                               density_p_m2=0.1, los="A")
    return SimpleNamespace(value=encode(Envelope.wrap(count, "test")), offset=offset)


def test_a_record_reaches_every_feed_of_its_topic_and_a_failing_feed_stalls_none():
    counts, also_counts, broken = Folding((COUNTS,), "a"), Folding((COUNTS,), "b"), Folding((COUNTS,), "c", True)
    alerts = Folding((ANOMALIES,), "d")
    hub = FeedHub("127.0.0.1:1", [broken, counts, also_counts, alerts])
    hub._hand_on(record("east-gate", 0), COUNTS.name)
    hub._hand_on(record("west-gate", 1), COUNTS.name)
    assert [p.zone for p in counts.seen] == [p.zone for p in also_counts.seen] == ["east-gate", "west-gate"]
    assert alerts.seen == [] and broken.seen == []


def test_closing_one_feed_stops_the_hub_all_of_them_share():
    first, second = Folding((COUNTS,), "a"), Folding((ANOMALIES,), "b")
    hub = FeedHub("127.0.0.1:1", [first, second])
    assert first._hub is second._hub is hub
    first.close()
    assert hub._stop.is_set()
    second.close()  # harmless a second time


def test_a_record_is_decoded_once_for_all_the_feeds_that_fold_it_and_raw_feeds_get_the_record(monkeypatch):
    import services.gateway.topic_feed as topic_feed

    calls: list[str] = []
    real = topic_feed.decode
    monkeypatch.setattr(topic_feed, "decode", lambda raw, topic: calls.append(topic.name) or real(raw, topic))

    class Raw(KafkaTopicFeed):
        def __init__(self) -> None:
            super().__init__("127.0.0.1:1", (COUNTS,), "raw")
            self.records: list[Any] = []

        def take(self, record: Any, topic: str) -> None:
            self.records.append(record)

    a, b, raw = Folding((COUNTS,), "a"), Folding((COUNTS,), "b"), Raw()
    hub = FeedHub("127.0.0.1:1", [a, raw, b])
    rec = record("east-gate", 0)
    hub._hand_on(rec, COUNTS.name)
    assert calls == [COUNTS.name] and raw.records == [rec]
    assert a.seen == b.seen and a.seen[0] is b.seen[0]
    hub._hand_on(SimpleNamespace(value=b"not an envelope", offset=1), COUNTS.name)   # skipped by both, once
    assert calls == [COUNTS.name] * 2 and len(a.seen) == len(b.seen) == 1 and len(raw.records) == 2
