"""A read model over the in-process bus read from several threads while the bus appends: every record is
folded exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from services.gateway.bus_feed import BusCatchUp
from shared.bus.inprocess import InProcessBus
from shared.contracts.incentives import USERS, OffersPreference

RECORDS = 3000


def test_readers_in_threads_fold_each_record_once_while_the_bus_appends() -> None:
    bus = InProcessBus()
    folded: list[str] = []
    catch_up = BusCatchUp(bus, (USERS,), lambda p: folded.append(p.user))
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            catch_up()

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    for i in range(RECORDS):
        bus.publish(USERS, OffersPreference(user=f"u{i}", opted_out=True))
    done.set()
    for t in readers:
        t.join(timeout=10)
    catch_up()
    assert folded == [f"u{i}" for i in range(RECORDS)]


def test_a_reader_goes_on_after_the_bus_forgets_a_topic() -> None:
    """A long in-process run trims a topic's log: what comes after the trim is read, nothing twice."""
    from shared.contracts.crowd import COUNTS, CrowdCountObserved

    bus = InProcessBus()
    seen: list[int] = []
    read = BusCatchUp(bus, [COUNTS], lambda p: seen.append(p.persons))

    def count(n: int) -> None:
        bus.publish(COUNTS, CrowdCountObserved(zone="z", minute_start=datetime(2026, 12, 2, tzinfo=UTC), persons=n,
                                               density_p_m2=0.0, los="A"))

    for n in range(5):
        count(n)
    read()
    bus.forget(COUNTS.name)
    count(5)
    read()
    count(6)
    bus.forget(COUNTS.name)  # forgotten before this reader saw it: a trim drops what nobody read in time
    count(7)
    read()
    assert seen == [0, 1, 2, 3, 4, 5, 7]
