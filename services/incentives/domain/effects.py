"""What accepting an offer is worth to the goal, per user and offer, from the crowd forecast.

For ``cut_load`` a person crossing the chokepoint at minute t who moves by d minutes takes w(t) off the
window and adds w(t + d): w is the forecast load of that minute relative to the window's mean inside the
window and zero outside it. Leaving the window counts in full, moving from a crowded minute to a quiet
one counts in part, moving into the peak counts against. One goal unit is one crossing of an average
minute of the window. With the ``peak`` focus, w is 1 on the minutes whose centred 15-minute load is above
the target level ((1 - share) x the window's highest 15-minute load) and 0 elsewhere: only crossings
taken out of the peak count, and crossings moved into it count against.
"""

from __future__ import annotations

import numpy as np

from services.incentives.domain.campaign import Goal
from services.incentives.domain.catalogue import OfferSpec

PEAK_MIN = 15


def centred_mean(load: np.ndarray, width: int = PEAK_MIN) -> np.ndarray:
    kernel = np.ones(width) / width
    return np.convolve(load.astype(float), kernel, mode="same")


def minute_weights(goal: Goal, load_forecast: np.ndarray) -> np.ndarray:
    """w per minute of the day (see the module's docstring), zero outside the window."""
    a, b = goal.window
    w = np.zeros(len(load_forecast))
    if goal.focus == "peak":
        smooth = centred_mean(load_forecast)
        level = (1 - goal.share) * float(smooth[a:b].max()) if b > a else 0.0
        w[a:b] = (smooth[a:b] > level).astype(float)
        return w
    mean = float(np.mean(load_forecast[a:b])) if b > a else 0.0
    if mean > 0:
        w[a:b] = load_forecast[a:b] / mean
    return w


def load_cut_effect(goal: Goal, catalogue: tuple[OfferSpec, ...], crossing_minute: np.ndarray,
                    load_forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(effect, applicable), both [users, offers], for a cut_load goal; applicable = the offer moves the trip."""
    w = minute_weights(goal, load_forecast)
    day = len(w)
    t = np.clip(crossing_minute.astype(np.int64), 0, day - 1)
    effect = np.zeros((len(t), len(catalogue)))
    applicable = np.zeros((len(t), len(catalogue)), dtype=bool)
    for j, offer in enumerate(catalogue):
        d = offer.signed_shift_min
        if d == 0:
            continue  # a route or exit change does not move the crossing's time; handled where routes are known
        moved = t + d
        inside = (moved >= 0) & (moved < day)
        effect[:, j] = np.where(inside, w[t] - w[np.clip(moved, 0, day - 1)], 0.0)
        applicable[:, j] = inside
    return np.maximum(effect, 0.0), applicable & (effect > 0)
