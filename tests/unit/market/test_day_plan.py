"""The planning profile: a battery's plan of the day from a price forecast, and the orders of its first slot."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from services.market.adapters.community_yaml import parse_community
from services.market.domain.agents import AgentInput, EvState, StorageState, decide
from services.market.domain.day_plan import Forecast, PlanError, SlotPrice, Storage, plan_day
from services.market.domain.price_memory import PriceMemory
from services.market.domain.profiles import ECONOMY, PLANNED
from shared.contracts.energy import EnergyOrderPlaced, TradeMatched

TOKYO = ZoneInfo("Asia/Tokyo")
MIDNIGHT = datetime(2026, 5, 20, 0, 0, tzinfo=TOKYO).astimezone(UTC)
RETAIL, BUYBACK = 26.2, 7.0
EVENING = range(36, 42)  # 18:00-21:00


def _day(night_bid: float = 16.0, evening_bid: float = 19.0, evening_ask: float | None = None) -> tuple[SlotPrice, ...]:
    """A day seen from midnight: buyers at ``night_bid`` for the first hour, at ``evening_bid`` in the evening
    peak (where sellers, if ``evening_ask``, offer too), the tariffs otherwise."""
    out = []
    for k in range(48):
        bids: tuple[tuple[float, float], ...] = ()
        asks: tuple[tuple[float, float], ...] = ()
        if k < 2:
            bids = ((300.0, night_bid),)
        if k in EVENING:
            bids = ((600.0, evening_bid),)
            asks = ((600.0, evening_ask),) if evening_ask is not None else ()
        out.append(SlotPrice(RETAIL, BUYBACK, bids, asks))
    return tuple(out)


def _station(soc: str = "75", profile=PLANNED, prices: tuple[SlotPrice, ...] | None = None) -> AgentInput:
    return AgentInput("station-battery", profile, D("26.2"), D("7"),
                      battery=StorageState(D(1000), D(250), D(soc)), site="east",
                      forecast=Forecast(prices if prices is not None else _day()))


def test_planned_battery_keeps_its_charge_for_the_evening_peak_instead_of_selling_at_midnight():
    """At midnight, with buyers paying 16 now and 19 in the evening, the table sells (its charge is above 60 %)
    while the planned battery bids nothing: its plan sells only in the evening and never buys back."""
    assert [i.side for i in decide(_station(profile=ECONOMY))] == ["sell"]
    assert decide(_station()) == []
    plan = plan_day(Storage(1000, 250, 75), _day(evening_ask=24.0))
    assert sum(plan.sell[:36]) == 0 and sum(plan.buy) == 0
    assert sum(plan.sell[k] for k in EVENING) == pytest.approx(650)  # down to the 10 % floor, at 19


def test_planned_battery_sells_in_the_evening_at_an_ask_no_lower_than_what_its_energy_is_worth_later():
    """In the evening peak its first slot is a sale of at most its power for half an hour, asked at the value
    of stored energy later in the plan (above the buy-back price, at most the peak's bid)."""
    evening = _day()[36:] + _day()[:36]
    [sell] = decide(_station(prices=evening))
    assert sell.side == "sell" and sell.kwh == D("125.000")
    assert D("7") < sell.limit_price <= D("19")


@pytest.mark.parametrize("soc", ["10.5", "50", "99"])
@pytest.mark.parametrize("prices", [_day(), _day(night_bid=25, evening_bid=9), tuple(
    SlotPrice(RETAIL, BUYBACK, ((200.0, 8.0 + k % 7),), ((100.0, 15.0 + k % 5 * 2),) if k % 3 else ())
    for k in range(48))])
def test_plan_respects_power_and_state_of_charge_limits(soc, prices):
    """No slot charges or discharges more than power x 0.5 h, stored energy stays within 10..90 % (or moves
    towards it from outside), and the first slot's orders fit what the battery can take or give."""
    storage = Storage(1000, 250, float(soc), min_soc_pct=10, max_soc_pct=90)
    plan = plan_day(storage, prices)
    assert max(plan.charge + plan.discharge) <= 125 + 1e-6
    assert min(plan.stored_kwh) >= min(100, float(soc) * 10) - 1e-6
    assert max(plan.stored_kwh) <= max(900, float(soc) * 10) + 1e-6
    state = StorageState(D(1000), D(250), D(soc), D(10), D(90))
    a = dataclasses.replace(_station(soc, prices=prices), battery=state)
    for i in decide(a):
        assert i.kwh <= (state.charge_room() if i.side == "buy" else state.discharge_room())


def test_flat_forecast_leaves_the_battery_idle():
    """When every slot buys and sells at the same price there is nothing to gain: no charge, no discharge."""
    flat = tuple(SlotPrice(15.0, 15.0) for _ in range(48))
    plan = plan_day(Storage(1000, 250, 50), flat)
    assert sum(plan.charge) == 0 and sum(plan.discharge) == 0
    assert decide(_station("50", prices=flat)) == []


def test_plan_and_orders_are_deterministic():
    """The same inputs give the same plan and the same orders, run after run."""
    prices = _day(evening_ask=24.0)
    assert plan_day(Storage(1000, 250, 75), prices) == plan_day(Storage(1000, 250, 75), prices)
    assert decide(_station(prices=prices[36:] + prices[:36])) == decide(_station(prices=prices[36:] + prices[:36]))


def test_cheap_energy_is_bought_up_to_its_later_worth():
    """A cheap midday seller and an evening buyer: the plan charges at midday, bidding up to what the kWh fetch
    in the evening, and discharges in the evening."""
    day = [SlotPrice(RETAIL, BUYBACK, ((500.0, 19.0),) if k in EVENING else (),
                     ((500.0, 9.0),) if 20 <= k < 28 else ()) for k in range(48)]
    midday = tuple(day[20:] + day[:20])
    [buy] = decide(_station("10", prices=midday))
    assert buy.side == "buy" and buy.kwh == D("125.000")
    assert D("9") <= buy.limit_price <= D("19")
    plan = plan_day(Storage(1000, 250, 10), midday)
    assert sum(plan.sell) == pytest.approx(sum(plan.buy))  # everything bought is sold back, in the evening
    assert all(plan.sell[k] == 0 for k in range(16))


def test_v2g_car_leaves_with_the_charge_it_needs():
    """A car plugged for four slots at 35 % that must leave with 80 % ends its plan there, though selling pays."""
    prices = tuple(SlotPrice(RETAIL, BUYBACK, ((100.0, 19.0),)) for _ in range(4))
    plan = plan_day(Storage(40, 6, 35, end_floor_kwh=32), prices)
    assert plan.stored_kwh[-1] >= 14 + 4 * 3 - 1e-6  # as much of the need as 6 kW reach in two hours
    ev = EvState(D(40), D(6), D(35), plugged=True, needed_soc_pct=D(80), slots_to_departure=4, v2g=True)
    car = AgentInput("office-ev-01", PLANNED, D("20"), D("7"), ev=ev, forecast=Forecast(prices))
    assert [(i.side, i.kwh) for i in decide(car)] == [("buy", D("3.000"))]


def test_without_a_forecast_the_planning_profile_bids_by_its_table():
    """A planning profile given no forecast decides exactly as the same table does (nothing changes by default)."""
    a = dataclasses.replace(_station(), forecast=None)
    assert decide(a) == decide(dataclasses.replace(a, profile=ECONOMY))


def test_a_slot_that_sells_above_its_buy_price_is_refused():
    """A forecast where selling pays more than buying costs would let the plan trade with itself."""
    with pytest.raises(PlanError, match="trade with itself"):
        plan_day(Storage(10, 5, 50), [SlotPrice(10.0, 12.0)])


def _order(pid: str, side: str, kwh: str, price: str, site: str | None, oid: str = "o") -> EnergyOrderPlaced:
    return EnergyOrderPlaced(order_id=oid, participant=pid, side=side, slot=MIDNIGHT, kwh=D(kwh),
                             limit_price=D(price), site=site, placed_at=MIDNIGHT - timedelta(minutes=30))


def test_memory_forecasts_the_book_others_left_open():
    """Yesterday's unmet bids at a half-hour are today's forecast there: on the same site at their limit, from
    another site less the wheeling fee; what the participant itself sold is open to it again; its own orders and
    what others filled are not."""
    memory = PriceMemory("Asia/Tokyo", wheeling_fee=10.0)
    orders = [_order("mall", "buy", "100", "19", "east"), _order("far", "buy", "50", "19", "west"),
              _order("bat", "sell", "30", "15", "east"), _order("pv", "sell", "20", "12", "east"),
              _order("home", "buy", "20", "25", "east")]
    trades = [TradeMatched(trade_id="t1", slot=MIDNIGHT, seller="bat", buyer="mall", kwh=D(30), price=D(17),
                           tier="A", sell_order_id="o", buy_order_id="o"),
              TradeMatched(trade_id="t2", slot=MIDNIGHT, seller="pv", buyer="home", kwh=D(20), price=D(18),
                           tier="A", sell_order_id="o", buy_order_id="o")]
    memory.record(MIDNIGHT - timedelta(days=1), orders, trades)
    [p] = memory.forecast("bat", "east", [MIDNIGHT], D("26.2"), D("7"))
    assert p.bids == ((100.0, 19.0), (50.0, 9.0)) and p.asks == ()
    assert (p.buy, p.sell) == (26.2, 7.0)
    [later] = memory.forecast("bat", "east", [MIDNIGHT + timedelta(hours=1)], D("26.2"), D("7"))
    assert later == SlotPrice(26.2, 7.0)


def test_community_file_opts_a_profile_into_planning():
    """``plan: true`` makes a profile plan; profiles without it, and the built-in ones but 'planned', do not."""
    community = parse_community({
        "name": "t", "location": {"latitude": 35.45, "longitude": 139.39}, "tariffs": {"retail": 26.2, "buyback": 7},
        "profiles": {"store": {"table": [[10, 22], [90, 11]], "plan": True}, "plain": {"table": [[50, 15]]}},
        "participants": [{"id": "b", "kind": "battery", "profile": "store",
                          "battery": {"capacity_kwh": 100, "power_kw": 50}}]})
    assert community.profiles["store"].plans and not community.profiles["plain"].plans
    assert community.profiles["planned"].plans and not community.profiles["economy"].plans


def test_station_battery_of_the_demo_keeps_its_charge_for_the_evening_and_earns_more():
    """The Ebina demo day: by its table the station battery sells at midnight; planning, it sells nothing before
    16:00, sells in the afternoon and evening peak, and earns more than the table for every kWh it gives up."""
    from datetime import date

    from services.market.adapters.community_yaml import load_community
    from services.market.storage_day import storage_day, with_planning

    ebina = load_community("ebina")
    table = storage_day(with_planning(ebina, "station-battery", False), "station-battery", date(2026, 5, 20), 0.8)
    planned = storage_day(with_planning(ebina, "station-battery", True), "station-battery", date(2026, 5, 20), 0.8)
    assert any(t.startswith("00:00 sold") for t in table["trades"])
    assert planned["trades"] and all("16:00" <= t[:5] < "21:00" and " sold " in t for t in planned["trades"])
    assert D(planned["soc_18:00_pct"]) < D(planned["soc_00:00_pct"]) == D("75.0")
    per_kwh = D(planned["net_yen"]) / D(planned["sold_kwh"])
    assert per_kwh > D(table["net_yen"]) / D(table["sold_kwh"])


def test_home_battery_stores_its_pv_surplus_for_the_evening_and_offers_what_it_cannot_take():
    """A home at noon with 3 kWh of PV surplus and a 4 kW battery at 20 %: the plan stores 2 kWh (its power for
    half an hour) for buyers in the evening and offers the other 1 kWh at the buy-back price, as renewable."""
    prices = tuple(SlotPrice(RETAIL, BUYBACK, ((50.0, 19.0),) if 12 <= k < 18 else ()) for k in range(48))
    home = AgentInput("home-pv-bat-01", PLANNED, D("26.2"), D("7"), load_kwh=D("0.5"), pv_kwh=D("3.5"),
                      battery=StorageState(D(12), D(4), D(20)), forecast=Forecast(prices, (-3.0,) * 4))
    [sell] = decide(home)
    assert (sell.side, sell.kwh, sell.limit_price, sell.renewable) == ("sell", D("1.000"), D("7"), True)


def test_an_unusable_forecast_falls_back_to_the_table():
    """A forecast whose slot sells above its buy price is not planned on: the agent bids by its table."""
    bad = tuple(SlotPrice(10.0, 12.0) for _ in range(48))
    a = _station(prices=bad)
    assert decide(a) == decide(dataclasses.replace(a, profile=ECONOMY, forecast=None))
