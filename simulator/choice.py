"""How people answer an offer: a binary logit in the reward, the size of the change, purpose and offer type.

    P(accept) = 1 / (1 + exp(-(asc + d_offer + d_purpose + b_reward * reward/100 yen - b_shift * shift/10 min)))

``asc``, ``b_reward`` and ``b_shift`` are fitted to published peak-spreading programmes (all of them
offered commuters a reward to travel outside the peak); weak priors keep the fit sensible with three
data points. The offer-type and purpose offsets are stated assumptions: the programmes only observed
time shifts by commuters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

OFFER_OFFSET = {"shift_later": 0.0, "shift_earlier": -0.2, "other_exit": 0.6, "other_mall": -0.4,
                "shared_mobility": -1.2, "ev_charge_now": 0.3}
PURPOSE_OFFSET = {"commute_in": 0.0, "commute_out": 0.0, "transfer": -0.3, "shopping": 0.5, "leisure": 0.7,
                  "home": 0.3, "local_shopping": 0.5}
PRIOR = {"b_reward": (0.5, 0.25), "b_shift": (0.5, 0.25)}  # (mean, sd) per 100 yen, per 10 min
OBS_SD_LOGIT = 0.15


@dataclass(frozen=True)
class Programme:
    """A published programme reduced to what the model sees; rewards converted to yen at the time's rate."""

    name: str
    where: str
    years: str
    reward_note: str
    reward_yen: int
    shift_min: int
    observed: float
    observed_note: str


PROGRAMMES = (
    Programme("INSINC", "Singapore (MRT)", "2012-13",
              "credits for off-peak trips, paid by lottery; about S$0.25 expected per shifted trip (80 yen/S$)",
              20, 20, 0.10, "about 10 % of participants' peak trips shifted"),
    Programme("Free pre-peak travel", "Singapore (MRT, city stations)", "2013-17",
              "free exit before 07:45, about S$0.85 saved (80 yen/S$)", 70, 30, 0.07,
              "about 7 % of peak trips moved to the pre-peak; peak/pre-peak ratio 2.7 -> 2.1"),
    Programme("BART Perks", "San Francisco Bay Area", "2016-17",
              "points for shoulder-hour trips, about US$0.40 per shifted trip (110 yen/US$)", 45, 20,
              250 / 2600, "250 of 2,600 peak riders shifted (about 10 %)"),
)


@dataclass(frozen=True)
class ChoiceParams:
    asc: float
    b_reward: float  # utility per 100 yen
    b_shift: float  # disutility per 10 minutes of change

    def utility(self, reward_yen: np.ndarray | float, shift_min: np.ndarray | float,
                offset: np.ndarray | float = 0.0) -> np.ndarray:
        return (self.asc + offset + self.b_reward * np.asarray(reward_yen, dtype=float) / 100.0
                - self.b_shift * np.abs(np.asarray(shift_min, dtype=float)) / 10.0)

    def accept_probability(self, reward_yen: np.ndarray | float, shift_min: np.ndarray | float,
                           offer_type: str, purposes: np.ndarray | list[str] | str) -> np.ndarray:
        """Acceptance probability per person (vectorised over purposes, rewards, shifts)."""
        purposes = np.atleast_1d(np.asarray(purposes))
        offset = OFFER_OFFSET[offer_type] + np.array([PURPOSE_OFFSET[p] for p in purposes.tolist()])
        return 1.0 / (1.0 + np.exp(-self.utility(reward_yen, shift_min, offset)))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def calibrate(programmes: tuple[Programme, ...] = PROGRAMMES) -> ChoiceParams:
    """Least squares in log-odds against the programmes, with weak priors on the two slopes."""
    def residuals(theta: np.ndarray) -> np.ndarray:
        params = ChoiceParams(*theta)
        fit = [(float(params.utility(p.reward_yen, p.shift_min)) - _logit(p.observed)) / OBS_SD_LOGIT
               for p in programmes]
        prior = [(theta[1] - PRIOR["b_reward"][0]) / PRIOR["b_reward"][1],
                 (theta[2] - PRIOR["b_shift"][0]) / PRIOR["b_shift"][1]]
        return np.array(fit + prior)

    solution = least_squares(residuals, x0=np.array([-2.0, 0.5, 0.5]),
                             bounds=([-10.0, 0.0, 0.0], [10.0, 5.0, 5.0]))
    return ChoiceParams(*map(float, solution.x))


CALIBRATED = calibrate()


def calibration_table(params: ChoiceParams = CALIBRATED) -> list[dict[str, object]]:
    """Observed against fitted acceptance, one row per programme (the table the README shows)."""
    return [{
        "programme": p.name, "where": p.where, "years": p.years, "reward_yen": p.reward_yen,
        "shift_min": p.shift_min, "observed": round(p.observed, 3),
        "fitted": round(float(1.0 / (1.0 + np.exp(-params.utility(p.reward_yen, p.shift_min)))), 3),
        "reward": p.reward_note, "result": p.observed_note,
    } for p in PROGRAMMES]


def coupon_table(reward_yen: int = 100, params: ChoiceParams = CALIBRATED) -> list[dict[str, object]]:
    """What an offer worth ``reward_yen`` does at Ebina, per offer type and purpose."""
    changes = {"shift_later": 20, "shift_earlier": 20, "other_exit": 3, "other_mall": 5,
               "shared_mobility": 0, "ev_charge_now": 0}
    purposes = ("commute_in", "commute_out", "shopping", "leisure", "home")
    rows = []
    for offer, change in changes.items():
        probs = params.accept_probability(reward_yen, change, offer, list(purposes))
        rows.append({"offer": offer, "change_min": change,
                     **{p: round(float(v), 3) for p, v in zip(purposes, probs, strict=True)}})
    return rows
