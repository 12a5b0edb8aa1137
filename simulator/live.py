"""Live mode: the simulator as a :class:`shared.runtime.Service`, run on Kafka or on the in-process bus.

``build_simulator_service`` replays a simulated day minute by minute (one timer tick per simulated
minute), publishing counts at the chokepoints (and, at the start of each replayed day, the day without
offers as the forecast per chokepoint on ``crowd.forecasts``), and answers incentive offers with the
calibrated choice model; an accepted time shift for a zone moves one person in the replayed counts. The day's
riders (``simulator.rides``) ask the ride service for their rides at their minutes; a declined one walks.
``build_monitor_service`` consumes counts (from the simulator or from real sensors) and publishes
anomalies against a seasonal baseline learnt from simulated normal days. Everything heavy happens when
the service is built; handlers only index arrays.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from shared.contracts.base import AnyTopic, Envelope, Payload
from shared.contracts.crowd import (
    ANOMALIES,
    COUNTS,
    FORECASTS,
    CrowdAnomalyDetected,
    CrowdCountObserved,
    CrowdForecastPublished,
)
from shared.contracts.incentives import OFFERS, RESPONSES, IncentiveOfferAnswered, IncentiveOfferMade
from shared.contracts.mobility import (
    ASSIGNMENTS,
    REQUESTS,
    FleetJobAnswered,
    RideAnswered,
    RideCompleted,
    RideRequested,
    VehiclePlanned,
    VehicleWindowsOffered,
)
from shared.runtime import DispatchTable, Outgoing, Service, Timer, ignore
from simulator.choice import CALIBRATED, OFFER_OFFSET, PURPOSE_OFFSET
from simulator.demand import DAY_MIN
from simulator.los import los_from_flow
from simulator.monitor import SeasonalBaseline, detect
from simulator.run import SimResult, run_scenario
from simulator.scenario import Scenario, load_scenario

log = logging.getLogger(__name__)
TOKYO = ZoneInfo("Asia/Tokyo")


def _stable_uniform(*parts: str) -> float:
    """A reproducible draw in [0, 1) from text, so a redelivered offer gets the same answer."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def answer_offer(payload: Payload, seed: int = 0) -> IncentiveOfferAnswered | None:
    """A simulated person's answer to any offer payload carrying offer_id, user, offer_type and reward_yen."""
    fields = ("offer_id", "user", "offer_type", "reward_yen")
    if not all(hasattr(payload, f) for f in fields):
        return None
    offer_type = str(payload.offer_type)
    if offer_type not in OFFER_OFFSET:
        return None
    purpose = getattr(payload, "purpose", None) or "commute_out"
    purpose = purpose if purpose in PURPOSE_OFFSET else "commute_out"
    shift = int(getattr(payload, "shift_min", 0) or 0)
    p = float(CALIBRATED.accept_probability(int(payload.reward_yen), shift, offer_type, purpose)[0])
    accepted = _stable_uniform(str(seed), str(payload.offer_id), str(payload.user)) < p
    return IncentiveOfferAnswered(offer_id=str(payload.offer_id), user=str(payload.user), accepted=accepted,
                                  probability=round(p, 4))


