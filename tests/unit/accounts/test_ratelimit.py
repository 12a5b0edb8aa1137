"""The sliding window: limit events per window per key, the wait it reports, and bounded memory."""

from __future__ import annotations

from services.gateway.accounts.domain.ratelimit import SlidingWindow


def test_limit_then_wait_until_the_oldest_event_leaves_the_window():
    """After 5 events in a minute the key must wait until the first is a minute old; other keys go on."""
    w = SlidingWindow(5, 60.0)
    for i in range(5):
        assert w.retry_after("hanako", 100.0 + i) == 0
        w.add("hanako", 100.0 + i)
    assert w.retry_after("hanako", 105.0) == 55
    assert w.retry_after("taro", 105.0) == 0
    assert w.retry_after("hanako", 160.0) == 0  # the first event (t=100) has left the window


def test_clear_and_forgotten_keys():
    """Clearing a key lifts its limit; keys whose events all expired are dropped from memory."""
    w = SlidingWindow(2, 10.0)
    w.add("a", 0.0)
    w.add("a", 1.0)
    w.clear("a")
    assert w.retry_after("a", 2.0) == 0
    w.add("b", 0.0)
    w.retry_after("b", 50.0)
    assert "b" not in w._events
