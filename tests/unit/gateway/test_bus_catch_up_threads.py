"""A read model over the in-process bus read from several threads while the bus appends: every record is
folded exactly once."""

from __future__ import annotations

import threading

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
