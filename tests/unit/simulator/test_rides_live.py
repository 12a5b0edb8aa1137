"""Live mode's riders: the simulator asks the ride service for the day's ride legs at their minutes, and a rider
the service declines walks after all (in the replayed counts)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from shared.bus.inprocess import InProcessBus
from shared.contracts.crowd import COUNTS
from shared.contracts.mobility import ASSIGNMENTS, REQUESTS, RideAnswered, RideRequested
from simulator.live import build_simulator_service
from simulator.run import run_scenario
from simulator.scenario import load_scenario

JST = timezone(timedelta(hours=9))
DAY = datetime(2026, 11, 27, tzinfo=JST)
AGENTS = 4000


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("ebina_weekday").with_overrides(rides={"live_max_per_minute": 1})


@pytest.fixture(scope="module")
def day_requests(scenario):
    """{minute: [RideRequested]} over a whole replayed day, and the offline run they come from."""
    service = build_simulator_service(scenario, agents=AGENTS, day=DAY)
    by_minute = {}
    for t in range(1440):
        out = list(service.timers[0].tick())
        requests = [o.payload for o in out if o.topic == REQUESTS]
        assert all(isinstance(r, RideRequested) for r in requests)
        if requests:
            by_minute[t] = requests
    return by_minute, run_scenario(scenario, agents=AGENTS)


def test_ride_legs_are_requested_at_their_minutes(day_requests, scenario):
    by_minute, sim = day_requests
    requests = [r for rs in by_minute.values() for r in rs]
    assert len(requests) > 50
    assert len({r.request_id for r in requests}) == len(requests)
    assert max(len(rs) for rs in by_minute.values()) <= scenario.rides.live_max_per_minute
    choice, trips = sim.rides, sim.population.trips
    for t, rs in by_minute.items():
        for r in rs:
            row = int(r.request_id.rsplit("-", 1)[1])
            assert r.request_id == f"sim-20261127-{row}" and choice.ride[row] and choice.depart[row] == t
            assert r.rider == f"sim-{trips.agent[row]}" and r.party == 1
            assert r.earliest_pickup == DAY + timedelta(minutes=t)
            walked = DAY + timedelta(minutes=t + float(choice.walk_min[row]))
            assert r.latest_arrival >= walked - timedelta(minutes=1)
            o = trips.origin[row]
            assert (r.origin_lat, r.origin_lon) == pytest.approx(
                (sim.network.node_lat[o], sim.network.node_lon[o]), abs=1e-6)
    # every minute with ride legs sends min(legs, cap) of them
    per_minute = np.bincount(choice.depart[choice.ride], minlength=1440)[:1440]
    expected = {t: min(int(n), scenario.rides.live_max_per_minute) for t, n in enumerate(per_minute) if n}
    assert {t: len(rs) for t, rs in by_minute.items()} == expected
    assert per_minute.max() > scenario.rides.live_max_per_minute  # the cap was needed


def test_no_ride_requests_when_rides_are_off(scenario):
    service = build_simulator_service(scenario.with_overrides(rides={"enabled": False}), agents=AGENTS, day=DAY)
    assert not any(o.topic == REQUESTS for _ in range(720) for o in service.timers[0].tick())


def test_a_declined_rider_walks_after_all(scenario):
    """A declined ride puts its walker back on the chokepoints of the walk, from the coming minute; an accepted
    one and a redelivered decline change nothing."""
    stats: dict[str, int] = {}
    plain = build_simulator_service(scenario, agents=AGENTS, day=DAY)
    declined = build_simulator_service(scenario, agents=AGENTS, day=DAY, ride_stats=stats)
    pick = None
    for t in range(1440):
        plain.timers[0].tick()
        for o in declined.timers[0].tick():
            if o.topic == REQUESTS and pick is None and t > 360:
                pick = o.payload
        if pick is not None:
            break
    assert pick is not None
    answer = RideAnswered(request_id=pick.request_id, rider=pick.rider, accepted=False, reason="no vehicle")
    assert list(declined.handle(ASSIGNMENTS, None, answer)) == []
    declined.handle(ASSIGNMENTS, None, answer)  # redelivered: counted once
    declined.handle(ASSIGNMENTS, None, RideAnswered(request_id="app-1", rider="u-1", accepted=False))
    assert stats["declined"] == 1 and stats["accepted"] == 0

    def counts(service) -> dict[str, list[int]]:
        got: dict[str, list[int]] = {}
        for _ in range(40):
            for o in service.timers[0].tick():
                if o.topic == COUNTS:
                    got.setdefault(o.payload.zone, []).append(o.payload.persons)
        return got

    a, b = counts(plain), counts(declined)
    extra = {zone: sum(b[zone]) - sum(a[zone]) for zone in a}
    sim = run_scenario(scenario, agents=AGENTS)
    row = int(pick.request_id.rsplit("-", 1)[1])
    path = sim.population.trips.path[row]
    crossed = {zone for zone, link in sim.network.chokepoints.items() if link in sim.population.paths.links[path]}
    assert crossed, "the picked ride's walk crosses no chokepoint"
    assert extra == {zone: int(zone in crossed) for zone in a}


def test_the_ride_service_answers_the_simulated_riders(scenario):
    """On the in-process bus with the real mobility service, the simulated riders' requests are all answered,
    and the simulator counts the answers."""
    from services.mobility.bootstrap import build_mobility
    from shared.roads import load_drive_network

    minute = {"t": 0}
    stats: dict[str, int] = {}
    sim = build_simulator_service(scenario, agents=AGENTS, day=DAY, ride_stats=stats)
    mobility = build_mobility(load_drive_network(), clock=lambda: DAY + timedelta(minutes=minute["t"]))
    bus = InProcessBus([sim, mobility], clock=lambda: DAY + timedelta(minutes=minute["t"]))
    for _ in range(6 * 60):  # to 06:00, when the fleet's shifts begin (what is asked before is not sent)
        sim.timers[0].tick()
    before = stats["requested"]
    for t in range(6 * 60, 9 * 60):
        minute["t"] = t
        for out in sim.timers[0].tick():
            bus.publish(out.topic, out.payload, producer="simulator")
        bus.run_until_idle()
    assert not bus.dead_letters
    answers = [a for a in bus.events(ASSIGNMENTS) if isinstance(a, RideAnswered)]
    requested = len(bus.events(REQUESTS))
    assert requested > 10 and requested == stats["requested"] - before
    assert {a.request_id for a in answers} == {r.request_id for r in bus.events(REQUESTS)}
    assert stats["accepted"] + stats["declined"] == requested
    assert stats["accepted"] > 0, stats


def test_the_replay_can_start_later_in_the_day(scenario):
    """Started at 06:30 (as the stack's test does), the first tick is 06:30's, with the day's forecast."""
    from shared.contracts.crowd import FORECASTS
    from simulator.bootstrap import build_city_sim
    from simulator.config import CitySimConfig

    config = CitySimConfig.from_env({"CITYMATCH_SIM_START": "06:30", "CITYMATCH_SIM_AGENTS": "1000"})
    service = build_city_sim(config, scenario=scenario)
    first = list(service.timers[0].tick())
    counts = [o.payload for o in first if o.topic == COUNTS]
    assert {c.minute_start.astimezone(JST).strftime("%H:%M") for c in counts} == {"06:30"}
    assert any(o.topic == FORECASTS for o in first)
    assert not any(o.topic == FORECASTS for o in service.timers[0].tick())
    env = {"CITYMATCH_SIM_START": "07:30", "CITYMATCH_SIM_AGENTS": "1000"}
    loud = build_city_sim(CitySimConfig.from_env(env), scenario=scenario)
    quiet = build_city_sim(CitySimConfig.from_env({**env, "CITYMATCH_SIM_RIDE_REQUESTS": "false"}), scenario=scenario)
    assert any(o.topic == REQUESTS for _ in range(60) for o in loud.timers[0].tick())
    assert not any(o.topic == REQUESTS for _ in range(60) for o in quiet.timers[0].tick())


def test_the_live_city_reads_offers_and_the_ride_services_answers():
    """The live city's dispatch tables: offers, and the ride service's answers to its riders (the plans and
    completions on the same topic are read past on purpose)."""
    from shared.contracts import incentives, mobility
    from shared.runtime import ignore
    from simulator.bootstrap import build_city_sim
    from simulator.config import CitySimConfig

    service = build_city_sim(CitySimConfig(agents=300))
    assert set(service.handlers) == {incentives.OFFERS, mobility.ASSIGNMENTS}
    table = service.handlers[mobility.ASSIGNMENTS]
    assert table[mobility.VehiclePlanned] is ignore and table[mobility.RideCompleted] is ignore
    assert table[mobility.RideAnswered] is not ignore
