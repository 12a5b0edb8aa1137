"""The gateway's publisher on an in-process bus with a simulated clock stamps what it publishes with that
clock (a campaign judges an app user's answer by it); without one, with the wall clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.gateway.publisher import BusPublisher
from shared.bus.inprocess import InProcessBus
from shared.contracts.codec import decode
from shared.contracts.incentives import USERS, OffersPreference

SIMULATED = datetime(2026, 5, 20, 7, 30, tzinfo=UTC)


def test_a_clocked_bus_stamps_the_gateways_events_with_its_clock() -> None:
    bus = InProcessBus(clock=lambda: SIMULATED)
    envelope = asyncio.run(BusPublisher(bus).publish(USERS, OffersPreference(user="u-1", opted_out=True)))
    assert envelope.occurred_at == SIMULATED
    assert decode(bus.log[USERS.name][0])[0].occurred_at == SIMULATED


def test_a_bus_without_a_clock_stamps_the_wall_clock() -> None:
    before = datetime.now(UTC)
    envelope = asyncio.run(BusPublisher(InProcessBus()).publish(USERS, OffersPreference(user="u-1", opted_out=True)))
    assert envelope.occurred_at >= before
