"""What accepting an offer is worth to the goal, per user and offer, from the crowd forecast.

``goal_effect`` picks the model of the goal's kind; ``cut_load`` is described here, ``lift_footfall`` and
``fill_chargers`` at their functions.

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
                    load_forecast: np.ndarray, avoidable: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(effect, applicable), both [users, offers], for a cut_load goal; applicable = the offer moves the trip.

    An ``other_exit`` offer takes the crossing out of the chokepoint altogether (worth w(t)), but only for the
    users whose trip has another exit or route around it (``avoidable``; nobody when it is not known)."""
    w = minute_weights(goal, load_forecast)
    day = len(w)
    t = np.clip(crossing_minute.astype(np.int64), 0, day - 1)
    effect = np.zeros((len(t), len(catalogue)))
    applicable = np.zeros((len(t), len(catalogue)), dtype=bool)
    for j, offer in enumerate(catalogue):
        d = offer.signed_shift_min
        if offer.kind == "other_exit" and avoidable is not None:
            effect[:, j] = np.where(avoidable, w[t], 0.0)
            applicable[:, j] = avoidable
            continue
        if d == 0:
            continue  # no time moved and no route known around the place: no effect to count
        moved = t + d
        inside = (moved >= 0) & (moved < day)
        effect[:, j] = np.where(inside, w[t] - w[np.clip(moved, 0, day - 1)], 0.0)
        applicable[:, j] = inside
    return np.maximum(effect, 0.0), applicable & (effect > 0)


def _in_window(goal: Goal, minutes: np.ndarray) -> np.ndarray:
    a, b = goal.window
    return ((minutes >= a) & (minutes < b)).astype(float)


def footfall_effect(goal: Goal, catalogue: tuple[OfferSpec, ...], passing_minute: np.ndarray,
                    _forecast: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(effect, applicable) for a ``lift_footfall`` goal: people expected to pass shopping centre ``place`` at
    minute t. One goal unit is one visit added in the window. A coupon at a named shop (a stop on the way) and an
    invitation to this centre instead of another (``other_mall``) add the person's visit at t when t falls in the
    window; a time shift moves a visit into the window from outside it. Route, exit and mobility offers do not
    bring anyone in."""
    t = passing_minute.astype(np.int64)
    inside = _in_window(goal, t)
    effect = np.zeros((len(t), len(catalogue)))
    for j, offer in enumerate(catalogue):
        if offer.kind in ("coupon", "other_mall"):
            effect[:, j] = inside
        elif offer.kind in ("shift_later", "shift_earlier"):
            effect[:, j] = np.maximum(_in_window(goal, t + offer.signed_shift_min) - inside, 0.0)
    return effect, effect > 0


def charger_fill_effect(goal: Goal, catalogue: tuple[OfferSpec, ...], session_minute: np.ndarray,
                        surplus: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(effect, applicable) for a ``fill_chargers`` goal: EV drivers expected to start charging at site ``place``
    at minute t; ``window`` is the PV surplus. An ``ev_charge_now`` discount brings a session planned outside the
    window into it (one goal unit: one session moved into the surplus), weighted by how much surplus is left in
    the window relative to its mean when ``surplus`` (per minute of the day) is given; a time shift counts when it
    lands the session in the window. Sessions already in the window gain nothing."""
    t = session_minute.astype(np.int64)
    inside = _in_window(goal, t)
    a, b = goal.window
    weight = 1.0
    if surplus is not None and len(surplus) >= b and float(np.mean(surplus[a:b])) > 0:
        weight = float(np.clip(np.mean(surplus[a:b]) / np.max(surplus[a:b]), 0.0, 1.0))
    effect = np.zeros((len(t), len(catalogue)))
    for j, offer in enumerate(catalogue):
        if offer.kind == "ev_charge_now":
            effect[:, j] = (1.0 - inside) * weight
        elif offer.kind in ("shift_later", "shift_earlier"):
            effect[:, j] = np.maximum(_in_window(goal, t + offer.signed_shift_min) - inside, 0.0) * weight
    return effect, effect > 0


def goal_effect(goal: Goal, catalogue: tuple[OfferSpec, ...], minute: np.ndarray,
                forecast: np.ndarray, avoidable: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The effect model of the goal's kind: crossings taken out of a chokepoint's window, visits added at a
    shopping centre, or charging sessions moved into the PV surplus."""
    if goal.kind == "lift_footfall":
        return footfall_effect(goal, catalogue, minute, forecast)
    if goal.kind == "fill_chargers":
        return charger_fill_effect(goal, catalogue, minute, forecast)
    return load_cut_effect(goal, catalogue, minute, forecast, avoidable)


UNITS = {"cut_load": "crossings taken out of the window (one of an average minute = 1)",
         "lift_footfall": "visits added in the window", "fill_chargers": "charging sessions moved into the window"}
