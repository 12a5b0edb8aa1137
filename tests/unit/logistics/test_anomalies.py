"""Anomalies in shops' sales and stock: surges, stock-outs and waste found on a stream with known truth."""

from __future__ import annotations

import pytest

from services.logistics.domain.anomalies import (
    DayRecord,
    detect,
    detect_shift,
    judge,
    precision_recall,
    synthetic_stream,
)


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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_demand_moving_from_offices_to_homes_is_reported_from_its_first_day(seed):
    """Office shops fall to 70 % and home shops rise to 130 % from day 28: the home share's jump is a shift
    alert on the first day, every alert falls in the days before the trailing median absorbs it (surges of
    single items do not raise one), and a month without the move raises none."""
    records, truth = synthetic_stream(seed, shift_from=28)
    alerts = detect_shift(records)
    precision, _ = precision_recall(alerts, "shift", truth.shift)
    assert precision == 1.0, [(a.day, a.observed, a.expected) for a in alerts]
    first = min(alerts, key=lambda a: a.day)
    assert first.day == 28 and first.observed > first.expected + 0.05 and first.robust_z > 4
    quiet, _ = synthetic_stream(seed)
    assert detect_shift(quiet) == []


def test_one_day_is_judged_the_same_by_the_batch_and_the_live_rule():
    """`detect` is `judge` applied day by day: the live service and the report cannot disagree."""
    records, _ = synthetic_stream(4, shops=4, items=3)
    series = sorted((r for r in records if (r.shop, r.item) == ("shop-01", "item-02")), key=lambda r: r.day)
    live = [a for k in range(len(series)) for a in judge(series[:k], series[k])]
    assert live == [a for a in detect(records) if (a.shop, a.item) == ("shop-01", "item-02")]
