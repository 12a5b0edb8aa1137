"""Put offers in front of people and change the trips of those who accept.

Targeting uses the baseline day (who walks through the chokepoint in the window, as a forecast would
show), acceptance uses the calibrated choice model, and a budget caps what is paid. Each offer draws
from its own seeded stream, so adding an offer does not reshuffle who answers another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.choice import CALIBRATED, ChoiceParams
from simulator.demand import MALL_KEYS, PURPOSES, Demand, Trips, assign_paths, dest_mall
from simulator.engine import EngineResult
from simulator.network import WalkNetwork
from simulator.scenario import Offer, Scenario

MAX_DETOUR_MIN = 15.0


@dataclass(frozen=True)
class OfferOutcome:
    index: int
    type: str
    reward_yen: int
    eligible: int
    sent: int
    accepted: int
    cost_yen: int
    mean_probability: float
    ev_kwh_moved: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _eligible(offer: Offer, trips: Trips, baseline: EngineResult, paths_links: np.ndarray,
              net: WalkNetwork, taken: np.ndarray, places_homes: np.ndarray) -> np.ndarray:
    a, b = offer.window_minutes
    dep = baseline.depart
    mask = (dep >= a) & (dep < b) & ~taken
    if offer.purposes:
        codes = [PURPOSES.index(p) for p in offer.purposes]
        mask &= np.isin(trips.purpose, codes)
    if offer.chokepoint:
        if offer.chokepoint not in net.chokepoints:
            raise ValueError(f"unknown chokepoint {offer.chokepoint!r}; known: {sorted(net.chokepoints)}")
        link = net.chokepoints[offer.chokepoint]
        mask &= (paths_links[trips.path] == link).any(axis=1)
    if offer.type == "other_mall":
        target = MALL_KEYS.index(offer.target_mall or "lalaport")
        mask &= (trips.dest_mall == 1 - target) & (trips.next >= 0)  # outbound leg to the other centre
    if offer.type == "ev_charge_now":
        mask &= trips.purpose == PURPOSES.index("local_shopping")
    if offer.type == "shared_mobility":  # walks between a station and a home: ride the last mile instead
        home_end = np.where(trips.alight_line >= 0, trips.dest, trips.origin)
        mask &= ((trips.alight_line >= 0) ^ (trips.board_line >= 0)) & np.isin(home_end, places_homes)
    if offer.type == "shift_later":  # only those the shift takes out of the window are worth paying
        mask &= dep + offer.shift_min >= b
    if offer.type == "shift_earlier":
        mask &= dep - offer.shift_min < a
    return np.flatnonzero(mask)


def apply_offers(s: Scenario, demand: Demand, baseline: EngineResult, net: WalkNetwork,
                 params: ChoiceParams = CALIBRATED) -> tuple[Demand, list[OfferOutcome], np.ndarray]:
    """A changed copy of the demand, the outcome per offer, and a mask of trips that changed."""
    trips = demand.trips.copy()
    changed = np.zeros(len(trips), dtype=bool)
    outcomes: list[OfferOutcome] = []
    n_agents = trips.n_agents
    reroute = np.full(len(trips), -1, dtype=np.int64)
    for i, offer in enumerate(s.offers):
        rng = np.random.default_rng([s.seed, 100 + i])
        reachable = rng.random(n_agents) < offer.reach
        cand = _eligible(offer, trips, baseline, demand.paths.links, net, changed, demand.places.homes)
        if offer.type == "ev_charge_now":
            cand = cand[rng.random(len(cand)) < s.ev_owner_share]
        sent = cand[reachable[trips.agent[cand]]]
        change_min = np.full(len(sent), float(offer.shift_min))
        if offer.type == "other_exit":
            link = net.chokepoints.get(offer.chokepoint or "free_passage")
            alt_table, _, alt_ids = assign_paths(net, demand.places, trips.origin[sent], trips.dest[sent],
                                                 avoid=np.full(len(sent), link))
            detour = (alt_table.length_m[alt_ids] - demand.paths.length_m[trips.path[sent]]) / trips.speed[sent]
            avoids = ~(alt_table.links[alt_ids] == link).any(axis=1)
            keep = avoids & (detour <= MAX_DETOUR_MIN)
            sent, change_min = sent[keep], np.maximum(detour[keep], 0.0)
        elif offer.type in ("other_mall", "shared_mobility", "ev_charge_now"):
            change_min = np.zeros(len(sent)) if offer.type != "other_mall" else np.full(len(sent), 5.0)
        purposes = np.array(PURPOSES)[trips.purpose[sent]]
        prob = params.accept_probability(offer.reward_yen, change_min, offer.type, purposes) \
            if len(sent) else np.zeros(0)
        accept = rng.random(len(sent)) < prob
        if offer.budget_yen is not None and offer.reward_yen > 0:
            cap = offer.budget_yen // offer.reward_yen
            accept &= np.cumsum(accept) <= cap
        chosen = sent[accept]
        change_trips(offer, trips, chosen, baseline, demand, net, reroute)
        changed[chosen] = True
        kwh = float(len(chosen) * s.ev_session_kwh) if offer.type == "ev_charge_now" else 0.0
        outcomes.append(OfferOutcome(index=i, type=offer.type, reward_yen=offer.reward_yen, eligible=len(cand),
                                     sent=len(sent), accepted=len(chosen), cost_yen=len(chosen) * offer.reward_yen,
                                     mean_probability=round(float(prob.mean()), 4) if len(prob) else 0.0,
                                     ev_kwh_moved=kwh))
    paths, keys, ids = assign_paths(net, demand.places, trips.origin, trips.dest, avoid=reroute)
    trips.path = ids
    trips.dest_mall = dest_mall(trips.dest, demand.places.malls)
    return Demand(trips=trips, paths=paths, path_keys=keys, scale=demand.scale, places=demand.places,
                  rides=demand.rides), \
        outcomes, changed


def change_trips(offer: Offer, trips: Trips, chosen: np.ndarray, baseline: EngineResult, demand: Demand,
            net: WalkNetwork, reroute: np.ndarray) -> None:
    """Rewrite the accepted trips in place."""
    if len(chosen) == 0:
        return
    if offer.type in ("shift_later", "shift_earlier"):
        sign = 1 if offer.type == "shift_later" else -1
        trips.depart[chosen] = np.clip(baseline.depart[chosen] + sign * offer.shift_min, 0, 1439)
    elif offer.type == "other_exit":
        reroute[chosen] = net.chokepoints[offer.chokepoint or "free_passage"]
    elif offer.type == "other_mall":
        target = demand.places.malls[MALL_KEYS.index(offer.target_mall or "lalaport")]
        trips.dest[chosen] = target
        trips.origin[trips.next[chosen]] = target
    elif offer.type == "shared_mobility":
        ports = demand.places.carshare
        for rows, end_at_station in ((chosen[trips.alight_line[chosen] >= 0], True),
                                     (chosen[trips.board_line[chosen] >= 0], False)):
            if len(rows) == 0:
                continue
            gate = trips.origin[rows] if end_at_station else trips.dest[rows]
            for g in np.unique(gate):
                d = net.router.distances_from(int(g))[ports]
                if not np.isfinite(d.min()):
                    continue  # no car-share port reachable from this station on this network
                port = int(ports[np.argmin(d)])
                sel = rows[gate == g]
                if end_at_station:
                    trips.dest[sel] = port  # walk to the car-share port, then ride home
                else:
                    trips.origin[sel] = port
