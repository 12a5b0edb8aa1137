"""The operators' live read models: chokepoints' level of service, chargers' load, vehicles and couriers (with
staleness on the model's clock), the market per slot, and dead letters per topic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from services.gateway.city_live import BusLive, ChargerSpec, Freshness
from services.gateway.dead_letters import BusDeadLetters, KafkaDeadLetterFeed
from services.gateway.market_slots import BusMarket
from shared.bus.dispatch import dead_letter_headers
from shared.bus.inprocess import InProcessBus
from shared.contracts import charging, crowd, energy, logistics, mobility
from shared.contracts.energy import TradeMatched
from shared.runtime import Service, ignore

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # a slot boundary
SPECS = (ChargerSpec("lalaport-ebina/cp-01", "lalaport-ebina", Decimal("6")),
         ChargerSpec("ebina-station-ev/cp-01", "ebina-station-ev", Decimal("20")))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def world(**kw):
    clock = Clock(T0)
    bus = InProcessBus(clock=clock)  # what the bus publishes is stamped with this clock
    return bus, BusLive(bus, SPECS, **kw), clock


def count(zone: str, minute: int, persons: int, los: str) -> crowd.CrowdCountObserved:
    return crowd.CrowdCountObserved(zone=zone, minute_start=T0 + timedelta(minutes=minute), persons=persons,
                                    density_p_m2=0.5, los=los)


def reading(kwh: str, minutes: float, final: bool = False, tx: int = 1,
            charger: str = "lalaport-ebina/cp-01") -> charging.ChargingSessionMetered:
    return charging.ChargingSessionMetered(charger=charger, vehicle="ev-7", transaction_id=tx, kwh=Decimal(kwh),
                                           started_at=T0, read_at=T0 + timedelta(minutes=minutes), final=final)


def by(rows: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in rows}


def test_each_chokepoint_shows_its_newest_minute_with_flow_per_metre_and_turns_stale():
    bus, live, clock = world()
    bus.publish(crowd.COUNTS, count("odakyu_gates", 1, 400, "D"))
    bus.publish(crowd.COUNTS, count("odakyu_gates", 0, 100, "A"))  # an older minute arriving late
    snap = live.snapshot()
    chokes = by(snap["chokepoints"], "zone")
    assert len(chokes) == 7  # every chokepoint of the map, with data or not
    gates = chokes["odakyu_gates"]
    assert (gates["los"], gates["persons"], gates["flow_p_m_min"]) == ("D", 400, 50.0)  # 8 m wide
    assert gates["minute_start"] == "2026-12-02T08:01:00Z" and gates["name_ja"] == "小田急線改札"
    assert gates["stale"] is False and gates["age_s"] == 0
    assert chokes["jr_gates"]["los"] is None and chokes["jr_gates"]["stale"] is True
    clock.now = T0 + timedelta(seconds=Freshness().crowd_s + 1)
    assert by(live.snapshot()["chokepoints"], "zone")["odakyu_gates"]["stale"] is True
    bus.publish(crowd.COUNTS, count("odakyu_gates", 4, 900, "F"))  # a new word: live again
    gates = by(live.snapshot()["chokepoints"], "zone")["odakyu_gates"]
    assert (gates["los"], gates["stale"]) == ("F", False)


def test_a_zone_the_map_does_not_know_is_still_listed():
    bus, live, _ = world()
    bus.publish(crowd.COUNTS, count("sensor-north-gate", 0, 30, "A"))
    row = by(live.snapshot()["chokepoints"], "zone")["sensor-north-gate"]
    assert row["los"] == "A" and row["flow_p_m_min"] is None and row["width_m"] == 0.0


def test_charger_load_comes_from_the_meter_between_readings():
    bus, live, clock = world()
    clock.now = T0 + timedelta(minutes=10)
    bus.publish(charging.SESSIONS, reading("0.5", 5))    # 0.5 kWh in the first 5 minutes: 6 kW
    snap = by(live.snapshot()["chargers"], "charger")
    cp = snap["lalaport-ebina/cp-01"]
    assert cp["kw"] == 6.0 and cp["capacity_kw"] == 6.0 and cp["in_use"] and cp["vehicle"] == "ev-7"
    assert cp["lat"] is not None and cp["lon"] is not None  # at LaLaport on the map
    bus.publish(charging.SESSIONS, reading("0.75", 10))  # 0.25 kWh in the next 5 minutes: 3 kW
    bus.publish(charging.SESSIONS, reading("0.5", 5))    # redelivered older reading: ignored
    assert by(live.snapshot()["chargers"], "charger")["lalaport-ebina/cp-01"]["kw"] == 3.0
    assert by(live.snapshot()["chargers"], "charger")["ebina-station-ev/cp-01"]["in_use"] is False
    clock.now += timedelta(seconds=Freshness().meter_s + 1)  # no reading since: the kW shown are stale
    cp = by(live.snapshot()["chargers"], "charger")["lalaport-ebina/cp-01"]
    assert cp["stale"] is True and cp["kw"] == 3.0
    bus.publish(charging.SESSIONS, reading("1.0", 20, final=True))
    cp = by(live.snapshot()["chargers"], "charger")["lalaport-ebina/cp-01"]
    assert (cp["in_use"], cp["kw"], cp["stale"], cp["session_kwh"]) == (False, 0.0, False, 1.0)


def test_charger_status_and_planned_power_of_the_current_slot():
    bus, live, clock = world()
    clock.now = T0 + timedelta(minutes=12)
    bus.publish(charging.CHARGERS, charging.ChargerAvailability(charger="ebina-station-ev/cp-01", available=False,
                                                                reason="not connected"))
    for slot, kwh in ((T0, "7.5"), (T0 + timedelta(minutes=30), "2")):
        bus.publish(energy.DISPATCH, energy.DispatchSetpoint(device="ebina-station-ev/cp-01", participant="home-3",
                                                             slot=slot, kwh=Decimal(kwh)))
    bus.publish(energy.DISPATCH, energy.DispatchSetpoint(device="station-battery", participant="station-battery",
                                                         slot=T0, kwh=Decimal("50")))
    rows = by(live.snapshot()["chargers"], "charger")
    cp = rows["ebina-station-ev/cp-01"]
    assert (cp["available"], cp["reason"], cp["planned_kw"]) == (False, "not connected", 15.0)
    assert "station-battery" not in rows  # not a charger
    bus.publish(charging.SESSIONS, reading("1", 5, charger="office-park/cp-09"))  # a charger nobody told us of
    rows = by(live.snapshot()["chargers"], "charger")
    assert rows["office-park/cp-09"]["capacity_kw"] is None and rows["office-park/cp-09"]["site"] == "office-park"


def test_vehicles_show_their_latest_plan_and_couriers_their_next_stop():
    bus, live, clock = world()
    stop = mobility.PlannedStop(request_id="r-1", kind="pickup", lat=35.4530, lon=139.3905,
                                planned_at=T0 + timedelta(minutes=6), window_from=T0, window_until=T0 + timedelta(
                                    minutes=10), seats=1, service_s=30, max_ride_s=900)
    for revision, lat in ((2, 35.4500), (1, 35.4400)):  # revision 1 arrives late and is ignored
        bus.publish(mobility.ASSIGNMENTS, mobility.VehiclePlanned(
            vehicle="van-1", stops=(stop,), revision=revision, reason="insertion", at_lat=lat, at_lon=139.39,
            free_at=T0))
    for pid, lat in (("p-1", 35.451), ("p-2", 35.455)):
        bus.publish(logistics.REQUESTS, logistics.ParcelRequested(
            parcel_id=pid, sender="shop-1", depot="lalaport", lat=lat, lon=139.392, deliver_from=T0,
            deliver_until=T0 + timedelta(hours=3), weight_kg=1, size_l=5))
    for pid, position in (("p-1", 1), ("p-2", 2)):
        bus.publish(logistics.ASSIGNMENTS, logistics.ParcelAssigned(
            parcel_id=pid, courier="courier-lalaport-1", position=position,
            planned_at=T0 + timedelta(minutes=20 * position), plan_revision=1))
    vehicles = by(live.snapshot()["vehicles"], "vehicle")
    van = vehicles["van-1"]
    assert (van["service"], van["lat"], van["revision"], van["position"]) == ("mobility", 35.45, 2, "planned")
    assert van["next_stop"]["ref"] == "r-1" and van["next_stop"]["kind"] == "pickup" and van["stale"] is False
    courier = vehicles["courier-lalaport-1"]
    assert (courier["service"], courier["position"], courier["stops"]) == ("logistics", "next_stop", 2)
    assert courier["next_stop"]["ref"] == "p-1" and courier["lat"] == 35.451
    bus.publish(logistics.ASSIGNMENTS, logistics.ParcelDelivered(
        parcel_id="p-1", sender="shop-1", courier="courier-lalaport-1", operator="ebina-couriers", fee_yen=300,
        payout_yen=250, delivered_at=T0 + timedelta(minutes=21)))
    courier = by(live.snapshot()["vehicles"], "vehicle")["courier-lalaport-1"]
    assert courier["next_stop"]["ref"] == "p-2" and courier["stops"] == 1
    # a shuttle holding a delivery round between its rides: its next stop says so
    round_stop = stop.model_copy(update={"request_id": "delivery:lalaport:shuttle-3:20261202T083000",
                                         "purpose": "delivery", "seats": 8})
    bus.publish(mobility.ASSIGNMENTS, mobility.VehiclePlanned(
        vehicle="shuttle-3", stops=(round_stop,), revision=1, reason="insertion", at_lat=35.45, at_lon=139.39,
        free_at=T0))
    shuttle = by(live.snapshot()["vehicles"], "vehicle")["shuttle-3"]
    assert shuttle["next_stop"]["kind"] == "round_pickup" and shuttle["next_stop"]["ref"].startswith("delivery:")
    clock.now = T0 + timedelta(seconds=Freshness().vehicle_s + 1)
    assert all(v["stale"] for v in live.snapshot()["vehicles"])


def trade(tid: str, tier: str, kwh: str, price: str, renewable: bool = False, slot: datetime = T0) -> TradeMatched:
    return TradeMatched(trade_id=tid, slot=slot, seller="pv-1" if tier != "grid" else "grid", buyer="home-1",
                        kwh=Decimal(kwh), price=Decimal(price), tier=tier, renewable=renewable)


def test_market_slots_carry_kwh_clearing_price_and_renewable_share():
    bus = InProcessBus()
    market = BusMarket(bus)
    for t in (trade("t1", "B", "3", "18.00", True), trade("t2", "B", "1", "18.00"),
              trade("t3", "A", "1", "12.00", True), trade("t4", "grid", "5", "26.20"),
              trade("t1", "B", "3", "18.00", True),  # t1 redelivered
              trade("t5", "B", "2", "20.00", slot=T0 + timedelta(minutes=30))):
        bus.publish(energy.TRADES, t)
    bus.publish(energy.CLEARINGS, energy.SlotCleared(slot=T0, orders=9, trades=4, kwh=Decimal("10"),
                                                     surplus_yen=Decimal("31.5"), pricing="pay-as-clear"))
    newest, first = market.slots(10)
    assert newest["slot"] == "2026-12-02T08:30:00Z" and newest["clearing"] is None
    assert first["slot"] == "2026-12-02T08:00:00Z" and first["trades"] == 4 and Decimal(first["kwh"]) == 10
    assert first["kwh_by_tier"] == {"A": "1", "B": "4", "grid": "5"}
    assert first["price_yen_per_kwh"] == "16.80"  # (3*18 + 1*18 + 1*12) / 5: peer trades only, not the grid's
    assert first["community_price"] == "18.00" and (first["min_price"], first["max_price"]) == ("12.00", "18.00")
    assert first["renewable_share"] == 0.4 and first["clearing"]["pricing"] == "pay-as-clear"
    assert len(market.slots(1)) == 1


def test_dead_letters_are_counted_per_topic_with_the_latest_reasons_first():
    clock = Clock(T0)
    orders_only = Service("toy", {energy.ORDERS: {energy.GateClosed: ignore, energy.EnergyOrderPlaced: ignore,
                                                  energy.EnergyOrderCancelled: ignore}})
    bus = InProcessBus([orders_only], clock=clock)
    letters = BusDeadLetters(bus)
    assert letters.by_topic() == []
    for raw in (b"\xff\xfe", b"{not json", b"[]"):
        bus.publish_raw(energy.ORDERS.name, raw)
    bus.run_until_idle()
    clock.now = T0 + timedelta(minutes=1)
    [orders] = letters.by_topic()
    assert (orders["topic"], orders["dlq"], orders["count"]) == ("energy.orders", "energy.orders.dlq", 3)
    assert all("undecodable" in d["reason"] for d in orders["latest"])
    assert "envelope must be a JSON object" in orders["latest"][0]["reason"]  # the newest first
    assert orders["latest"][0]["at"] == "2026-12-02T08:01:00Z"
    for _ in range(6):
        bus.publish_raw(energy.ORDERS.name, b"x")
    bus.run_until_idle()
    [orders] = letters.by_topic()
    assert orders["count"] == 9 and len(orders["latest"]) == 5


def test_kafka_dead_letters_read_reason_service_and_time_from_the_headers():
    feed = KafkaDeadLetterFeed("unused:9092")  # not started: records are handed to it as the consumer would
    headers = dead_letter_headers("undecodable message on energy.dispatch: not JSON", "decode", "energy.dispatch",
                                  2, 41, "charger-gateway")
    stamp = int(T0.timestamp() * 1000)
    feed.take(SimpleNamespace(value=b"{not json", headers=headers, timestamp=stamp), "energy.dispatch.dlq")
    feed.take(SimpleNamespace(value=b"?", headers=[], timestamp=stamp), "ev.plans.dlq")  # no headers at all
    rows = by(feed.by_topic(), "topic")
    d = rows["energy.dispatch"]["latest"][0]
    assert (d["kind"], d["service"], d["partition"], d["offset"]) == ("decode", "charger-gateway", 2, 41)
    assert d["reason"].startswith("undecodable message") and d["at"] == "2026-12-02T08:00:00Z"
    assert rows["ev.plans"]["latest"][0]["reason"] == "(no reason given)"
