"""The market on the in-process bus: community agents' orders, the timer's gate closure, trades out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.market.adapters.community_yaml import load_community
from services.market.domain.agents import decide, to_orders
from services.market.service import build_service
from shared.bus.inprocess import InProcessBus
from shared.contracts.base import Envelope
from shared.contracts.codec import encode
from shared.contracts.energy import CLEARINGS, ORDERS, REJECTIONS, TRADES


def test_higashi_fuji_noon_slot_clears_on_the_bus():
    """Orders published on energy.orders clear when the timer closes the gate; kWh balance per slot."""
    community = load_community("higashi_fuji")
    slot = datetime(2026, 5, 12, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(UTC)
    clock = {"now": slot - timedelta(minutes=20)}
    bus = InProcessBus([build_service(community.market_settings(), clock=lambda: clock["now"])])
    for agent in community.agent_inputs(slot, weather_factor=0.9):
        for order in to_orders(agent, slot, decide(agent), clock["now"]):
            envelope = Envelope.wrap(order, agent.participant, occurred_at=clock["now"])
            bus.publish_raw(ORDERS.name, encode(envelope))
    bus.run_until_idle()
    assert bus.events(REJECTIONS) == []
    clock["now"] = slot - timedelta(minutes=4)
    bus.tick()
    bus.run_until_idle()
    trades = bus.events(TRADES)
    (summary,) = [c for c in bus.events(CLEARINGS) if c.slot == slot]
    assert summary.trades == len(trades) > 0
    assert summary.kwh == sum((t.kwh for t in trades), Decimal(0))
    assert any(t.tier == "A" for t in trades)  # the office's PV feeds the commuters' cars on site
    assert not bus.dead_letters
