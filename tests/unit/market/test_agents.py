"""Bidding profiles (seed Table 1), PV from the clear sky, load shapes and the agents' order logic."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.market.domain.agents import AgentInput, EvState, StorageState, decide, to_orders
from services.market.domain.load import load_kwh
from services.market.domain.profiles import ECONOMY, GREEN, PRICE_FIRST, BidTable
from services.market.domain.solar import pv_kwh

TOKYO = ZoneInfo("Asia/Tokyo")
NOON = datetime(2026, 5, 12, 12, 0, tzinfo=TOKYO).astimezone(UTC)
NIGHT = datetime(2026, 5, 12, 2, 0, tzinfo=TOKYO).astimezone(UTC)


@pytest.mark.parametrize(("soc", "economy", "green", "price_first"),
                         [(20, "20", "25", "20"), (60, "15", "20", "10"), (80, "10", "15", "10")])
def test_profiles_reproduce_seed_table_1(soc, economy, green, price_first):
    """At 20/60/80 % state of charge the profiles give the seed's Table 1 prices."""
    assert ECONOMY.buy_price(soc) == D(economy)
    assert GREEN.renewable_value(soc) == D(green)
    assert PRICE_FIRST.buy_price(soc) == D(price_first)


def test_profile_interpolates_and_is_flat_beyond_the_ends():
    """Between points the price is linear; below the first and above the last it stays flat."""
    assert ECONOMY.buy_price(40) == D("17.50")
    assert ECONOMY.buy_price(5) == D("20.00") and ECONOMY.buy_price(95) == D("10.00")


def test_bid_table_rejects_unordered_points():
    """A table whose states of charge do not increase is refused with a reason."""
    with pytest.raises(ValueError, match="increase"):
        BidTable.of((60, 15), (20, 20))


def test_pv_is_zero_at_night_and_bounded_at_noon():
    """Clear-sky PV yields nothing at night and at most kWp x 0.5 h at noon; weather scales it."""
    assert pv_kwh(NIGHT, D("5")) == 0
    noon = pv_kwh(NOON, D("5"))
    assert D("1") < noon <= D("2.5")
    assert pv_kwh(NOON, D("5"), weather_factor=0.5) == pytest.approx(noon / 2, abs=D("0.002"))


def test_load_shapes_follow_the_day():
    """Homes use more at 19:00 than at 03:00; offices more at 11:00 than at 03:00."""
    at = lambda h: datetime(2026, 5, 12, h, 0, tzinfo=TOKYO).astimezone(UTC)  # noqa: E731
    assert load_kwh(at(19), D("10")) > load_kwh(at(3), D("10"))
    assert load_kwh(at(11), D("100"), "office") > load_kwh(at(3), D("100"), "office")


def _agent(**kw) -> AgentInput:
    base = dict(participant="p", profile=ECONOMY, retail_price=D("26.2"), buyback_price=D("7"))
    base.update(kw)
    return AgentInput(**base)


def test_pv_surplus_without_storage_is_offered_at_buyback_as_renewable():
    """A home with only PV sells its surplus, renewable, at the grid's buy-back price."""
    (i,) = decide(_agent(load_kwh=D("0.3"), pv_kwh=D("1.5")))
    assert (i.side, i.kwh, i.limit_price, i.renewable) == ("sell", D("1.200"), D("7"), True)


def test_deficit_without_storage_bids_the_retail_tariff():
    """A home without storage bids its deficit at the retail tariff, its alternative."""
    (i,) = decide(_agent(load_kwh=D("0.8")))
    assert (i.side, i.kwh, i.limit_price) == ("buy", D("0.800"), D("26.2"))


def test_full_battery_offers_discharge_at_profile_price():
    """A battery at 80 % with nothing else to do offers its discharge power at the Table 1 price."""
    bat = StorageState(D("10"), D("3"), D("80"))
    (i,) = decide(_agent(battery=bat))
    assert (i.side, i.kwh, i.limit_price) == ("sell", D("1.500"), D("10.00"))


def test_low_battery_bids_to_charge_and_green_owner_adds_premium():
    """A battery at 20 % bids to charge at 20 yen; a green owner adds 5 yen for renewable kWh."""
    bat = StorageState(D("10"), D("3"), D("20"))
    (i,) = decide(_agent(battery=bat, profile=GREEN))
    assert (i.side, i.limit_price, i.green_premium) == ("buy", D("20.00"), D("5"))


def test_ev_must_charge_is_bid_at_retail():
    """An EV that still needs charge before departure bids that energy at the retail tariff."""
    ev = EvState(D("8.8"), D("3"), D("40"), plugged=True, needed_soc_pct=D("90"), slots_to_departure=4)
    intents = decide(_agent(ev=ev, profile=PRICE_FIRST))
    must = [i for i in intents if i.limit_price == D("26.2")]
    assert must and must[0].kwh == D("1.100")


def test_orders_have_deterministic_ids():
    """Order ids come from participant, slot and position, so re-running an agent gives the same ids."""
    a = _agent(load_kwh=D("0.8"))
    first = to_orders(a, NOON, decide(a), NOON)
    second = to_orders(a, NOON, decide(a), NOON)
    assert [o.order_id for o in first] == [o.order_id for o in second] == ["p-20260512T0300-0"]


decimals = st.decimals(min_value=0, max_value=5, places=3)


@settings(max_examples=150, deadline=None)
@given(load=decimals, pv=decimals, soc=st.integers(0, 100), has_battery=st.booleans(),
       profile=st.sampled_from([ECONOMY, GREEN, PRICE_FIRST]))
def test_agent_orders_are_one_sided_positive_and_within_power(load, pv, soc, has_battery, profile):
    """An agent's orders are all buys or all sells, positive, and never more than load, PV and power allow."""
    bat = StorageState(D("10"), D("3"), D(soc)) if has_battery else None
    intents = decide(_agent(load_kwh=load, pv_kwh=pv, battery=bat, profile=profile))
    assert len({i.side for i in intents}) <= 1
    assert all(i.kwh > 0 and D("0") <= i.limit_price <= D("100") for i in intents)
    assert sum(i.kwh for i in intents) <= load + pv + D("1.5")
