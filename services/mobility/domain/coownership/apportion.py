"""Largest-remainder rounding: share an integer amount by weights so the parts sum to it exactly.

Each part gets the floor of its exact quota; the units left go to the largest remainders, ties to the earlier
key in the order given (callers pass keys sorted), so the same input always gives the same sen.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction


def largest_remainder(total: int, weights: Mapping[str, Fraction | int]) -> dict[str, int]:
    """``total`` (>= 0) split by ``weights`` (>= 0, not all 0 unless ``total`` is 0); parts sum to ``total``."""
    if total < 0:
        raise ValueError(f"an amount to split must not be negative, not {total}")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    whole = sum((Fraction(w) for w in weights.values()), Fraction(0))
    if whole == 0:
        if total == 0:
            return dict.fromkeys(weights, 0)
        raise ValueError(f"cannot split {total} over weights that are all zero")
    quotas = {k: Fraction(total) * Fraction(w) / whole for k, w in weights.items()}
    parts = {k: q.numerator // q.denominator for k, q in quotas.items()}
    left = total - sum(parts.values())
    position = {k: i for i, k in enumerate(weights)}
    ranked = sorted(weights, key=lambda k: (-(quotas[k] - parts[k]), position[k]))
    for k in ranked[:left]:
        parts[k] += 1
    return parts
