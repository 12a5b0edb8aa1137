"""Offers chosen person by person (by a campaign's optimiser, or a baseline rule) applied to a simulated day.

``simulator.incentives`` broadcasts one offer to everyone who fits; this module takes an explicit list of
(trip, offer) pairs instead. The crowd forecast a campaign plans on is the day without offers: who crosses
a chokepoint when (``crossings``). Answers come from the calibrated choice model, drawn with common
random numbers (one uniform per trip and seed), so two allocations that send the same offer to the same
person get the same answer and their difference is the allocation's doing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.choice import CALIBRATED, ChoiceParams
from simulator.demand import PURPOSES, Demand, assign_paths, dest_mall
from simulator.engine import EngineResult
from simulator.incentives import change_trips
from simulator.network import WalkNetwork
from simulator.scenario import Offer


@dataclass(frozen=True)
class SimOffer:
    """An offer as the crowd model sees it: the behaviour asked for, its reward and the minutes it moves."""

    behaviour: str
    reward_yen: int
    shift_min: int = 0


@dataclass(frozen=True)
class Crossings:
    """Trips that cross ``chokepoint`` on the day without offers: trip index, minute at the link, purpose."""

    chokepoint: str
    link: int
    trip: np.ndarray
    minute: np.ndarray
    purpose: np.ndarray  # index into simulator.demand.PURPOSES
    agent: np.ndarray
    load: np.ndarray     # baseline walkers entering the link per minute [1440]


def crossings(demand: Demand, baseline: EngineResult, net: WalkNetwork, chokepoint: str) -> Crossings:
    """Every trip crossing the chokepoint, with the minute it reaches the link (departure + walk to it)."""
    if chokepoint not in net.chokepoints:
        raise ValueError(f"unknown chokepoint {chokepoint!r}; known: {sorted(net.chokepoints)}")
    link = net.chokepoints[chokepoint]
    trips = demand.trips
    links = demand.paths.links[trips.path]
    hit = links == link
    on = hit.any(axis=1) & (baseline.depart >= 0)
    idx = np.flatnonzero(on)
    k = hit[idx].argmax(axis=1)
    start_m = demand.paths.start_m[trips.path[idx], k]
    minute = baseline.depart[idx] + np.floor(start_m / trips.speed[idx]).astype(np.int64)
    return Crossings(chokepoint, link, idx, np.minimum(minute, 1439), trips.purpose[idx], trips.agent[idx],
                     baseline.flow[:, link].astype(np.int64))


def acceptance(purpose: np.ndarray, offers: list[SimOffer], params: ChoiceParams = CALIBRATED) -> np.ndarray:
    """[people, offers] acceptance probabilities by the choice model (the simulated population's truth)."""
    names = np.array(PURPOSES)[purpose]
    out = np.empty((len(purpose), len(offers)))
    for j, o in enumerate(offers):
        out[:, j] = params.accept_probability(o.reward_yen, o.shift_min, o.behaviour, names) if len(names) else []
    return out


@dataclass(frozen=True)
class AppliedOutcome:
    sent: int
    accepted: int
    paid_yen: int
    accepted_mask: np.ndarray  # per pair given, in order
    per_offer: list[dict[str, int]]


def answers(trip: np.ndarray, probability: np.ndarray, seed: int) -> np.ndarray:
    """Who accepts: one uniform per trip and seed, so the same person answers the same way in every method."""
    rng = np.random.default_rng([seed, 7919])
    return rng.random(int(trip.max()) + 1 if len(trip) else 0)[trip] < probability


def apply_allocation(demand: Demand, baseline: EngineResult, net: WalkNetwork, trip: np.ndarray,
                     offer: np.ndarray, catalogue: list[SimOffer], *, seed: int, budget_yen: int | None = None,
                     chokepoint: str | None = None, params: ChoiceParams = CALIBRATED,
                     accepted: np.ndarray | None = None) -> tuple[Demand, AppliedOutcome]:
    """The day's demand after ``trip[i]`` was sent ``catalogue[offer[i]]``; payments stop at ``budget_yen``
    (answers past it are treated as refused by the operator, as the broadcast does). ``accepted`` gives the
    answers when they are already known (a campaign run that drew them round by round)."""
    trips = demand.trips.copy()
    if accepted is None:
        prob = acceptance(trips.purpose[trip], catalogue, params)[np.arange(len(trip)), offer] if len(trip) \
            else np.zeros(0)
        accepted = answers(trip, prob, seed)
    accepted = accepted.copy()
    reward = np.array([catalogue[o].reward_yen for o in offer], dtype=np.int64)
    if budget_yen is not None:
        accepted &= np.cumsum(np.where(accepted, reward, 0)) <= budget_yen
    reroute = np.full(len(trips), -1, dtype=np.int64)
    per_offer = []
    for j, o in enumerate(catalogue):
        chosen = trip[(offer == j) & accepted]
        spec = Offer(type=o.behaviour, reward_yen=o.reward_yen, shift_min=o.shift_min, chokepoint=chokepoint)
        change_trips(spec, trips, chosen, baseline, demand, net, reroute)
        per_offer.append({"sent": int((offer == j).sum()), "accepted": len(chosen),
                          "paid_yen": len(chosen) * o.reward_yen})
    paths, keys, ids = assign_paths(net, demand.places, trips.origin, trips.dest, avoid=reroute)
    trips.path = ids
    trips.dest_mall = dest_mall(trips.dest, demand.places.malls)
    changed = Demand(trips=trips, paths=paths, path_keys=keys, scale=demand.scale, places=demand.places,
                     rides=demand.rides)
    return changed, AppliedOutcome(sent=len(trip), accepted=int(accepted.sum()),
                                   paid_yen=int(reward[accepted].sum()), accepted_mask=accepted, per_offer=per_offer)
