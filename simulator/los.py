"""Fruin's level of service for walkways, by flow per metre of width and by space per person.

Thresholds are Fruin's (1971) walkway values converted to metres: flow in persons per metre of clear
width per minute, space in square metres per person. A is free walking, F is a standing crowd.
"""

from __future__ import annotations

import numpy as np

LEVELS = ("A", "B", "C", "D", "E", "F")
FLOW_LIMITS = (23.0, 33.0, 49.0, 66.0, 82.0)  # upper bounds of A..E, persons/m/min
SPACE_LIMITS = (3.24, 2.32, 1.39, 0.93, 0.46)  # lower bounds of A..E, m2/person


def los_from_flow(persons_per_m_min: float | np.ndarray) -> str | np.ndarray:
    idx = np.searchsorted(np.array(FLOW_LIMITS), np.asarray(persons_per_m_min), side="left")
    out = np.array(LEVELS)[idx]
    return str(out) if out.ndim == 0 else out


def los_from_density(persons_per_m2: float | np.ndarray) -> str | np.ndarray:
    density = np.asarray(persons_per_m2, dtype=float)
    with np.errstate(divide="ignore"):
        space = np.where(density > 0, 1.0 / np.maximum(density, 1e-12), np.inf)
    idx = np.searchsorted(-np.array(SPACE_LIMITS), -space, side="right")
    out = np.array(LEVELS)[idx]
    return str(out) if out.ndim == 0 else out


def worse(a: str, b: str) -> str:
    return max(a, b)


def rank(level: str) -> int:
    """0 for A ... 5 for F."""
    return LEVELS.index(level)


def worse_of(flow_levels: np.ndarray, space_levels: np.ndarray) -> np.ndarray:
    """Element-wise the worse of two arrays of levels (the one a planner must design for)."""
    return np.where(np.asarray(space_levels) > np.asarray(flow_levels), space_levels, flow_levels)


def space_m2_per_person(persons_per_m2: float) -> float:
    """Space per person (m2), infinite on an empty walkway."""
    return float("inf") if persons_per_m2 <= 0 else 1.0 / persons_per_m2
