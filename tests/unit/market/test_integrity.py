"""Market integrity: limits per participant and slot, sellers bound by what they can deliver, system
accounts out of the market, no self-trade, order ids scoped to their participant."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from services.market.domain.book import Admission, OrderBook
from services.market.domain.registry import Device, Participant
from services.market.market_slot import clear_orders
from services.market.settings import MarketSettings
from shared.contracts.energy import EnergyOrderCancelled, EnergyOrderPlaced

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SLOT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
REGISTRY = {
    "home-17": Participant("home-17", max_order_kwh=D("3")),
    "roof-1": Participant("roof-1", max_order_kwh=D("10"), devices=(Device("roof-1/pv", "pv", D(0), D("4")),)),
    "bat-1": Participant("bat-1", max_order_kwh=D("50"),
                         devices=(Device("bat-1/battery", "battery", D("10"), D("5")),)),
}


def order(order_id: str, participant: str, side: str, kwh: str, price: str = "10") -> EnergyOrderPlaced:
    return EnergyOrderPlaced(order_id=order_id, participant=participant, side=side, slot=SLOT, kwh=D(kwh),
                             limit_price=D(price), placed_at=NOW)


@pytest.fixture
def book() -> OrderBook:
    return OrderBook(Admission(participants=dict(REGISTRY), admit_unregistered=True))


def test_slot_limit_is_a_sum_over_the_participants_orders(book):
    """Two 2 kWh buys of a 3 kWh participant: the second is refused, naming the limit and the excess."""
    assert book.place(order("a", "home-17", "buy", "2.0"), NOW) is None
    reason = book.place(order("b", "home-17", "buy", "2.0"), NOW)
    assert reason is not None
    assert "4.0 kWh" in reason and "1.0 kWh over" in reason and "registered per-slot limit" in reason
    assert book.place(order("c", "home-17", "buy", "1.0"), NOW) is None  # up to the limit is fine
    assert sum(o.kwh for o in book.orders(SLOT)) == D("3.0")


def test_a_cancelled_order_frees_its_share_of_the_limit(book):
    """After cancelling, the participant may place up to the limit again."""
    assert book.place(order("a", "home-17", "buy", "3"), NOW) is None
    assert book.cancel(EnergyOrderCancelled(order_id="a", participant="home-17", slot=SLOT), NOW) is None
    assert book.place(order("b", "home-17", "buy", "3"), NOW) is None


def test_seller_without_a_device_cannot_sell(book):
    """A registered participant without a device may buy but sells 0 kWh; the reason says why."""
    reason = book.place(order("s", "home-17", "sell", "1"), NOW)
    assert reason is not None and "registered devices can deliver" in reason and "(0 kWh)" in reason


def test_sells_are_bounded_by_what_the_devices_deliver(book):
    """4 kWp of PV deliver at most 2 kWh in a half hour; a 5 kW battery 2.5 kWh — over two orders too."""
    assert book.place(order("s1", "roof-1", "sell", "1.5"), NOW) is None
    reason = book.place(order("s2", "roof-1", "sell", "1.0"), NOW)
    assert reason is not None and "0.5 kWh over what its registered devices can deliver" in reason
    assert book.place(order("s3", "bat-1", "sell", "2.5"), NOW) is None
    assert book.place(order("s4", "bat-1", "sell", "0.1"), NOW) is not None


def test_unregistered_app_users_get_the_documented_allowance(book):
    """An app user the registry does not know sells at most the sell allowance, summed per slot."""
    allowance = Admission().app_user_sell_kwh
    reason = book.place(order("s", "roof-77", "sell", "50"), NOW)
    assert reason is not None and "app-user sell allowance" in reason and f"({allowance} kWh)" in reason
    assert book.place(order("s1", "roof-77", "sell", str(allowance)), NOW) is None
    assert book.place(order("s2", "roof-77", "sell", "0.001"), NOW) is not None
    assert book.place(order("b", "home-99", "buy", str(Admission().app_user_buy_kwh + 1)), NOW) is not None


@pytest.mark.parametrize("name", ["grid", "operator", "platform", "fees"])
def test_system_accounts_cannot_place_orders(book, name):
    """Orders in the name of the grid, the operator, the platform or a fee account are refused."""
    reason = book.place(order("x", name, "sell", "1"), NOW)
    assert reason == f"{name} is a system account and cannot place orders"


def test_an_order_against_the_grid_never_trades_with_itself():
    """With the grid in the clearing, no trade has the same party on both sides (the grid's name is refused
    at the book, and the clearing checks it too)."""
    settings = MarketSettings(grid_retail_price=D("26.2"), grid_buyback_price=D("7"))
    trades, _ = clear_orders(SLOT, [order("s", "pv-1", "sell", "1", "5"), order("b", "home-1", "buy", "2", "30")],
                             settings)
    assert trades and all(t.seller != t.buyer for t in trades)


def test_order_ids_are_scoped_to_their_participant(book):
    """Two participants may use the same id; another's id cancels nothing and reads as unknown."""
    assert book.place(order("o1", "home-17", "buy", "1"), NOW) is None
    assert book.place(order("o1", "roof-1", "sell", "1"), NOW) is None  # same id, other participant
    reason = book.cancel(EnergyOrderCancelled(order_id="o1", participant="bat-1", slot=SLOT), NOW)
    assert reason == f"unknown order o1 in slot {SLOT.isoformat()}"
    missing = book.cancel(EnergyOrderCancelled(order_id="nope", participant="bat-1", slot=SLOT), NOW)
    assert missing == f"unknown order nope in slot {SLOT.isoformat()}"
    assert len(book.orders(SLOT)) == 2


def test_same_order_ids_of_two_participants_give_distinct_trades():
    """Trade ids include the participants, so equal order ids in one slot cannot collide on the ledger."""
    settings = MarketSettings()
    orders = [order("x", "pv-1", "sell", "1", "5"), order("y", "home-1", "buy", "1", "30"),
              order("x", "pv-2", "sell", "1", "5"), order("y", "home-2", "buy", "1", "30")]
    trades, _ = clear_orders(SLOT, orders, settings)
    assert len(trades) == 2 and len({t.trade_id for t in trades}) == 2
