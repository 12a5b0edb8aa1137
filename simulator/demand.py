"""Synthetic people and their walking trips for one day, from ridership, timetable and purpose mix.

Every person who uses a station makes a round trip (two walks, two station events on a line), except
line-changers, who walk gate to gate twice. Counts per line and purpose are fixed by the ridership
inputs, times come from purpose profiles snapped to the timetable (alighters leave the gates in waves
after each train; boarders aim at a train and leave home early enough), and destinations are drawn by
kind: offices, homes, the two shopping centres, points of interest. Everything draws from one seeded
generator, so one scenario gives one population.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.geo import to_xy
from simulator.layers import carshare_stations, points_of_interest
from simulator.network import PathTable, WalkNetwork
from simulator.places import GATES, LINES, MALLS, OFFICES
from simulator.ridership_sales import shopping_share
from simulator.scenario import Scenario, clock_to_minute

PURPOSES = ("commute_in", "commute_out", "shopping", "leisure", "home", "transfer", "local_shopping")
P = {name: i for i, name in enumerate(PURPOSES)}
MALL_KEYS = ("lalaport", "vinawalk")
DAY_MIN = 1440
LEISURE_CATEGORIES = {"restaurant", "cafe", "cinema"}
HOME_MIN_DIST_M = 250.0
HOME_MAX_DIST_M = 1500.0

# Time-of-day profiles: (weight, mean hour, sd hours). Assumptions in the shape of typical Japanese
# suburban station counts (sharp morning peak, broader evening peak).
PROFILES: dict[str, list[tuple[float, float, float]]] = {
    "commute_in_am": [(1.0, 8.4, 0.55)],
    "commute_in_pm": [(0.7, 18.2, 0.9), (0.3, 20.0, 1.3)],
    "commute_out_am": [(1.0, 7.5, 0.65)],
    "commute_out_pm": [(0.6, 18.8, 1.0), (0.4, 20.8, 1.4)],
    "shopping": [(0.55, 11.8, 1.6), (0.45, 15.5, 1.8)],
    "leisure": [(0.4, 12.0, 1.5), (0.6, 18.3, 1.2)],
    "home_out": [(1.0, 10.5, 2.2)],
    "home_back": [(1.0, 16.5, 2.5)],
    "transfer_am": [(0.75, 7.9, 0.8), (0.25, 12.0, 2.5)],
    "transfer_pm": [(0.7, 18.6, 1.2), (0.3, 15.0, 2.5)],
    "local": [(0.5, 11.5, 1.5), (0.5, 15.5, 2.0)],
}
WEEKEND_PROFILE = {"commute_in_am": [(1.0, 9.3, 1.0)], "commute_out_am": [(1.0, 9.0, 1.2)],
                   "shopping": [(0.6, 13.0, 2.0), (0.4, 16.0, 2.0)]}


@dataclass
class Trips:
    """One row per walk. ``depart`` is -1 for a second leg that starts ``dwell`` minutes after the first ends."""

    agent: np.ndarray
    purpose: np.ndarray
    origin: np.ndarray
    dest: np.ndarray
    alight_line: np.ndarray  # line index whose gates the walk starts at, else -1
    board_line: np.ndarray  # line index whose gates the walk ends at, else -1
    depart: np.ndarray
    dwell: np.ndarray
    prev: np.ndarray
    next: np.ndarray
    speed: np.ndarray
    dest_mall: np.ndarray  # index in MALL_KEYS, else -1
    path: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def __len__(self) -> int:
        return len(self.agent)

    @property
    def n_agents(self) -> int:
        return int(self.agent.max()) + 1 if len(self.agent) else 0

    def copy(self) -> Trips:
        return Trips(**{k: v.copy() for k, v in self.__dict__.items()})

    def station_events(self) -> dict[str, int]:
        """Boardings plus alightings per line that this population produces."""
        counts = np.bincount(self.alight_line[self.alight_line >= 0], minlength=len(LINES))
        counts += np.bincount(self.board_line[self.board_line >= 0], minlength=len(LINES))
        return {line: int(counts[i]) for i, line in enumerate(LINES)}


@dataclass
class Demand:
    trips: Trips
    paths: PathTable
    path_keys: list[tuple[int, int, tuple[int, ...]]]
    scale: float
    places: Places
    rides: Trips | None = None  # walks taken as rides instead (simulator.rides), not moved by the engine


@dataclass
class Places:
    """Where people go, as node indices of the loaded network."""

    gates: np.ndarray  # per line
    malls: np.ndarray  # per MALL_KEYS
    offices: np.ndarray
    homes: np.ndarray
    leisure: np.ndarray
    carshare: np.ndarray
    hub: int

    @classmethod
    def locate(cls, net: WalkNetwork) -> Places:
        gates = np.array([net.nearest_node(GATES[k].lat, GATES[k].lon) for k in LINES])
        malls = np.array([net.nearest_node(MALLS[k].lat, MALLS[k].lon) for k in MALL_KEYS])
        offices = np.array([net.nearest_node(o.lat, o.lon) for o in OFFICES])
        dist = net.router.distances_from(int(gates[0]))
        special = set(gates.tolist()) | set(malls.tolist()) | set(offices.tolist())
        untagged = np.array([not tags for tags in net.node_tags])
        ok = untagged & (dist >= HOME_MIN_DIST_M) & (dist <= HOME_MAX_DIST_M) & np.isfinite(dist)
        homes = np.array([i for i in np.flatnonzero(ok) if i not in special])
        if len(homes) == 0:
            raise ValueError("the network has no residential nodes 250-1500 m from the station")
        pois = points_of_interest()
        pois = pois[pois.geometry.geom_type == "Point"]
        leisure = sorted({net.nearest_node(p.y, p.x) for p, cat in zip(pois.geometry, pois["category"], strict=True)
                          if cat in LEISURE_CATEGORIES and np.hypot(*to_xy(p.y, p.x)) < HOME_MAX_DIST_M})
        carshare = sorted({net.nearest_node(r.lat, r.lon) for r in carshare_stations().itertuples()})
        leisure = [n for n in leisure if np.isfinite(dist[n])] or list(malls)
        return cls(gates=gates, malls=malls, offices=offices, homes=homes, leisure=np.array(leisure),
                   carshare=np.array(carshare), hub=int(gates[0]))


def sample_profile(rng: np.random.Generator, n: int, components: list[tuple[float, float, float]]) -> np.ndarray:
    """Minutes of the day drawn from a mixture of normals (hours), clipped to service hours."""
    weights = np.array([c[0] for c in components])
    which = rng.choice(len(components), size=n, p=weights / weights.sum())
    means = np.array([c[1] for c in components])[which]
    sds = np.array([c[2] for c in components])[which]
    return np.clip(np.rint((means + sds * rng.standard_normal(n)) * 60.0), 300, DAY_MIN - 15).astype(np.int32)


def train_times(s: Scenario, line: str) -> np.ndarray:
    """Minutes at which trains of ``line`` stop at Ebina (both directions), peak headways in the peaks."""
    tt = s.timetable
    times, t = [], tt.first_train_h * 60.0
    while t < min(tt.last_train_h * 60.0, DAY_MIN - 1):
        times.append(t)
        hour = t / 60.0
        peak = any(a <= hour < b for a, b in tt.peak_hours)
        t += (tt.peak_headway_min if peak else tt.offpeak_headway_min)[line]
    return np.floor(np.array(times)).astype(np.int32)


def _snap_to_train(trains: np.ndarray, desired: np.ndarray) -> np.ndarray:
    idx = np.minimum(np.searchsorted(trains, desired), len(trains) - 1)
    return trains[idx]


def _group_counts(s: Scenario) -> tuple[dict[tuple[str, str], int], float]:
    """People per (purpose, line) and the scale that reaches the requested number of agents."""
    def at_scale(scale: float) -> dict[tuple[str, str], int]:
        ridership = {k: getattr(s.ridership, k) * s.ridership_factor * scale for k in LINES}
        transfer_people = {("odakyu", "sotetsu"): s.transfers.odakyu_sotetsu, ("odakyu", "jr"): s.transfers.odakyu_jr,
                           ("sotetsu", "jr"): s.transfers.sotetsu_jr}
        counts: dict[tuple[str, str], int] = {}
        transfer_events = dict.fromkeys(LINES, 0.0)
        for (a, b), people in transfer_people.items():
            n = round(people * s.ridership_factor * scale)
            counts[("transfer", f"{a}>{b}")] = n
            transfer_events[a] += 2 * n
            transfer_events[b] += 2 * n
        shares = s.purposes
        for line in LINES:
            rest = max(0.0, ridership[line] - transfer_events[line])
            shop = shares.shopping if shares.shopping is not None else shopping_share(line)
            others = {"commute_in": shares.commute_in, "commute_out": shares.commute_out,
                      "leisure": shares.leisure, "home": shares.home}
            norm = sum(others.values()) or 1.0
            split = {"shopping": shop, **{k: v * (1.0 - shop) / norm for k, v in others.items()}}
            for purpose, share in split.items():
                counts[(purpose, line)] = round(rest * share / 2.0)  # two station events per person
        counts[("local_shopping", "")] = round(s.local_shoppers * scale)
        if s.event is not None:
            counts[("event", "")] = round(s.event.attendees * scale)
        return counts

    if s.population.agents is None:
        return at_scale(s.population.scale), s.population.scale
    base = sum(at_scale(1.0).values())
    scale = s.population.agents / max(base, 1)
    return at_scale(scale), scale


class _Builder:
    """Accumulates trips group by group, then packs them into arrays."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {k: [] for k in (
            "agent", "purpose", "origin", "dest", "alight_line", "board_line", "depart", "dwell", "leg")}
        self.n_agents = 0
        self.n_trips = 0

    def add_round_trip(self, purpose: int, home: np.ndarray, away: np.ndarray, out_depart: np.ndarray,
                       back_depart: np.ndarray | None, dwell: np.ndarray | None,
                       alight: tuple[int, int], board: tuple[int, int]) -> None:
        """Two legs per person: home->away, then away->home (fixed time or after a dwell)."""
        n = len(home)
        agents = np.arange(self.n_agents, self.n_agents + n, dtype=np.int32)
        self.n_agents += n
        for leg, (o, d) in enumerate(((home, away), (away, home))):
            self.cols["agent"].append(agents)
            self.cols["purpose"].append(np.full(n, purpose, np.int8))
            self.cols["origin"].append(o.astype(np.int32))
            self.cols["dest"].append(d.astype(np.int32))
            self.cols["alight_line"].append(np.full(n, alight[leg], np.int8))
            self.cols["board_line"].append(np.full(n, board[leg], np.int8))
            if leg == 0:
                self.cols["depart"].append(out_depart.astype(np.int32))
                self.cols["dwell"].append(np.zeros(n, np.int32))
            elif back_depart is not None:
                self.cols["depart"].append(back_depart.astype(np.int32))
                self.cols["dwell"].append(np.zeros(n, np.int32))
            else:
                self.cols["depart"].append(np.full(n, -1, np.int32))
                self.cols["dwell"].append(np.asarray(dwell, dtype=np.int32))
            self.cols["leg"].append(np.full(n, leg, np.int8))
        self.n_trips += 2 * n

    def pack(self, rng: np.random.Generator, s: Scenario) -> Trips:
        c = {k: np.concatenate(v) if v else np.zeros(0, np.int32) for k, v in self.cols.items()}
        n = len(c["agent"])
        order = np.lexsort((c["leg"], c["agent"]))  # the two legs of a person side by side
        c = {k: v[order] for k, v in c.items()}
        nxt = np.full(n, -1, np.int32)
        prev = np.full(n, -1, np.int32)
        first = np.flatnonzero(c["leg"] == 0)
        nxt[first] = first + 1
        prev[first + 1] = first
        w = s.walking
        speed_agent = w.speed_m_per_min * w.speed_factor * np.exp(
            w.speed_cv * rng.standard_normal(self.n_agents) - 0.5 * w.speed_cv ** 2)
        return Trips(agent=c["agent"], purpose=c["purpose"], origin=c["origin"], dest=c["dest"],
                     alight_line=c["alight_line"], board_line=c["board_line"], depart=c["depart"],
                     dwell=c["dwell"], prev=prev, next=nxt, speed=speed_agent[c["agent"]],
                     dest_mall=np.full(n, -1, np.int8))


