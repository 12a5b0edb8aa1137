"""The city's eye: flag counts that are far from what is usual for that zone and minute of the day.

Counts are summed over a trailing window (5 minutes by default), which smooths the waves of people each
train brings. The baseline is robust and seasonal: for each minute of the day, the median and the median
absolute deviation (MAD) of those sums on normal days, pooled over neighbouring minutes so that a few days
are enough. A count is anomalous when its robust z-score ``(x - median) / (1.4826 MAD + floor)`` passes
a threshold. Pure functions; the live service feeds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAD_TO_SD = 1.4826


def trailing_sum(counts: np.ndarray, window: int) -> np.ndarray:
    """Sum over the last ``window`` minutes (wrapping at midnight), along the last axis."""
    out = np.zeros_like(counts, dtype=float)
    for lag in range(window):
        out += np.roll(counts, lag, axis=-1)
    return out


@dataclass(frozen=True)
class SeasonalBaseline:
    """Median and MAD of counts per minute of the day (arrays of length 1,440)."""

    median: np.ndarray
    mad: np.ndarray
    floor: float
    window: int

    @classmethod
    def fit(cls, days: np.ndarray, pool_min: int = 7, floor: float = 3.0, window: int = 5) -> SeasonalBaseline:
        """From ``days[d, minute]`` counts, pooling ``pool_min`` minutes either side of each minute."""
        days = trailing_sum(np.atleast_2d(np.asarray(days, dtype=float)), window)
        n_days, n_min = days.shape
        offsets = np.arange(-pool_min, pool_min + 1)
        idx = (np.arange(n_min)[:, None] + offsets[None, :]) % n_min  # the day wraps at midnight
        pooled = days[:, idx].transpose(1, 0, 2).reshape(n_min, n_days * len(offsets))
        median = np.median(pooled, axis=1)
        mad = np.median(np.abs(pooled - median[:, None]), axis=1)
        return cls(median=median, mad=mad, floor=floor, window=window)

    def robust_z(self, minutes: np.ndarray | int, counts: np.ndarray | float) -> np.ndarray:
        m = np.asarray(minutes) % len(self.median)
        return (np.asarray(counts, dtype=float) - self.median[m]) / (MAD_TO_SD * self.mad[m] + self.floor)


@dataclass(frozen=True)
class Anomaly:
    minute: int
    observed: int
    expected: float
    robust_z: float

    @property
    def kind(self) -> str:
        return "surge" if self.robust_z > 0 else "drop"


def detect(baseline: SeasonalBaseline, minutes: np.ndarray, counts: np.ndarray,
           threshold: float = 5.0) -> list[Anomaly]:
    """The minutes whose windowed counts are ``threshold`` robust standard deviations away from usual."""
    minutes, counts = np.asarray(minutes), np.asarray(counts)
    z = baseline.robust_z(minutes, counts)
    hits = np.flatnonzero(np.abs(z) >= threshold)
    return [Anomaly(minute=int(minutes[i]), observed=int(counts[i]),
                    expected=float(baseline.median[minutes[i] % len(baseline.median)]), robust_z=float(z[i]))
            for i in hits]
