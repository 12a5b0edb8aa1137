from datetime import UTC, datetime, timedelta

from services.market.adapters.community_yaml import load_community
from services.market.service import build_service
from shared.bus.inprocess import InProcessBus
from shared.contracts.energy import ORDERS, REJECTIONS, TRADES, EnergyOrderPlaced, GateClosed, OrderRejected
from shared.units import slot_start


def _run(admit: bool) -> InProcessBus:
    community = load_community("higashi_fuji")
    bus = InProcessBus([build_service(community.market_settings(admit_unregistered=admit))])
    slot = slot_start(datetime.now(UTC)) + timedelta(hours=5)
    for pid, side, price in (("visitor-pv", "sell", "9"), ("visitor-home", "buy", "21")):
        bus.publish(ORDERS, EnergyOrderPlaced(order_id=pid, participant=pid, side=side, slot=slot,
                                                       kwh="0.5", limit_price=price))
    bus.publish(ORDERS, GateClosed(slot=slot))
    bus.run_until_idle()
    return bus


def test_community_refuses_strangers_by_default():
    """A community market rejects participants outside its registry, naming them."""
    rejections = [r for r in _run(admit=False).events(REJECTIONS) if isinstance(r, OrderRejected)]
    assert {r.participant for r in rejections} == {"visitor-pv", "visitor-home"}
    assert all("unknown participant" in r.reason for r in rejections)


def test_open_community_admits_app_users_and_trades():
    """With admit_unregistered, app users outside the registry trade under the market-wide limits."""
    bus = _run(admit=True)
    assert bus.events(REJECTIONS) == []
    [trade] = bus.events(TRADES)
    assert (trade.seller, trade.buyer) == ("visitor-pv", "visitor-home")