def _lognormal_minutes(rng: np.random.Generator, n: int, median: float, sigma: float) -> np.ndarray:
    return np.clip(np.rint(median * np.exp(sigma * rng.standard_normal(n))), 10, 600).astype(np.int32)


def generate(s: Scenario, net: WalkNetwork) -> Demand:
    """The whole day's trips for a scenario on a network (deterministic for a given seed)."""
    rng = np.random.default_rng([s.seed, 1])
    places = Places.locate(net)
    router = net.router
    counts, scale = _group_counts(s)
    profiles = dict(PROFILES)
    if s.day_type != "weekday":
        profiles.update(WEEKEND_PROFILE)
    trains = {line: train_times(s, line) for line in LINES}
    mall_w = np.array([s.mall_weights.get(k, 1.0) for k in MALL_KEYS])
    gate_dist = {i: router.distances_from(int(places.gates[i])) for i in range(len(LINES))}
    b = _Builder()

    def walk_min(dist_m: np.ndarray) -> np.ndarray:
        return np.ceil(dist_m / (s.walking.speed_m_per_min * s.walking.speed_factor)).astype(np.int32)

    def choose_mall(line: int, n: int) -> np.ndarray:
        d = gate_dist[line][places.malls]
        w = mall_w * np.exp(-d / 500.0)
        return rng.choice(len(MALL_KEYS), size=n, p=w / w.sum())

    def alight_times(line: int, n: int, profile: str) -> np.ndarray:
        train = _snap_to_train(trains[LINES[line]], sample_profile(rng, n, profiles[profile]))
        return train + rng.integers(1, 4, size=n)  # platform to gate

    def board_walk_start(line: int, n: int, profile: str, origin: np.ndarray) -> np.ndarray:
        train = _snap_to_train(trains[LINES[line]], sample_profile(rng, n, profiles[profile]))
        buffer = rng.integers(2, 9, size=n)
        return np.maximum(train - buffer - walk_min(gate_dist[line][origin]), 0)

    for (purpose, key), n in sorted(counts.items()):
        if n <= 0:
            continue
        if purpose == "transfer":
            a, c = (LINES.index(x) for x in key.split(">"))
            ga, gc = np.full(n, places.gates[a]), np.full(n, places.gates[c])
            out = alight_times(a, n, "transfer_am")
            back = np.maximum(alight_times(c, n, "transfer_pm"), out + 60)
            b.add_round_trip(P["transfer"], ga, gc, out, back, None, alight=(a, c), board=(c, a))
            continue
        if purpose == "local_shopping":
            homes = rng.choice(places.homes, size=n)
            mall = rng.choice(len(MALL_KEYS), size=n, p=mall_w / mall_w.sum())
            dwell = _lognormal_minutes(rng, n, s.dwell.local_median_min, s.dwell.sigma)
            b.add_round_trip(P["local_shopping"], homes, places.malls[mall], sample_profile(rng, n, profiles["local"]),
                             None, dwell, alight=(-1, -1), board=(-1, -1))
            continue
        if purpose == "event":
            ev = s.event
            venue = places.malls[MALL_KEYS.index(ev.venue)]
            start, end = clock_to_minute(ev.start), clock_to_minute(ev.end)
            n_rail = round(n * ev.rail_share)
            weights = np.array([max(getattr(s.ridership, k), 1) for k in LINES], dtype=float)
            lines = rng.choice(len(LINES), size=n_rail, p=weights / weights.sum())
            for line in range(len(LINES)):
                m = int((lines == line).sum())
                if m == 0:
                    continue
                out = np.maximum(start - rng.integers(0, ev.arrival_spread_min + 1, size=m)
                                 - walk_min(gate_dist[line][np.full(m, venue)]), 0)
                back = np.minimum(end + rng.integers(0, ev.egress_spread_min + 1, size=m), DAY_MIN - 2)
                b.add_round_trip(P["leisure"], np.full(m, places.gates[line]), np.full(m, venue), out, back, None,
                                 alight=(line, -1), board=(-1, line))
            m = n - n_rail
            if m:
                homes = rng.choice(places.homes, size=m)
                out = np.maximum(start - rng.integers(10, ev.arrival_spread_min + 11, size=m), 0)
                back = np.minimum(end + rng.integers(0, ev.egress_spread_min + 1, size=m), DAY_MIN - 2)
                b.add_round_trip(P["leisure"], homes, np.full(m, venue), out, back, None,
                                 alight=(-1, -1), board=(-1, -1))
            continue
        line = LINES.index(key)
        gate = np.full(n, places.gates[line])
        if purpose == "commute_in":
            office = rng.random(n) < 0.5
            dest = np.where(office, rng.choice(places.offices, size=n), rng.choice(places.homes, size=n))
            out = alight_times(line, n, "commute_in_am")
            back = np.maximum(board_walk_start(line, n, "commute_in_pm", dest), out + 240)
            b.add_round_trip(P["commute_in"], gate, dest, out, back, None, alight=(line, -1), board=(-1, line))
        elif purpose in ("shopping", "leisure"):
            if purpose == "shopping":
                dest = places.malls[choose_mall(line, n)]
                dwell = _lognormal_minutes(rng, n, s.dwell.shopping_median_min, s.dwell.sigma)
            else:
                to_mall = rng.random(n) < 0.4
                dest = np.where(to_mall, places.malls[choose_mall(line, n)], rng.choice(places.leisure, size=n))
                dwell = _lognormal_minutes(rng, n, s.dwell.leisure_median_min, s.dwell.sigma)
            out = alight_times(line, n, purpose)
            b.add_round_trip(P[purpose], gate, dest, out, None, dwell, alight=(line, -1), board=(-1, line))
        else:  # commute_out, home: residents leave from home and come back by train
            homes = rng.choice(places.homes, size=n)
            out_profile, back_profile = (("commute_out_am", "commute_out_pm") if purpose == "commute_out"
                                         else ("home_out", "home_back"))
            out = board_walk_start(line, n, out_profile, homes)
            back = np.maximum(alight_times(line, n, back_profile), out + 120)
            b.add_round_trip(P[purpose], homes, gate, out, back, None, alight=(-1, line), board=(line, -1))
    trips = b.pack(rng, s)
    trips.dest_mall = dest_mall(trips.dest, places.malls)
    paths, keys, path_ids = assign_paths(net, places, trips.origin, trips.dest)
    trips.path = path_ids
    return Demand(trips=trips, paths=paths, path_keys=keys, scale=scale, places=places)


