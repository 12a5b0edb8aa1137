"""Acceptance estimates per segment and offer: a Beta posterior each, sampled (Thompson) every round.

The prior is a guess (e.g. the calibrated choice model) worth ``strength`` answers; each accept adds
one to ``alpha``, each decline or expiry one to ``beta``. Sampling from the posterior instead of using its
mean keeps offering where the estimate is still uncertain, so a prior that is wrong gets corrected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_P = 1e-4
MAX_P = 1 - 1e-4


@dataclass
class AcceptanceEstimates:
    segments: tuple[str, ...]
    offers: tuple[str, ...]
    alpha: np.ndarray  # [segment, offer]
    beta: np.ndarray

    @classmethod
    def from_prior(cls, segments: tuple[str, ...], offers: tuple[str, ...], mean: np.ndarray,
                   strength: float = 20.0) -> AcceptanceEstimates:
        """A prior with the given mean per (segment, offer), as if ``strength`` answers had been seen."""
        mean = np.clip(np.asarray(mean, dtype=float), MIN_P, MAX_P)
        if mean.shape != (len(segments), len(offers)):
            raise ValueError(f"prior mean: shape {mean.shape}, expected {(len(segments), len(offers))}")
        if strength <= 0:
            raise ValueError("prior strength: must be positive")
        return cls(segments, offers, mean * strength, (1 - mean) * strength)

    def mean(self) -> np.ndarray:
        return np.asarray(self.alpha / (self.alpha + self.beta))

    def answers(self) -> np.ndarray:
        return np.asarray(self.alpha + self.beta)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One Thompson draw per (segment, offer)."""
        return np.clip(rng.beta(self.alpha, self.beta), MIN_P, MAX_P)

    def update(self, segment: int | np.ndarray, offer: int | np.ndarray, accepted: bool | np.ndarray) -> None:
        """Add answers (vectorised: arrays of segment index, offer index, accepted flag)."""
        seg, off, acc = np.broadcast_arrays(np.atleast_1d(segment), np.atleast_1d(offer), np.atleast_1d(accepted))
        acc = acc.astype(bool)
        np.add.at(self.alpha, (seg[acc], off[acc]), 1.0)
        np.add.at(self.beta, (seg[~acc], off[~acc]), 1.0)

    def record(self, segment: str, offer: str, accepted: bool) -> None:
        self.update(self.segments.index(segment), self.offers.index(offer), accepted)

    def snapshot(self) -> list[dict[str, object]]:
        """Rows for the report: the estimate and its evidence per (segment, offer)."""
        m, n = self.mean(), self.answers()
        return [{"segment": s, "offer": o, "mean": round(float(m[i, j]), 4), "answers": round(float(n[i, j]), 1)}
                for i, s in enumerate(self.segments) for j, o in enumerate(self.offers)]
