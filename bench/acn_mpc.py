"""Our scheduler as an ACN-Sim scheduling algorithm: a model-predictive three-phase LP (needs acnportal).

At each call (every plug-in and unplug, and every ``recompute`` periods between) the active cars' remaining
stays become one LP over their remaining horizon, single periods first and coarser blocks farther out
(``services.charging.domain.three_phase_lp``): most energy delivered, earlier energy worth slightly more,
within each car's remaining demand, the EVSE's and the battery's maximum rate and the network's exact
three-phase constraints (cutting planes, then a minimal scale-down). The first periods are returned.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from acnportal.algorithms import BaseAlgorithm

from services.charging.domain.three_phase_lp import PhaseNetwork, Sessions, coarse_blocks, plan_rates


class LinearMPC(BaseAlgorithm):
    """Rolling-horizon LP. ``battery_kw`` maps session ids to the car's charging power (as the car reports it)."""

    def __init__(self, battery_kw: Mapping[str, float], *, recompute: int = 3, fine: int = 12,
                 earlier_bonus: float = 1e-3, step_deg: float = 5.0, by_departure: bool = True) -> None:
        super().__init__()
        if not 1 <= recompute <= fine:
            raise ValueError("recompute must be between 1 and fine (the periods a plan returns one by one)")
        self.max_recompute = recompute
        self._battery_kw = dict(battery_kw)
        self._fine = fine
        self._bonus = earlier_bonus
        self._step = step_deg
        self._by_departure = by_departure
        self._network: PhaseNetwork | None = None
        self._angles: dict[int, list[float]] = {}
        self.plans = 0
        self.lp_rows = 0

    def _phase_network(self, infrastructure) -> PhaseNetwork:
        if self._network is None:
            if not np.all(infrastructure.is_continuous):
                raise ValueError("LinearMPC needs continuous pilot signals (caltech_acn(basic_evse=True))")
            self._network = PhaseNetwork(np.asarray(infrastructure.constraint_matrix, dtype=float),
                                         np.asarray(infrastructure.constraint_limits, dtype=float),
                                         np.asarray(infrastructure.phases, dtype=float))
        return self._network

    def schedule(self, active_sessions) -> dict[str, list[float]]:
        if not active_sessions:
            return {}
        iface = self.interface
        infra = iface.infrastructure_info()
        network = self._phase_network(infra)
        now = iface.current_time
        index = np.array([infra.get_station_index(s.station_id) for s in active_sessions])
        voltage = np.asarray(infra.voltages, dtype=float)[index]
        battery_a = np.array([self._battery_kw.get(s.session_id, np.inf) for s in active_sessions]) * 1000 / voltage
        end = np.array([max(s.estimated_departure - now, 1) for s in active_sessions])
        demand = np.array([max(iface.remaining_amp_periods(s), 0.0) for s in active_sessions])
        sessions = Sessions(index, np.zeros(len(index), dtype=int), end, demand,
                            np.minimum(np.asarray(infra.max_pilot, dtype=float)[index], battery_a))
        lengths = coarse_blocks(int(end.max()), fine=self._fine)
        plan = plan_rates(network, sessions, lengths, earlier_bonus=self._bonus, angles=self._angles,
                          step_deg=self._step, by_departure=self._by_departure)
        self._angles = plan.angles
        self.plans += 1
        self.lp_rows += plan.rows
        out = np.zeros((len(index), self._fine))
        width = min(self._fine, plan.rates.shape[1])
        out[:, :width] = plan.rates[:, :width]
        return {s.station_id: out[i].tolist() for i, s in enumerate(active_sessions)}
