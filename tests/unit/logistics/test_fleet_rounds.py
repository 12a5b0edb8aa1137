"""Delivery rounds on the ride fleet's vehicles between their rides, over the in-process bus with the real
mobility and logistics services: the idle stretches offered, a round asked for and held in the vehicle's plan,
the parcel delivered and paid to the vehicle's operator, no fare for the round, and a round refused because a
rider took the stretch first, planned again after the ride."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.logistics.service import LogisticsSettings
from services.logistics.service import build_service as logistics_service
from services.mobility.bootstrap import build_mobility
from services.mobility.service import build_service as mobility_service
from services.mobility.settings import MobilitySettings, default_fleet
from shared.bus.inprocess import InProcessBus
from shared.contracts import logistics, mobility
from shared.contracts.logistics import (
    DeliveryFailed,
    ParcelAssigned,
    ParcelDelivered,
    ParcelRequested,
    ParcelUndeliverable,
)
from shared.contracts.mobility import (
    FleetJobAnswered,
    FleetJobCancelled,
    FleetJobRequested,
    RideAnswered,
    RideCompleted,
    RideRequested,
    VehiclePlanned,
    VehicleWindowsOffered,
)

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 12, 1, 11, 0, tzinfo=TOKYO)
HOME = (35.4580, 139.3967)
STATION = (35.4530, 139.3910)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def parcel(pid: str, kg: float, until: timedelta) -> ParcelRequested:
    return ParcelRequested(parcel_id=pid, sender="shop-1", depot="lalaport", lat=HOME[0], lon=HOME[1],
                           deliver_from=START, deliver_until=START + until, weight_kg=kg, size_l=80)


def of(bus: InProcessBus, topic, kind) -> list:
    return [e for e in bus.events(topic) if isinstance(e, kind)]


def latest_parcel(bus: InProcessBus, pid: str):
    return [e for e in bus.events(logistics.ASSIGNMENTS)
            if isinstance(e, (ParcelAssigned, ParcelUndeliverable)) and e.parcel_id == pid][-1]


def test_a_parcel_too_heavy_for_the_couriers_rides_a_shuttle_between_its_rides(network):
    """90 kg: more than any courier (60, 80 kg) or car-share EV (80 kg) carries (the co-owned cars are not
    lent here); a shuttle with its bench folded (150 kg) takes it in its idle midday stretch, and the
    dispatcher holds the round in its plan."""
    clock = Clock(START)
    bus = InProcessBus([build_mobility(network, clock=clock),
                        logistics_service(network, replace(LogisticsSettings(), coowned=()), clock=clock)])
    bus.tick()                                   # mobility offers its idle stretches
    offers = {o.vehicle: o for o in of(bus, mobility.ASSIGNMENTS, VehicleWindowsOffered)}
    assert set(offers) == {"shuttle-3", "shuttle-4", "carshare-LL76"}
    assert offers["shuttle-3"].operator == "ebina-shuttle" and offers["shuttle-3"].capacity_kg == 150
    [w] = offers["shuttle-3"].windows
    assert w.end == START.replace(hour=16)

    bus.publish(logistics.REQUESTS, parcel("p-90", 90, timedelta(hours=4)))
    bus.run_until_idle()
    [job] = of(bus, mobility.REQUESTS, FleetJobRequested)
    assert job.vehicle in {"shuttle-3", "shuttle-4"} and job.job_id.startswith(f"delivery:lalaport:{job.vehicle}:")
    assert job.parcels == 1 and job.weight_kg == 90 and job.distance_m > 0
    [answer] = of(bus, mobility.ASSIGNMENTS, FleetJobAnswered)
    assert answer.accepted and answer.job_id == job.job_id
    plan = latest_parcel(bus, "p-90")
    assert isinstance(plan, ParcelAssigned) and plan.courier == job.vehicle and job.start < plan.planned_at < job.end
    shuttle = [p for p in of(bus, mobility.ASSIGNMENTS, VehiclePlanned) if p.vehicle == job.vehicle][-1]
    assert [(s.kind, s.purpose) for s in shuttle.stops] == [("pickup", "delivery"), ("dropoff", "delivery")]
    assert shuttle.stops[0].planned_at == job.start and shuttle.stops[1].planned_at == job.end
    # the shuttle's next offer leaves the round out
    newest = [o for o in of(bus, mobility.ASSIGNMENTS, VehicleWindowsOffered) if o.vehicle == job.vehicle][-1]
    assert all(x.end <= job.start or x.start >= job.end for x in newest.windows)
    # redelivered: the same answer, no second round
    bus.publish(mobility.REQUESTS, job)
    bus.run_until_idle()
    assert [a.job_id for a in of(bus, mobility.ASSIGNMENTS, FleetJobAnswered)] == [job.job_id] * 2
    again = [p for p in of(bus, mobility.ASSIGNMENTS, VehiclePlanned) if p.vehicle == job.vehicle][-1]
    assert again == shuttle

    clock.at = job.end + timedelta(minutes=5)
    bus.tick()
    bus.run_until_idle()
    [done] = of(bus, logistics.ASSIGNMENTS, ParcelDelivered)
    assert done.courier == job.vehicle and done.operator == "ebina-shuttle" and done.payout_yen > 0
    assert of(bus, mobility.ASSIGNMENTS, RideCompleted) == []        # a round is no ride: no fare


def test_a_round_refused_because_a_rider_came_first_is_planned_again_after_the_ride(network):
    """One shuttle with cargo room, no courier: the rider's request reaches the dispatcher before the round's,
    so the round (planned on the offer from before the ride) is refused; logistics takes those hours out,
    plans again on the new offer, and the second round, after the ride, is held."""
    clock = Clock(START)
    [spec] = [v for v in default_fleet() if v.id == "shuttle-3"]
    bus = InProcessBus([
        mobility_service(network, MobilitySettings(fleet=(spec,)), clock=clock),
        logistics_service(network, replace(LogisticsSettings(), couriers={}, coowned=()), clock=clock)])
    bus.tick()
    [offer] = of(bus, mobility.ASSIGNMENTS, VehicleWindowsOffered)
    assert offer.windows[0].start <= START + timedelta(minutes=1)
    ride = RideRequested(request_id="r1", rider="rider-1", origin_lat=STATION[0], origin_lon=STATION[1],
                         destination_lat=HOME[0], destination_lon=HOME[1],
                         earliest_pickup=START + timedelta(minutes=10), latest_arrival=START + timedelta(minutes=40))
    bus.publish(mobility.REQUESTS, ride)
    bus.publish(logistics.REQUESTS, parcel("p-1", 10, timedelta(hours=3)))
    bus.run_until_idle()
    [ridden] = of(bus, mobility.ASSIGNMENTS, RideAnswered)
    assert ridden.accepted and ridden.vehicle == "shuttle-3"
    first, second = of(bus, mobility.REQUESTS, FleetJobRequested)
    answers = {a.job_id: a for a in of(bus, mobility.ASSIGNMENTS, FleetJobAnswered)}
    assert not answers[first.job_id].accepted and "riders then" in answers[first.job_id].reason
    assert answers[second.job_id].accepted
    assert second.start >= ridden.planned_dropoff
    plan = latest_parcel(bus, "p-1")
    assert isinstance(plan, ParcelAssigned) and plan.courier == "shuttle-3" and plan.planned_at > second.start
    assert len(of(bus, logistics.ASSIGNMENTS, ParcelAssigned)) == 2


def test_a_vehicle_that_carries_no_parcels_or_too_much_is_refused_with_the_rule(network):
    clock = Clock(START)
    bus = InProcessBus([build_mobility(network, clock=clock)])
    base = dict(depot_lat=HOME[0], depot_lon=HOME[1], start=START + timedelta(hours=1),
                end=START + timedelta(hours=2))
    bus.publish(mobility.REQUESTS, FleetJobRequested(job_id="j-taxi", vehicle="taxi-1", **base))
    bus.publish(mobility.REQUESTS, FleetJobRequested(job_id="j-heavy", vehicle="carshare-LL76", weight_kg=90,
                                                     parcels=3, **base))
    bus.run_until_idle()
    got = {a.job_id: a for a in of(bus, mobility.ASSIGNMENTS, FleetJobAnswered)}
    assert not got["j-taxi"].accepted and "taxi-1 carries no parcels" in got["j-taxi"].reason
    assert not got["j-heavy"].accepted and "at most 80 kg and 12 parcels" in got["j-heavy"].reason


def test_a_restarted_dispatcher_keeps_the_held_round_from_the_published_plans(network):
    """Mobility rebuilt from ``mobility.assignments`` (as its replay does after a crash) still holds the round:
    the same answer to a redelivered request, an offer that leaves the round out, and no fare for it."""
    clock = Clock(START)
    bus = InProcessBus([build_mobility(network, clock=clock),
                        logistics_service(network, replace(LogisticsSettings(), coowned=()), clock=clock)])
    bus.tick()
    bus.publish(logistics.REQUESTS, parcel("p-90", 90, timedelta(hours=4)))
    bus.run_until_idle()
    [job] = of(bus, mobility.REQUESTS, FleetJobRequested)
    [answer] = of(bus, mobility.ASSIGNMENTS, FleetJobAnswered)
    published = bus.events(mobility.ASSIGNMENTS)

    again = InProcessBus([build_mobility(network, clock=clock)])
    for event in published:
        again.publish(mobility.ASSIGNMENTS, event)
    again.run_until_idle()
    again.publish(mobility.REQUESTS, job)
    again.run_until_idle()
    assert of(again, mobility.ASSIGNMENTS, FleetJobAnswered)[-1] == answer
    again.tick()
    offer = [o for o in of(again, mobility.ASSIGNMENTS, VehicleWindowsOffered) if o.vehicle == job.vehicle][-1]
    assert offer.windows and all(w.end <= job.start or w.start >= job.end for w in offer.windows)
    clock.at = job.end + timedelta(minutes=5)
    again.tick()
    again.run_until_idle()
    assert of(again, mobility.ASSIGNMENTS, RideCompleted) == []


def test_a_round_whose_parcels_all_failed_before_it_left_is_taken_out_of_the_shuttles_plan(network):
    """The round's only parcel fails before the shuttle leaves for the depot: logistics gives the round back, the
    dispatcher takes it out of the plan and offers the hours again; a round under way is not given back."""
    clock = Clock(START)
    bus = InProcessBus([build_mobility(network, clock=clock),
                        logistics_service(network, replace(LogisticsSettings(), coowned=()), clock=clock)])
    bus.tick()
    later = parcel("p-90", 90, timedelta(hours=4)).model_copy(update={"deliver_from": START + timedelta(hours=2)})
    bus.publish(logistics.REQUESTS, later)
    bus.run_until_idle()
    [job] = of(bus, mobility.REQUESTS, FleetJobRequested)
    assert of(bus, mobility.ASSIGNMENTS, FleetJobAnswered)[0].accepted and job.start > START + timedelta(hours=1)
    bus.publish(logistics.REQUESTS, DeliveryFailed(parcel_id="p-90", courier=job.vehicle, reason="shop recalled it"))
    bus.run_until_idle()
    [cancel] = of(bus, mobility.REQUESTS, FleetJobCancelled)
    assert cancel.job_id == job.job_id and cancel.vehicle == job.vehicle
    plan = [p for p in of(bus, mobility.ASSIGNMENTS, VehiclePlanned) if p.vehicle == job.vehicle][-1]
    assert all(s.request_id != job.job_id for s in plan.stops)
    offer = [o for o in of(bus, mobility.ASSIGNMENTS, VehicleWindowsOffered) if o.vehicle == job.vehicle][-1]
    assert any(w.start <= job.start and job.end <= w.end for w in offer.windows)

    # a second round, failed once it is under way, stays in the plan (the shuttle is out driving it)
    bus.publish(logistics.REQUESTS, parcel("p-91", 90, timedelta(hours=4)))
    bus.run_until_idle()
    second = of(bus, mobility.REQUESTS, FleetJobRequested)[-1]
    clock.at = second.start + timedelta(minutes=1)
    bus.publish(logistics.REQUESTS, DeliveryFailed(parcel_id="p-91", courier=second.vehicle, reason="nobody home"))
    bus.publish(mobility.REQUESTS, FleetJobCancelled(job_id=second.job_id, vehicle=second.vehicle))
    bus.run_until_idle()
    assert len(of(bus, mobility.REQUESTS, FleetJobCancelled)) == 2   # only the one sent by hand
    plan = [p for p in of(bus, mobility.ASSIGNMENTS, VehiclePlanned) if p.vehicle == second.vehicle][-1]
    assert any(s.request_id == second.job_id for s in plan.stops)


def test_an_operator_can_keep_the_ride_fleet_out_of_the_depots_rounds(network):
    """``CITYMATCH_LOGISTICS_FLEET_DEPOTS=none``: the 90 kg parcel goes on the co-owned Leaf, not a shuttle; a
    malformed list is refused naming the variable."""
    from services.logistics.bootstrap import build_logistics
    from services.logistics.config import LogisticsConfig
    from shared.errors import ConfigError

    clock = Clock(START)
    config = LogisticsConfig.from_env({"CITYMATCH_LOGISTICS_FLEET_DEPOTS": "none"})
    bus = InProcessBus([build_mobility(network, clock=clock), build_logistics(network, config, clock=clock)])
    bus.tick()
    bus.publish(logistics.REQUESTS, parcel("p-90", 90, timedelta(hours=4)))
    bus.run_until_idle()
    assert of(bus, mobility.REQUESTS, FleetJobRequested) == []
    assert latest_parcel(bus, "p-90").courier == "ev-leaf"
    assert LogisticsConfig.from_env({}).depots_for_fleet() == ("lalaport", "vinawalk")
    with pytest.raises(ConfigError, match="CITYMATCH_LOGISTICS_FLEET_DEPOTS"):
        LogisticsConfig.from_env({"CITYMATCH_LOGISTICS_FLEET_DEPOTS": "lalaport;vinawalk"})
