"""Anomalies in shops' sales and stock: surges, stock-outs and waste found on a stream with known truth."""

from __future__ import annotations

import pytest

from services.logistics.domain.anomalies import DayRecord, detect, precision_recall, synthetic_stream


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_injected_anomalies_are_found_with_high_precision_and_recall(seed):
    """On a seeded month with injected surges (x2.5-8), stock-outs and waste days, each rule is precise
    (>= 0.85) and finds most of what was injected (>= 0.85; surges >= 0.7: the smallest are noise-sized)."""
    records, truth = synthetic_stream(seed, shops=10, items=8)
    alerts = detect(records)
    for kind, real, min_recall in (("surge", truth.surges, 0.7), ("stockout", truth.stockouts, 0.95),
                                   ("waste", truth.waste, 0.85)):
        precision, recall = precision_recall(alerts, kind, real, after_day=7)
        assert precision >= 0.85 and recall >= min_recall, (kind, precision, recall)


def test_a_steady_shop_raises_nothing_and_a_jump_is_reported_with_its_evidence():
    """Two weeks of steady sales: no alert; then ten times the usual: a surge with observed and expected."""
    days = [DayRecord("s", "masks", d, 20 + d % 3, 40, 0) for d in range(14)]
    assert detect(days) == []
    alerts = detect([*days, DayRecord("s", "masks", 14, 200, 0, 0)])
    kinds = {a.kind for a in alerts}
    assert kinds == {"surge", "stockout"}
    surge = next(a for a in alerts if a.kind == "surge")
    assert surge.observed == 200 and 19 <= surge.expected <= 22 and surge.robust_z > 4