class RideLegs:
    """The day's ridden walks as ride requests, by minute of departure, at most ``per_minute`` a minute (the
    first trip rows; the others are not sent, though they still ride in the replayed counts).

    The latest arrival a request asks for is the later of two bounds: when walking would have arrived (a
    rider arriving later than that would have walked) and departure + wait + twice the direct drive + the
    walks to and from the road (room for a shared ride's detour, which a short walk alone would not leave).
    A declined rider walks after all: ``crossings`` holds, per ride, the chokepoints of its walk with the
    minute after departure at which the walker, at free speed, steps onto each.
    """

    def __init__(self, sim: SimResult, per_minute: int) -> None:
        choice, population = sim.rides, sim.population
        self.wait_min = sim.scenario.rides.wait_min
        self.by_minute: dict[int, list[int]] = {}
        self.crossings: dict[int, list[tuple[str, int]]] = {}
        if choice is None or population is None or per_minute <= 0:
            return
        trips, net, paths = population.trips, sim.network, population.paths
        self.trips, self.net, self.choice = trips, net, choice
        rows = choice.rows
        rows = rows[(choice.depart[rows] >= 0) & (choice.depart[rows] < sim.result.flow.shape[0])]
        for row in rows[np.argsort(choice.depart[rows], kind="stable")]:
            minute = self.by_minute.setdefault(int(choice.depart[row]), [])
            if len(minute) < per_minute:
                minute.append(int(row))
        zone_of = {link: zone for zone, link in net.chokepoints.items()}
        for minute_rows in self.by_minute.values():
            for row in minute_rows:
                path = int(trips.path[row])
                links, starts = paths.links[path], paths.start_m[path]
                self.crossings[row] = [(zone_of[int(link)], int(start // trips.speed[row]))
                                       for link, start in zip(links, starts, strict=True) if int(link) in zone_of]

    def requests(self, t: int, when: datetime) -> list[RideRequested]:
        """The ride requests of minute ``t`` of the day, stamped from ``when`` (that minute's time)."""
        out = []
        for row in self.by_minute.get(t, []):
            c, o, d = self.choice, int(self.trips.origin[row]), int(self.trips.dest[row])
            access = max(float(c.ride_min[row]) - self.wait_min - float(c.drive_s[row]) / 60.0, 0.0)
            bound = max(float(c.walk_min[row]), self.wait_min + 2.0 * float(c.drive_s[row]) / 60.0 + access)
            out.append(RideRequested(
                request_id=request_id(when, row), rider=f"sim-{int(self.trips.agent[row])}",
                origin_lat=round(float(self.net.node_lat[o]), 6), origin_lon=round(float(self.net.node_lon[o]), 6),
                destination_lat=round(float(self.net.node_lat[d]), 6),
                destination_lon=round(float(self.net.node_lon[d]), 6),
                earliest_pickup=when, latest_arrival=when + timedelta(minutes=max(int(np.ceil(bound)), 1)), party=1))
        return out


def request_id(when: datetime, row: int) -> str:
    """``sim-<yyyymmdd>-<trip row>``: unique per replayed day, the same on a redelivery."""
    return f"sim-{when:%Y%m%d}-{row}"


def _trip_row(request: str) -> int | None:
    parts = request.split("-")
    return int(parts[2]) if len(parts) == 3 and parts[0] == "sim" and parts[2].isdigit() else None


def build_simulator_service(scenario: Scenario | str = "ebina_weekday", *, agents: int = 20_000,
                            day: datetime | None = None, tick_s: float = 1.0, name: str = "simulator",
                            ride_requests: bool = True, ride_stats: dict[str, int] | None = None,
                            start_minute: int = 0) -> Service:
    """Replay one simulated day: every ``tick_s`` seconds publish the next minute's counts per chokepoint
    and, with ``ride_requests``, a ``RideRequested`` for each ride leg departing that minute (at most the
    scenario's ``rides.live_max_per_minute``; see :class:`RideLegs`).
    After the day's last minute the same day is replayed, stamped with the following day's times.
    ``start_minute`` begins the replay later in the day (e.g. 390 for 06:30, when the ride fleet works);
    the first tick publishes the day's forecast then.

    Answers of the ride service to the simulated riders (``RideAnswered`` on ``mobility.assignments`` for
    riders ``sim-…``) are counted in ``ride_stats`` (requested, accepted, declined); a declined rider walks
    after all, from the coming minute, and is added to the replayed counts at the chokepoints of the walk."""
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    sim = run_scenario(s, agents=agents)
    legs = RideLegs(sim, s.rides.live_max_per_minute if ride_requests else 0)
    stats = ride_stats if ride_stats is not None else {}
    for key in ("requested", "accepted", "declined"):
        stats.setdefault(key, 0)
    answered: dict[str, set[str]] = {}  # request ids answered, per replayed day (the last two days kept)
    # Minute t of the simulated day is minute t of an Ebina day: stamped from midnight in Japan time, whatever
    # the machine's time zone, so counts and forecasts line up with campaigns' days.
    start = day or datetime.now(TOKYO).replace(hour=0, minute=0, second=0, microsecond=0)
    density = sim.result.density(sim.network)
    zones = dict(sim.network.chokepoints)
    widths = {z: float(sim.network.link_width_m[link]) for z, link in zones.items()}
    if not 0 <= start_minute < DAY_MIN:
        raise ValueError(f"start_minute {start_minute} is not a minute of the day")
    state = {"minute": start_minute}
    minutes = sim.result.flow.shape[0]
    moved = {zone: np.zeros(minutes, dtype=np.int64) for zone in zones}  # people moved by accepted offers

    forecast_day = sim.baseline if sim.baseline is not None else sim.result  # the day without offers

    def tick() -> Iterable[Outgoing]:
        elapsed = state["minute"]
        t = elapsed % minutes
        state["minute"] += 1
        when = start + timedelta(minutes=elapsed)  # the replay loops over the day; the clock goes on
        out = []
        if t == 0 or elapsed == start_minute:  # each replayed day starts with the forecast campaigns plan on
            out += [Outgoing(FORECASTS, CrowdForecastPublished(
                zone=zone, day=when.date(), persons=tuple(int(v) for v in forecast_day.flow[:, link])))
                for zone, link in zones.items()]
        for zone, link in zones.items():
            persons = max(int(sim.result.flow[t, link]) + int(moved[zone][t]), 0)
            moved[zone][t] = 0  # the replay loops over the day: an adjustment applies once
            out.append(Outgoing(COUNTS, CrowdCountObserved(
                zone=zone, minute_start=when, persons=persons, density_p_m2=round(float(density[t, link]), 4),
                los=str(los_from_flow(persons / widths[zone])))))
        rides = legs.requests(t, when)
        stats["requested"] += len(rides)
        out += [Outgoing(REQUESTS, r) for r in rides]
        return out

    def on_ride_answer(_envelope: Envelope, payload: RideAnswered) -> Iterable[Outgoing]:
        row = _trip_row(payload.request_id)
        day_key = payload.request_id.split("-")[1] if row is not None else ""
        if not payload.rider.startswith("sim-") or row is None or payload.request_id in answered.get(day_key, ()):
            return []  # another rider's, or a redelivery already counted
        answered.setdefault(day_key, set()).add(payload.request_id)
        for old_day in sorted(answered)[:-2]:
            del answered[old_day]
        stats["accepted" if payload.accepted else "declined"] += 1
        if not payload.accepted:
            now = state["minute"] % minutes  # walks from the coming minute instead
            for zone, offset in legs.crossings.get(row, []):
                moved[zone][(now + offset) % minutes] += 1
        return []

    def on_offer(_envelope: Envelope, payload: Payload) -> Iterable[Outgoing]:
        answer = answer_offer(payload, s.seed)
        if answer is None:
            return []
        zone, shift = getattr(payload, "zone", None), int(getattr(payload, "shift_min", 0) or 0)
        kind = str(payload.offer_type)
        if answer.accepted and zone in moved and shift and kind in ("shift_later", "shift_earlier"):
            now = state["minute"] % minutes  # the person would have crossed in the coming minute
            moved[zone][now] -= 1
            moved[zone][(now + (shift if kind == "shift_later" else -shift)) % minutes] += 1
        return [Outgoing(RESPONSES, answer)]

    handlers: dict[AnyTopic, DispatchTable] = {
        OFFERS: {IncentiveOfferMade: on_offer},
        ASSIGNMENTS: {RideAnswered: on_ride_answer, VehiclePlanned: ignore, RideCompleted: ignore,
                      VehicleWindowsOffered: ignore, FleetJobAnswered: ignore},
    }
    return Service(name=name, handlers=handlers, timers=[Timer(tick_s, tick)])


def normal_days(scenario: Scenario | str = "ebina_weekday", *, agents: int = 20_000,
                seeds: Iterable[int] = (101, 102, 103)) -> dict[str, np.ndarray]:
    """Counts per zone and minute for several simulated normal days (no offers): ``{zone: [day, minute]}``."""
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    s = s.with_overrides(offers=[], event=None)
    days: dict[str, list[np.ndarray]] = {}
    for seed in seeds:
        sim = run_scenario(s.with_overrides(seed=seed), agents=agents)
        for zone, link in sim.network.chokepoints.items():
            days.setdefault(zone, []).append(sim.result.flow[:, link].copy())
    return {zone: np.stack(v) for zone, v in days.items()}


def build_monitor_service(baselines: dict[str, SeasonalBaseline], *, threshold: float = 5.0,
                          name: str = "city-monitor") -> Service:
    """Consume crowd counts and publish an anomaly when one is far from its seasonal baseline.

    The last few minutes per zone are kept in memory to form the windowed sum (lost on restart, which
    only delays detection by one window).
    """
    recent: dict[str, deque[tuple[datetime, int]]] = {}

    def on_count(_envelope: Envelope, payload: CrowdCountObserved) -> Iterable[Outgoing]:
        if payload.zone not in baselines:
            return []
        base = baselines[payload.zone]
        window = recent.setdefault(payload.zone, deque(maxlen=base.window))
        window.append((payload.minute_start, payload.persons))
        if len(window) < base.window or window[0][0] != payload.minute_start - timedelta(minutes=base.window - 1):
            return []  # not yet a full, contiguous window
        minute = payload.minute_start.hour * 60 + payload.minute_start.minute
        total = sum(n for _, n in window)
        hits = detect(base, np.array([minute]), np.array([total]), threshold)
        return [Outgoing(ANOMALIES, CrowdAnomalyDetected(
            zone=payload.zone, minute_start=payload.minute_start, kind=h.kind, observed=h.observed,
            expected=round(h.expected, 2), robust_z=round(h.robust_z, 2))) for h in hits]

    return Service(name=name, handlers={COUNTS: {CrowdCountObserved: on_count}})


def baselines_from_simulation(scenario: Scenario | str = "ebina_weekday", *, agents: int = 20_000,
                              seeds: Iterable[int] = (101, 102, 103)) -> dict[str, SeasonalBaseline]:
    return {zone: SeasonalBaseline.fit(days) for zone, days in normal_days(scenario, agents=agents,
                                                                           seeds=seeds).items()}
