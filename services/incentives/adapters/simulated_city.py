"""The simulated Ebina day as a campaign's world: crowd forecast, app users with expected trips, and the
choice model answering as the population would.

Planning reads the day without offers (``load_peak``); ``replay`` applies one allocation in the
simulator and walks the day again, so every difference against the baseline is the campaign's doing
(same population, same seed: the counterfactual).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.incentives.domain.campaign import Campaign
from services.incentives.domain.effects import load_cut_effect
from services.incentives.domain.rounds import RoundInput
from simulator.allocation import Crossings, SimOffer, acceptance, answers, apply_allocation, crossings
from simulator.demand import PURPOSES
from simulator.engine import simulate
from simulator.kpis import rolling_mean
from simulator.run import SimResult, run_scenario
from simulator.scenario import load_scenario

PEAK_MIN = 15
PLANNING_MARGIN_MIN = 60  # trips this far either side of the window can still be moved into or out of it


@dataclass
class SimulatedPeak:
    sim: SimResult
    chokepoint: str
    window: tuple[int, int]
    crossings: Crossings
    candidates: np.ndarray  # indices into ``crossings`` of app users near the window
    seed: int

    @property
    def load(self) -> np.ndarray:
        return self.crossings.load

    def baseline_peak15(self) -> float:
        a, b = self.window
        return float(rolling_mean(self.load, PEAK_MIN)[a + PEAK_MIN - 1:b].max())

    def baseline_window(self) -> int:
        a, b = self.window
        return int(self.load[a:b].sum())


def load_peak(campaign: Campaign, scenario: str = "ebina_weekday", *, reach: float = 0.3, seed: int = 7,
              agents: int | None = None) -> SimulatedPeak:
    """Simulate the day without offers; the app users are a seeded share ``reach`` of the people."""
    s = load_scenario(scenario).with_overrides(offers=[], seed=seed)
    sim = run_scenario(s, agents=agents)
    cross = crossings(sim.demand, sim.result, sim.network, campaign.goal.place)
    a, b = campaign.goal.window
    has_app = np.random.default_rng([seed, 31]).random(sim.demand.trips.n_agents) < reach
    near = (cross.minute >= a - PLANNING_MARGIN_MIN) & (cross.minute < b + PLANNING_MARGIN_MIN)
    return SimulatedPeak(sim, campaign.goal.place, (a, b), cross, np.flatnonzero(near & has_app[cross.agent]), seed)


def sim_offers(campaign: Campaign) -> list[SimOffer]:
    return [SimOffer(o.behaviour, o.reward_yen, o.shift_min) for o in campaign.catalogue]


def round_input(peak: SimulatedPeak, campaign: Campaign, minute: int | None = None,
                rows: np.ndarray | None = None) -> RoundInput:
    """The candidates (all, or ``rows`` of them) as a round sees them: segment = trip purpose."""
    rows = peak.candidates if rows is None else rows
    t = peak.crossings.minute[rows]
    effect, applicable = load_cut_effect(campaign.goal, campaign.catalogue, t, peak.load.astype(float))
    return RoundInput(minute=campaign.goal.window[0] - 30 if minute is None else minute,
                      users=np.array([f"trip-{i}" for i in peak.crossings.trip[rows]]),
                      segment=peak.crossings.purpose[rows].astype(np.int64), segments=PURPOSES,
                      effect=effect, applicable=applicable, crossing_minute=t)


def true_acceptance(campaign: Campaign) -> np.ndarray:
    """[segment, offer] acceptance the simulated population really has (the choice model)."""
    return acceptance(np.arange(len(PURPOSES)), sim_offers(campaign))


@dataclass(frozen=True)
class Replay:
    sent: int
    accepted: int
    paid_yen: int
    window_before: int
    window_after: int
    peak15_before: float
    peak15_after: float
    load_after: np.ndarray

    @property
    def window_removed(self) -> int:
        return self.window_before - self.window_after

    @property
    def peak_cut_share(self) -> float:
        return 1 - self.peak15_after / self.peak15_before if self.peak15_before else 0.0

    @property
    def window_cut_share(self) -> float:
        return self.window_removed / self.window_before if self.window_before else 0.0

    def removed_per_million_yen(self) -> float | None:
        return self.window_removed / self.paid_yen * 1e6 if self.paid_yen else None


def answer(peak: SimulatedPeak, rows: np.ndarray, offers: np.ndarray, catalogue: list[SimOffer],
           seed: int | None = None) -> np.ndarray:
    """The simulated people's answers (the same draws ``replay`` would make for the same people)."""
    trips = peak.crossings.trip[rows]
    p = acceptance(peak.crossings.purpose[rows], catalogue)[np.arange(len(rows)), offers] if len(rows) else \
        np.zeros(0)
    return answers(trips, p, peak.seed if seed is None else seed)


def replay(peak: SimulatedPeak, rows: np.ndarray, offers: np.ndarray, catalogue: list[SimOffer], *,
           budget_yen: int | None = None, seed: int | None = None, accepted: np.ndarray | None = None) -> Replay:
    """Send ``catalogue[offers[i]]`` to candidate ``rows[i]``, let the choice model answer (or take the
    answers given), walk the day again."""
    sim = peak.sim
    trips = peak.crossings.trip[rows]
    changed, outcome = apply_allocation(sim.demand, sim.result, sim.network, trips, offers, catalogue,
                                        seed=peak.seed if seed is None else seed, budget_yen=budget_yen,
                                        chokepoint=peak.chokepoint, accepted=accepted)
    after = simulate(changed.trips, changed.paths, sim.network).flow[:, peak.crossings.link].astype(np.int64)
    a, b = peak.window
    peak_after = float(rolling_mean(after, PEAK_MIN)[a + PEAK_MIN - 1:b].max())
    return Replay(outcome.sent, outcome.accepted, outcome.paid_yen, peak.baseline_window(), int(after[a:b].sum()),
                  peak.baseline_peak15(), peak_after, after)