def dest_mall(dest: np.ndarray, malls: np.ndarray) -> np.ndarray:
    """Index of the shopping centre each walk ends at, -1 elsewhere."""
    out = np.full(len(dest), -1, np.int8)
    for i, node in enumerate(malls):
        out[dest == node] = i
    return out


PathKey = tuple[int, int, tuple[int, ...]]


def assign_paths(net: WalkNetwork, places: Places, origin: np.ndarray, dest: np.ndarray,
                 avoid: np.ndarray | None = None) -> tuple[PathTable, list[PathKey], np.ndarray]:
    """Shortest path per trip (optionally avoiding one link per trip, -1 = none), deduplicated by OD."""
    anchors = set(places.gates.tolist()) | set(places.malls.tolist())
    avoid = np.full(len(origin), -1, np.int64) if avoid is None else avoid.astype(np.int64)
    n = net.n_nodes
    code = (origin.astype(np.int64) * n + dest.astype(np.int64)) * (net.n_links + 1) + (avoid + 1)
    uniq, inverse = np.unique(code, return_inverse=True)
    sequences, keys = [], []
    for c in uniq:
        od, a = divmod(int(c), net.n_links + 1)
        o, d = divmod(od, n)
        av = () if a == 0 else (a - 1,)
        if o in anchors:
            seq = net.router.path_links(o, d, av)
        elif d in anchors:
            seq = net.router.path_links(d, o, av)[::-1]
        else:
            raise ValueError(f"a walk from node {o} to {d} has no station or mall end")
        sequences.append(seq)
        keys.append((o, d, av))
    return net.router.table(sequences), keys, inverse.astype(np.int32).reshape(-1)
