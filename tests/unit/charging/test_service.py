"""The charging service's handlers: plans in; bookings, market orders and set-points out; changes re-plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from services.charging.service import build_service
from services.charging.settings import ChargerSite, ChargingSettings
from shared.contracts import charging as ev
from shared.contracts import energy
from shared.contracts.base import Envelope, Topic
from shared.contracts.charging import (
    ChargerAvailability,
    ChargingBilled,
    ChargingSessionMetered,
    EvBooked,
    EvPlanSubmitted,
    PlannedStay,
)
from shared.contracts.energy import DispatchSetpoint, EnergyOrderCancelled, EnergyOrderPlaced, SiteForecast

NOW = datetime(2026, 12, 2, 0, 10, tzinfo=UTC)          # 09:10 in Ebina
FIRST = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)        # first slot still open for orders
SITE = ChargerSite("office", ("office/cp-1", "office/cp-2"), D("7"), D("14"))


class Clock:
    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def service(clock: Clock | None = None):
    return build_service(ChargingSettings(sites=(SITE,)), clock=clock or Clock())


def send(svc, topic: Topic, payload):
    envelope = Envelope.wrap(payload, "test", occurred_at=svc.charging.clock())
    return svc.handle(topic, envelope, payload)


def of(out, cls, topic=None):
    return [o.payload for o in out if isinstance(o.payload, cls) and (topic is None or o.topic == topic)]


def ev_plan(vehicle: str, need: str, depart_h: float, soc: str = "10", mode: str = "departure", **kw):
    return EvPlanSubmitted(vehicle=vehicle, participant=f"owner-{vehicle}", battery_kwh=D("40"), soc_kwh=D(soc),
                           max_charge_kw=D("7"), mode=mode, stays=(PlannedStay(
                               site="office", arrive=NOW, depart=FIRST + timedelta(hours=depart_h),
                               need_kwh=D(need), trip_kwh=D("5")),), **kw)


def test_a_plan_gives_bookings_orders_and_setpoints_that_agree():
    """A car needing 20 kWh by 4 h later: bookings, market buy orders at the office site and charger
    set-points cover the same kWh in the same slots, and the departure is met."""
    svc = service()
    out = send(svc, ev.PLANS, ev_plan("ev-1", "20", 4))
    [booked] = of(out, EvBooked)
    assert booked.status == "planned" and booked.shortfalls == ()
    booked_kwh = sum(b.kwh for b in booked.bookings)
    assert booked_kwh >= D("10")
    orders = of(out, EnergyOrderPlaced, energy.ORDERS)
    assert sum(o.kwh for o in orders) == booked_kwh
    assert all(o.side == "buy" and o.site == "office" and o.participant == "owner-ev-1" for o in orders)
    assert min(o.slot for o in orders) >= FIRST
    points = of(out, DispatchSetpoint, energy.DISPATCH)
    assert sum(p.kwh for p in points) == booked_kwh
    assert {p.device for p in points} <= {"office/cp-1", "office/cp-2"}


def test_replanning_unchanged_sends_nothing_and_a_trip_change_replaces_orders():
    """The same plan again changes nothing; an earlier departure cancels orders that moved and places new ones."""
    svc = service()
    send(svc, energy.FORECASTS, SiteForecast(site="office", start=FIRST, pv_kwh=tuple([D("0")] * 4 + [D("3")] * 8)))
    first = send(svc, ev.PLANS, ev_plan("ev-1", "20", 8))
    assert first and send(svc, ev.PLANS, ev_plan("ev-1", "20", 8)) == []
    changed = send(svc, ev.PLANS, ev_plan("ev-1", "20", 2))
    cancelled = of(changed, EnergyOrderCancelled)
    placed = of(changed, EnergyOrderPlaced)
    assert cancelled and placed
    assert max(o.slot for o in placed) < FIRST + timedelta(hours=2)
    live = svc.charging.orders
    assert sum(wh for _, wh, _ in live.values()) >= 10_000


def test_infeasible_request_is_answered_with_the_shortfall():
    """30 kWh more in one hour at 7 kW cannot be had: infeasible, 23 kWh missing, and when it could leave."""
    svc = service()
    [booked] = of(send(svc, ev.PLANS, ev_plan("ev-1", "40", 1)), EvBooked)
    assert booked.status == "infeasible"
    [lack] = booked.shortfalls
    assert lack.missing_kwh == D("23.000")
    assert lack.feasible_depart == FIRST + timedelta(hours=4, minutes=30)


def test_charger_out_replans_on_the_remaining_one_and_override_shows_its_cost():
    """With one of two chargers gone no booking names it; a Now override is planned and priced."""
    svc = service()
    send(svc, ev.PLANS, ev_plan("ev-1", "15", 6))
    send(svc, ev.PLANS, ev_plan("ev-2", "15", 6, mode="now"))
    out = send(svc, ev.CHARGERS, ChargerAvailability(charger="office/cp-2", available=False, reason="refused"))
    booked = {b.vehicle: b for b in of(out, EvBooked)}
    everything = [b for v in svc.charging.booked.values() for b in v.bookings]
    assert everything and all(b.charger == "office/cp-1" for b in everything)
    assert svc.charging.booked["ev-2"].override_cost_yen is not None
    assert booked or everything


def test_metered_energy_moves_the_battery_for_the_next_plan():
    """6 kWh metered since the plan: the next re-plan starts 6 kWh fuller and books 6 kWh less."""
    clock = Clock()
    svc = service(clock)
    [first] = of(send(svc, ev.PLANS, ev_plan("ev-1", "20", 6, preference="cheap")), EvBooked)
    send(svc, ev.SESSIONS, ChargingSessionMetered(charger="office/cp-1", vehicle="ev-1", transaction_id=1,
                                                    kwh=D("6"), started_at=NOW, read_at=NOW))
    clock.now = NOW + timedelta(minutes=30)
    out = list(svc.timers[0].tick())
    [second] = of(out, EvBooked)
    assert sum(b.kwh for b in second.bookings) == sum(b.kwh for b in first.bookings) - D("6")


def test_an_order_placed_again_after_a_cancel_gets_a_new_id():
    """Plan A, plan B, plan A again: the market never takes a cancelled order id twice, so A's orders come
    back under new ids (and the same input replayed gives the same ids)."""
    svc = service()
    first = {o.order_id for o in of(send(svc, ev.PLANS, ev_plan("ev-1", "20", 8)), EnergyOrderPlaced)}
    send(svc, ev.PLANS, ev_plan("ev-1", "20", 2))
    again = {o.order_id for o in of(send(svc, ev.PLANS, ev_plan("ev-1", "20", 8)), EnergyOrderPlaced)}
    assert first and again and not first & again
    envelope = Envelope.wrap(ev_plan("ev-1", "20", 8), "test", occurred_at=NOW)
    ids = [{o.payload.order_id for o in fresh.handle(ev.PLANS, envelope, envelope.body())
            if isinstance(o.payload, EnergyOrderPlaced)} for fresh in (service(), service())]
    assert ids[0] == ids[1]


def test_a_finished_transaction_is_billed_on_what_the_meter_delivered():
    """Only the final reading bills: the owner, the site and its fee, the metered kWh (not the planned)."""
    paid = ChargerSite("office", ("office/cp-1", "office/cp-2"), D("7"), D("14"), fee_yen_per_kwh=D("5"))
    svc = build_service(ChargingSettings(sites=(paid,)), clock=Clock())
    send(svc, ev.PLANS, ev_plan("ev-1", "20", 6))
    running = ChargingSessionMetered(charger="office/cp-1", vehicle="ev-1", transaction_id=4, kwh=D("3.2"),
                                     started_at=NOW, read_at=NOW + timedelta(minutes=30))
    assert of(send(svc, ev.SESSIONS, running), ChargingBilled) == []
    final = running.model_copy(update={"kwh": D("7.345"), "final": True, "read_at": NOW + timedelta(hours=1)})
    [bill] = of(send(svc, ev.SESSIONS, final), ChargingBilled, ev.BILLS)
    assert (bill.participant, bill.site, bill.kwh, bill.fee_yen_per_kwh, bill.transaction_id) == (
        "owner-ev-1", "office", D("7.345"), D("5"), 4)
    stranger = final.model_copy(update={"vehicle": "ev-unknown", "transaction_id": 5})
    assert of(send(svc, ev.SESSIONS, stranger), ChargingBilled) == []


def test_a_bill_carries_the_pv_its_plan_booked_for_the_transaction_also_after_a_restart():
    """PV forecast for the first two hours: the plan books PV on one charger; two hours on (the plan has moved
    on past those slots) the transaction ends and its bill says how many of its kWh were PV. A service restarted
    then knows it only from its own ``ev.bookings`` read back: without them the same bill would say 0."""
    clock = Clock()
    svc = service(clock)
    forecast = SiteForecast(site="office", start=FIRST, pv_kwh=tuple([D("2")] * 4))
    plan = ev_plan("ev-1", "20", 6)
    send(svc, energy.FORECASTS, forecast)
    published = of(send(svc, ev.PLANS, plan), EvBooked, ev.BOOKINGS)
    first = published[0].bookings[0]
    end = FIRST + timedelta(hours=2)
    mine = [b for b in published[0].bookings if b.charger == first.charger and b.slot < end]
    booked, pv = sum(b.kwh for b in mine), sum(b.renewable_kwh for b in mine)
    assert D("0") < pv <= booked
    clock.now = NOW + timedelta(hours=2)
    published += of(list(svc.timers[0].tick()), EvBooked, ev.BOOKINGS)
    assert all(b.slot >= end for b in published[-1].bookings)
    final = ChargingSessionMetered(charger=first.charger, vehicle="ev-1", transaction_id=9, kwh=booked,
                                   started_at=FIRST, read_at=end, final=True)
    [bill] = of(send(svc, ev.SESSIONS, final), ChargingBilled)
    assert bill.kwh == booked and bill.renewable_kwh == pv

    def restarted(read_back: bool) -> ChargingBilled:
        fresh = service(clock)
        send(fresh, energy.FORECASTS, forecast)
        send(fresh, ev.PLANS, plan)
        for b in published if read_back else []:
            assert send(fresh, ev.BOOKINGS, b) == []
        [again] = of(send(fresh, ev.SESSIONS, final), ChargingBilled)
        return again

    assert restarted(read_back=True) == bill
    assert restarted(read_back=False).renewable_kwh == 0
